import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Embedder, EpisodeInput } from '../../memory/index.js';
import { InputError, parseTime, userScope } from '../../memory/index.js';
import { openStore } from '../storage.js';
import { BM25_ONLY, usesLearnedRanker } from './baselines.js';
import { latencySummary, mean } from './stats.js';

/** What each category of personal question tests. */
export const PERSONAL_CATEGORIES = {
  paraphrase: 'the fact in other words (synonyms, another phrasing)',
  hypernym: 'a general word for what the evidence names ("pet" for a border collie, "vehicle" for a Škoda)',
  current: 'a fact that changed: its present state',
  past: 'a fact that changed: its earlier state',
  temporal: 'a time named relative to when the question is asked ("last weekend") or a month',
  multi: 'needs two turns, both must be found',
  'first-person': 'a group chat where friends say similar things: "my", "I" and "me" mean the user',
} as const;

export type PersonalCategory = keyof typeof PERSONAL_CATEGORIES;

const isoDate = z.string().refine((value) => !Number.isNaN(parseTime(value)), 'must be an ISO-8601 date');
const nonEmpty = z.string().trim().min(1);

const PersonalUserSchema = z.object({
  /** Licence and hold-out notice of the file; not used by the bench. */
  notice: z.string().optional(),
  /** The user's id: episodes are stored under `personal:<user>`. */
  user: nonEmpty,
  /** One line about who the simulated user is. */
  about: z.string().optional(),
  /** When the questions are asked: the "now" that relative phrases ("last weekend") are read from. */
  askedAt: isoDate,
  sessions: z
    .array(
      z.object({
        id: nonEmpty,
        /** When the session started; its turns follow one minute apart. */
        at: isoDate,
        turns: z
          .array(
            z.object({
              id: nonEmpty,
              /** `user`, `assistant`, or a friend's name in an imported group chat. */
              role: nonEmpty,
              text: nonEmpty,
            }),
          )
          .min(1),
      }),
    )
    .min(1),
  questions: z.array(
    z.object({
      question: nonEmpty,
      /** Ids of the turns that answer it; all of them are needed. */
      evidence: z.array(nonEmpty).min(1),
      category: z.enum(Object.keys(PERSONAL_CATEGORIES) as [PersonalCategory, ...PersonalCategory[]]),
    }),
  ),
});

/** One simulated user: a multi-session history and questions about it in the user's own words. */
export type PersonalUser = z.infer<typeof PersonalUserSchema>;
export type PersonalQuestion = PersonalUser['questions'][number];

/**
 * What is wrong with a set, one line each (empty when nothing is): turn ids must be unique across the set, every
 * evidence id must be a turn of the question's own user, and session ids unique within a user.
 */
export function personalSetProblems(users: readonly PersonalUser[]): string[] {
  const problems: string[] = [];
  const owner = new Map<string, string>();
  const names = new Set<string>();
  for (const user of users) {
    if (names.has(user.user)) problems.push(`user ${user.user} appears twice`);
    names.add(user.user);
    const sessions = new Set<string>();
    for (const session of user.sessions) {
      if (sessions.has(session.id)) problems.push(`${user.user}: session id ${session.id} appears twice`);
      sessions.add(session.id);
      for (const turn of session.turns) {
        if (owner.has(turn.id)) problems.push(`${user.user}: turn id ${turn.id} appears twice`);
        else owner.set(turn.id, user.user);
      }
    }
  }
  for (const user of users)
    for (const question of user.questions)
      for (const id of question.evidence) {
        const belongs = owner.get(id);
        if (belongs !== user.user)
          problems.push(
            `${user.user}: "${question.question}" cites ${id}, ${belongs ? `a turn of ${belongs}` : 'which no turn has'}`,
          );
      }
  return problems;
}

/** Reads a personal set: a directory of JSON files (one user each, read in name order) or one such file. */
export function loadPersonalSet(path: string): PersonalUser[] {
  let files: string[];
  try {
    files = statSync(path).isDirectory()
      ? readdirSync(path)
          .filter((name) => name.endsWith('.json'))
          .sort()
          .map((name) => join(path, name))
      : [path];
  } catch (error) {
    throw new InputError(`cannot read the personal set at ${path}: ${(error as Error).message}`, { cause: error });
  }
  if (files.length === 0) throw new InputError(`${path} holds no .json files`);
  const users = files.map((file) => {
    let value: unknown;
    try {
      value = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new InputError(`cannot read ${file}: ${(error as Error).message}`, { cause: error });
    }
    const parsed = PersonalUserSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new InputError(`${file}: ${issue.path.join('.') || 'the file'} ${issue.message}`);
    }
    return parsed.data;
  });
  const problems = personalSetProblems(users);
  if (problems.length > 0) throw new InputError(`the personal set at ${path} is inconsistent:\n${problems.join('\n')}`);
  return users;
}

/** A user's turns as episodes: role kept, the session's date plus a minute per turn, the turn id as source id. */
export function personalEpisodes(user: PersonalUser): EpisodeInput[] {
  return user.sessions.flatMap((session) => {
    const start = parseTime(session.at);
    return session.turns.map((turn, index) => ({
      text: turn.text,
      role: turn.role,
      at: new Date(start + index * 60_000),
      session: session.id,
      sourceId: turn.id,
    }));
  });
}

/** Shares of questions found: at k when every evidence turn is in the top k; `anyAt10` when at least one is. */
export interface PersonalRecall {
  recallAt1: number;
  recallAt5: number;
  recallAt10: number;
  anyAt10: number;
  questions: number;
}

