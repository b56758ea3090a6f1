import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isContentToken, tokenize } from '../../memory/index.js';
import {
  loadPersonalSet,
  PERSONAL_CATEGORIES,
  type PersonalUser,
  personalSetProblems,
} from '../../src/bench/personal.js';

// The held-out personal set `mnemo bench personal` reads: its shape is checked here so that a figure from it means
// what the README says (questions in the user's own words, evidence that exists, distractors around it).
const users = loadPersonalSet(join(import.meta.dirname, '../fixtures/personal'));
const turnsOf = (user: PersonalUser) => user.sessions.flatMap((session) => session.turns);

/** The content words of a text: lemma and surface form of each token that is neither punctuation nor a stop word. */
const contentWords = (text: string) => tokenize(text).filter((token) => isContentToken(token) && !token.stop);

/** Share of the question's content words that the evidence turns also contain (as written or as a lemma). */
function overlap(question: string, evidence: readonly string[]): number {
  const words = contentWords(question);
  const present = new Set(
    evidence.flatMap((text) => contentWords(text).flatMap((token) => [token.normal, token.lemma])),
  );
  return words.filter((token) => present.has(token.normal) || present.has(token.lemma)).length / words.length;
}

describe('the personal paraphrase set', () => {
  it('has at least 6 users and 60 questions, and every category at least 5 times', () => {
    expect(users.length).toBeGreaterThanOrEqual(6);
    const questions = users.flatMap((user) => user.questions);
    expect(questions.length).toBeGreaterThanOrEqual(60);
    for (const category of Object.keys(PERSONAL_CATEGORIES))
      expect(questions.filter((question) => question.category === category).length, category).toBeGreaterThanOrEqual(5);
  });

  it('gives every user 3 to 6 dated sessions of 40 to 80 turns in all, most of them not evidence', () => {
    for (const user of users) {
      expect(user.sessions.length, user.user).toBeGreaterThanOrEqual(3);
      expect(user.sessions.length, user.user).toBeLessThanOrEqual(6);
      const turns = turnsOf(user);
      expect(turns.length, user.user).toBeGreaterThanOrEqual(40);
      expect(turns.length, user.user).toBeLessThanOrEqual(80);
      const evidence = new Set(user.questions.flatMap((question) => question.evidence));
      expect(evidence.size / turns.length, user.user).toBeLessThan(0.3);
      const dates = [...user.sessions.map((session) => Date.parse(session.at)), Date.parse(user.askedAt)];
      expect(dates, `${user.user}: sessions in order, questions asked after the last`).toEqual(
        [...dates].sort((a, b) => a - b),
      );
    }
  });

  it('cites only turns of the asking user, with turn ids unique across the set', () => {
    expect(personalSetProblems(users)).toEqual([]);
    const ids = users.flatMap((user) => turnsOf(user).map((turn) => turn.id));
    expect(new Set(ids).size).toBe(ids.length);
    for (const user of users) {
      const own = new Set(turnsOf(user).map((turn) => turn.id));
      for (const question of user.questions)
        for (const id of question.evidence)
          expect(own.has(id), `${user.user}: ${question.question} -> ${id}`).toBe(true);
    }
  });

  it("asks first-person questions only over group chats, answered by the user's own turns", () => {
    const withFriends = users.filter((user) =>
      turnsOf(user).some((turn) => turn.role !== 'user' && turn.role !== 'assistant'),
    );
    expect(withFriends.length).toBeGreaterThanOrEqual(2);
    for (const user of users) {
      const roles = new Map(turnsOf(user).map((turn) => [turn.id, turn.role]));
      for (const question of user.questions.filter((question) => question.category === 'first-person')) {
        expect(withFriends, question.question).toContain(user);
        for (const id of question.evidence) expect(roles.get(id), question.question).toBe('user');
      }
    }
  });

  it('has at least two evidence turns for every multi question and one for the others', () => {
    for (const question of users.flatMap((user) => user.questions))
      if (question.category === 'multi') expect(question.evidence.length, question.question).toBeGreaterThanOrEqual(2);
      else expect(question.evidence, question.question).toHaveLength(1);
  });

  it("words its questions unlike their evidence: on average under 30% of a question's content words recur", () => {
    const shares = users.flatMap((user) => {
      const text = new Map(turnsOf(user).map((turn) => [turn.id, turn.text]));
      return user.questions.map((question) => {
        expect(contentWords(question.question).length, question.question).toBeGreaterThan(0);
        return overlap(
          question.question,
          question.evidence.map((id) => text.get(id)!),
        );
      });
    });
    const average = shares.reduce((sum, share) => sum + share, 0) / shares.length;
    expect(average, `mean word overlap ${average.toFixed(3)}`).toBeLessThan(0.3);
  });

  it('carries its licence and hold-out notice in every file', () => {
    for (const user of users) {
      expect(user.notice, user.user).toMatch(/MIT license/);
      expect(user.notice, user.user).toMatch(/never used to train or tune/);
    }
  });
});
