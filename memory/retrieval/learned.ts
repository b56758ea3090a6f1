import { readFileSync } from 'node:fs';
import type { QueryPlan } from './query.js';

/**
 * A learned linear re-scoring of the candidate pool, after the session-context stage. The weights are trained
 * offline (scripts/train-ranker.ts) and shipped as `ranker.json` beside this file; without the file, or with
 * `RankWeights.learned` at 0, ranking is exactly the hand-weighted sum.
 */

/** The features, in the order a model's weights follow. Changing them means retraining. */
export const RANKING_FEATURES = [
  'bm25',
  'textRank',
  'cosine',
  'vectorRank',
  'lateInteraction',
  'speaker',
  'time',
  'recency',
  'fused',
  'score',
  'scoreRank',
  'bestNeighbour',
  'sessionMax',
  'sessionMean',
  'sessionCount',
  'length',
  'question',
  'photo',
  'firstPersonOwn',
  'firstPersonOther',
] as const;

export type RankingFeature = (typeof RANKING_FEATURES)[number];

/** A linear model over standardised features, as shipped in `ranker.json`. */
export interface LearnedRanker {
  readonly features: readonly RankingFeature[];
  /** Mean of each feature on the training pool, subtracted before weighting. */
  readonly mean: readonly number[];
  /** Standard deviation of each feature on the training pool (1 where constant). */
  readonly scale: readonly number[];
  readonly weights: readonly number[];
  /** How the weights were trained and which figures may be reported (held-out only). */
  readonly protocol?: unknown;
}

/** What a candidate brings to feature extraction. */
export interface RankingInput {
  readonly text: string;
  readonly role: string | null;
  readonly session: string | null | undefined;
  readonly bm25?: number | undefined;
  readonly textRank?: number | undefined;
  readonly cosine?: number | undefined;
  readonly vectorRank?: number | undefined;
  readonly lateInteraction?: number | undefined;
  readonly speaker: number;
  readonly time: number;
  readonly recency: number;
  readonly fused: number;
  /** The candidate's own score before the context boost. */
  readonly own: number;
  /** The hand-weighted final score (own + context). */
  readonly score: number;
  /** Best score among its session neighbours (0 when it has none). */
  readonly bestNeighbour: number;
}

const FIRST_PERSON = /\b(i|me|my|mine|myself)\b/i;
/** The role of the user's own turns; anything else is the assistant or another speaker of an imported chat. */
const USER_ROLE = 'user';

/** Whether a query speaks of the asker ("my dog", "what do I ..."). */
export const isFirstPerson = (plan: QueryPlan): boolean => FIRST_PERSON.test(plan.text);

/** The feature vectors of a candidate pool, in {@link RANKING_FEATURES} order. */
export function rankingFeatures(pool: readonly RankingInput[], plan: QueryPlan): number[][] {
  const bestBm25 = Math.max(1e-9, ...pool.map((entry) => -(entry.bm25 ?? 0)));
  // Session-level evidence: a session whose turns match the question as a whole is where the answer tends to be.
  const sessions = new Map<string, { max: number; sum: number; count: number }>();
  for (const entry of pool) {
    if (!entry.session) continue;
    const session = sessions.get(entry.session) ?? { max: 0, sum: 0, count: 0 };
    session.max = Math.max(session.max, entry.own);
    session.sum += entry.own;
    session.count++;
    sessions.set(entry.session, session);
  }
  // Tied scores share a rank (1 + how many score higher), so the feature does not depend on the order the backend
  // returned the rows in.
  const descending = pool.map((entry) => entry.score).sort((a, b) => b - a);
  const rankOf = (score: number): number => {
    let low = 0;
    let high = descending.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (descending[middle]! > score) low = middle + 1;
      else high = middle;
    }
    return low + 1;
  };
  const firstPerson = isFirstPerson(plan);
  return pool.map((entry) => {
    const session = entry.session ? sessions.get(entry.session) : undefined;
    const own = entry.role?.toLowerCase() === USER_ROLE;
    return [
      entry.bm25 === undefined ? 0 : -entry.bm25 / bestBm25,
      entry.textRank === undefined ? 0 : 1 / Math.log2(1 + entry.textRank),
      entry.cosine ?? 0,
      entry.vectorRank === undefined ? 0 : 1 / Math.log2(1 + entry.vectorRank),
      entry.lateInteraction ?? 0,
      entry.speaker > 0 ? 1 : 0,
      entry.time > 0 ? 1 : 0,
      entry.recency,
      entry.fused,
      entry.score,
      1 / Math.log2(1 + rankOf(entry.score)),
      entry.bestNeighbour,
      session ? session.max : entry.own,
      session ? session.sum / session.count : entry.own,
      Math.log1p(session ? session.count : 1),
      Math.log1p(entry.text.split(/\s+/).length),
      entry.text.includes('?') ? 1 : 0,
      entry.text.includes('[shares a photo:') ? 1 : 0,
      firstPerson && own ? 1 : 0,
      firstPerson && !own && entry.role !== null ? 1 : 0,
    ];
  });
}