export interface PersonalFigures extends PersonalRecall {
  byCategory: Partial<Record<PersonalCategory, PersonalRecall>>;
}

/** How one question fared: the 1-based rank of each evidence turn in the top 10, null when absent. */
export interface PersonalQuestionResult {
  user: string;
  question: string;
  category: PersonalCategory;
  evidence: string[];
  ranks: Array<number | null>;
  baselineRanks: Array<number | null>;
  /** The hand-weighted sum's ranks, when the learned ranker ranked. */
  handWeightedRanks?: Array<number | null>;
}

export interface PersonalReport extends PersonalFigures {
  users: number;
  sessions: number;
  turns: number;
  embedder: string;
  /** Plain BM25 over the same index and questions, in the same run. */
  baseline: PersonalFigures;
  /** The hand-weighted sum in the same run, when the learned ranker ranked. */
  handWeighted?: PersonalFigures;
  searchLatencyMs: { p50: number; p95: number };
  seconds: number;
  results: PersonalQuestionResult[];
}

/** Options of {@link runPersonalBench}. */
export interface PersonalBenchOptions {
  users: readonly PersonalUser[];
  embedder: Embedder;
  /**
   * Rank with the shipped learned ranker, as search does by default (the report then adds the hand-weighted sum from
   * the same run); `false` ranks with the hand-weighted sum. @default true when the build ships a ranker
   */
  learned?: boolean | undefined;
  onProgress?: (progress: { phase: string; done: number; total: number }) => void;
}

const CUTOFF = 10;

/**
 * Recall of mnemo's search on personal questions: each user's history stored as that user, each question searched
 * as `mnemo search` does, at the moment the user asks, with a BM25-only baseline from the same index.
 */
export async function runPersonalBench(options: PersonalBenchOptions): Promise<PersonalReport> {
  const started = performance.now();
  const total = options.users.reduce((sum, user) => sum + user.questions.length, 0);
  let now = new Date();
  const store = await openStore(':memory:', { embedder: options.embedder, clock: () => now });
  const learned = usesLearnedRanker(options.learned);
  const results: PersonalQuestionResult[] = [];
  const latencies: number[] = [];
  let turns = 0;
  try {
    for (const user of options.users) {
      options.onProgress?.({ phase: `user ${user.user}`, done: results.length, total });
      now = new Date(user.askedAt);
      const scope = userScope(`personal:${user.user}`);
      const episodes = personalEpisodes(user);
      turns += episodes.length;
      await store.addEpisodes(scope, episodes);
      for (const { question, evidence, category } of user.questions) {
        const before = performance.now();
        const hits = await store.search([scope], question, {
          k: CUTOFF,
          weights: { learned: learned ? 1 : 0 },
        });
        latencies.push(performance.now() - before);
        const plain = await store.search([scope], question, { k: CUTOFF, weights: BM25_ONLY });
        const hand = learned
          ? await store.search([scope], question, { k: CUTOFF, weights: { learned: 0 } })
          : undefined;
        const ranksIn = (ranked: ReadonlyArray<{ memory: { sourceId: string | null } }>) => {
          const ids = ranked.map((hit) => hit.memory.sourceId);
          return evidence.map((id) => (ids.includes(id) ? ids.indexOf(id) + 1 : null));
        };
        results.push({
          user: user.user,
          question,
          category,
          evidence,
          ranks: ranksIn(hits),
          baselineRanks: ranksIn(plain),
          ...(hand ? { handWeightedRanks: ranksIn(hand) } : {}),
        });
        options.onProgress?.({ phase: `user ${user.user}`, done: results.length, total });
      }
    }
  } finally {
    await store.close();
  }
  return {
    ...personalFigures(results, 'ranks'),
    users: options.users.length,
    sessions: options.users.reduce((sum, user) => sum + user.sessions.length, 0),
    turns,
    embedder: options.embedder.id,
    baseline: personalFigures(results, 'baselineRanks'),
    ...(learned ? { handWeighted: personalFigures(results, 'handWeightedRanks') } : {}),
    searchLatencyMs: latencySummary(latencies),
    seconds: Math.round((performance.now() - started) / 100) / 10,
    results,
  };
}

/** Recall figures of a set of results, overall and by category, from one of its two rankings. */
export function personalFigures(
  results: readonly PersonalQuestionResult[],
  which: 'ranks' | 'baselineRanks' | 'handWeightedRanks',
): PersonalFigures {
  const recall = (rows: readonly PersonalQuestionResult[]): PersonalRecall => {
    const foundAt = (k: number) =>
      round(mean(rows.map((row) => ((row[which] ?? []).every((rank) => rank !== null && rank <= k) ? 1 : 0))));
    return {
      recallAt1: foundAt(1),
      recallAt5: foundAt(5),
      recallAt10: foundAt(CUTOFF),
      anyAt10: round(mean(rows.map((row) => ((row[which] ?? []).some((rank) => rank !== null) ? 1 : 0)))),
      questions: rows.length,
    };
  };
  const byCategory: PersonalFigures['byCategory'] = {};
  for (const category of Object.keys(PERSONAL_CATEGORIES) as PersonalCategory[]) {
    const rows = results.filter((row) => row.category === category);
    if (rows.length > 0) byCategory[category] = recall(rows);
  }
  return { ...recall(results), byCategory };
}

const round = (value: number): number => Math.round(value * 1000) / 1000;
