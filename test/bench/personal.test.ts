import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeEmbedder } from '../../memory/index.js';
import {
  loadPersonalSet,
  type PersonalFigures,
  type PersonalQuestionResult,
  type PersonalUser,
  personalFigures,
  runPersonalBench,
} from '../../src/bench/personal.js';
import { tempDir } from '../helpers/tmp.js';

const turn = (id: string, text: string, role = 'user') => ({ id, role, text });

// One user: a session that holds the facts, and a session of twelve near-identical dog walks that bury an
// unrelated turn for a question worded like the walks.
const toy: PersonalUser = {
  user: 'toy',
  askedAt: '2024-05-10T12:00:00Z',
  sessions: [
    {
      id: 'facts',
      at: '2024-05-01T09:00:00Z',
      turns: [
        turn('cello', 'my sister Maya plays the cello in an orchestra'),
        turn('reply', 'How lovely, does she perform often?', 'assistant'),
        turn('kiln', 'I fired my first pottery bowls in the kiln today'),
        turn('boiler', 'the boiler broke and the landlord is ignoring me'),
      ],
    },
    {
      id: 'walks',
      at: '2024-05-02T09:00:00Z',
      turns: Array.from({ length: 12 }, (_, index) =>
        turn(`walk${index}`, `walked the dog around the park this morning, lap ${index + 1}`),
      ),
    },
  ],
  questions: [
    // Worded as the evidence: first for any ranking.
    { question: 'my sister Maya plays the cello in an orchestra', evidence: ['cello'], category: 'paraphrase' },
    // Two turns cannot both be first, but both are in the top 5.
    {
      question: 'sister Maya cello orchestra, pottery bowls kiln',
      evidence: ['cello', 'kiln'],
      category: 'multi',
    },
    // Worded like the twelve walks: the boiler is not in the top 10.
    { question: 'walked the dog around the park this morning', evidence: ['boiler'], category: 'current' },
    // One of two evidence turns in the top 10: counts for any@10 only.
    { question: 'walked the dog around the park, the boiler broke', evidence: ['boiler', 'kiln'], category: 'multi' },
  ],
};

describe('runPersonalBench', () => {
  it('counts a question found at k only when all its evidence is in the top k', async () => {
    // The hand-weighted sum, whose ranking of this toy history the cases below were written for.
    const report = await runPersonalBench({ users: [toy], embedder: new FakeEmbedder({ dims: 256 }), learned: false });
    expect(report.handWeighted).toBeUndefined();
    expect(report).toMatchObject({ users: 1, sessions: 2, turns: 16, questions: 4 });
    const ranks = report.results.map((result) => result.ranks);
    expect(ranks[0]).toEqual([1]);
    expect(ranks[1]!.every((rank) => rank !== null && rank <= 5)).toBe(true);
    expect(ranks[2]).toEqual([null]);
    expect(ranks[3]![0]).not.toBeNull();
    expect(ranks[3]![1]).toBeNull();
    expect(report).toMatchObject({ recallAt1: 0.25, recallAt5: 0.5, recallAt10: 0.5, anyAt10: 0.75 });
    expect(report.byCategory).toEqual({
      paraphrase: { recallAt1: 1, recallAt5: 1, recallAt10: 1, anyAt10: 1, questions: 1 },
      current: { recallAt1: 0, recallAt5: 0, recallAt10: 0, anyAt10: 0, questions: 1 },
      multi: { recallAt1: 0, recallAt5: 0.5, recallAt10: 0.5, anyAt10: 1, questions: 2 },
    });
    // BM25 alone finds the verbatim question too, from the same run.
    expect(report.results[0]!.baselineRanks).toEqual([1]);
  });

  it('ranks with the learned ranker by default and reports the hand-weighted sum from the same run', async () => {
    const embedder = new FakeEmbedder({ dims: 256 });
    const learned = await runPersonalBench({ users: [toy], embedder });
    const hand = await runPersonalBench({ users: [toy], embedder, learned: false });
    expect(learned.handWeighted).toEqual(pickFigures(hand));
    expect(learned.results.map((result) => result.handWeightedRanks)).toEqual(hand.results.map((r) => r.ranks));
  });
});

const pickFigures = ({ recallAt1, recallAt5, recallAt10, anyAt10, questions, byCategory }: PersonalFigures) => ({
  recallAt1,
  recallAt5,
  recallAt10,
  anyAt10,
  questions,
  byCategory,
});

describe('personalFigures', () => {
  const result = (ranks: Array<number | null>, category: PersonalQuestionResult['category']) => ({
    user: 'u',
    question: 'q',
    category,
    evidence: ranks.map((_, index) => `t${index}`),
    ranks,
    baselineRanks: ranks.map(() => null),
  });

  it('scores recall at 1, 5 and 10 and any-evidence recall at 10', () => {
    const results = [
      result([1], 'paraphrase'),
      result([4], 'paraphrase'),
      result([7, 2], 'multi'),
      result([3, null], 'multi'),
      result([null], 'temporal'),
    ];
    expect(personalFigures(results, 'ranks')).toMatchObject({
      recallAt1: 0.2,
      recallAt5: 0.4,
      recallAt10: 0.6,
      anyAt10: 0.8,
      questions: 5,
      byCategory: {
        paraphrase: { recallAt1: 0.5, recallAt5: 1 },
        multi: { recallAt5: 0, recallAt10: 0.5, anyAt10: 1 },
      },
    });
    expect(personalFigures(results, 'baselineRanks')).toMatchObject({ recallAt10: 0, anyAt10: 0 });
  });
});

describe('loadPersonalSet', () => {
  it('reads one JSON file per user and refuses evidence that is not the user’s own turn', () => {
    const directory = tempDir();
    const other: PersonalUser = {
      ...toy,
      user: 'other',
      sessions: [{ ...toy.sessions[0]!, turns: [turn('x1', 'hi')] }],
    };
    writeFileSync(join(directory, 'toy.json'), JSON.stringify(toy));
    expect(loadPersonalSet(directory).map((user) => user.user)).toEqual(['toy']);
    writeFileSync(
      join(directory, 'other.json'),
      JSON.stringify({ ...other, questions: [{ question: 'what?', evidence: ['cello'], category: 'past' }] }),
    );
    expect(() => loadPersonalSet(directory)).toThrow(/other: "what\?" cites cello, a turn of toy/);
    writeFileSync(join(directory, 'other.json'), JSON.stringify({ ...other, questions: [{ question: 'what?' }] }));
    expect(() => loadPersonalSet(directory)).toThrow(/other\.json: questions\.0\.evidence/);
  });
});