/** The model's score of one feature vector. */
export function learnedScore(model: LearnedRanker, features: readonly number[]): number {
  let total = 0;
  for (let i = 0; i < model.weights.length; i++)
    total += model.weights[i]! * ((features[i]! - model.mean[i]!) / model.scale[i]!);
  return total;
}

/** Checks a parsed `ranker.json` against the features this code computes. */
export function parseLearnedRanker(value: unknown): LearnedRanker {
  const model = value as Partial<LearnedRanker> | null;
  const sameFeatures =
    Array.isArray(model?.features) &&
    model.features.length === RANKING_FEATURES.length &&
    model.features.every((name, index) => name === RANKING_FEATURES[index]);
  const numbers = (list: unknown): boolean =>
    Array.isArray(list) &&
    list.length === RANKING_FEATURES.length &&
    list.every((item) => typeof item === 'number' && Number.isFinite(item));
  if (!model || !sameFeatures || !numbers(model.mean) || !numbers(model.scale) || !numbers(model.weights))
    throw new Error(`ranker model does not match the features (${RANKING_FEATURES.join(', ')})`);
  if (model.scale!.some((scale) => scale <= 0)) throw new Error('ranker model has a non-positive feature scale');
  return model as LearnedRanker;
}

/** Where the shipped model lives. */
export const RANKER_FILE = new URL('./ranker.json', import.meta.url);

function loadShipped(): LearnedRanker | undefined {
  let text: string;
  try {
    text = readFileSync(RANKER_FILE, 'utf8');
  } catch {
    // No shipped model (or a build that did not copy it): the hand-weighted ranking, as before.
    return undefined;
  }
  return parseLearnedRanker(JSON.parse(text));
}

/** The shipped model, loaded once at import; undefined when none is shipped. */
export const SHIPPED_RANKER: LearnedRanker | undefined = loadShipped();

/** One ranked pool's features, for offline training. */
export interface RankingRecord {
  readonly query: string;
  readonly ids: readonly number[];
  /** Each candidate's source id (LoCoMo's dia_id in the bench), to match it against evidence. */
  readonly sourceIds: readonly (string | null)[];
  readonly features: readonly (readonly number[])[];
  /** The hand-weighted score of each candidate. */
  readonly scores: readonly number[];
}

let recorder: ((record: RankingRecord) => void) | undefined;

/**
 * Hands every ranked pool's features to `record` until the returned function is called. Offline training only:
 * it is process-wide, so it must not be left on in a server.
 */
export function recordRankingFeatures(record: (record: RankingRecord) => void): () => void {
  recorder = record;
  return () => {
    if (recorder === record) recorder = undefined;
  };
}

/** The active recorder, if training is collecting features. */
export const rankingRecorder = (): ((record: RankingRecord) => void) | undefined => recorder;
