import { readFileSync } from 'node:fs';
import type { QueryPlan } from './query.js';
import { parseTreeEnsemble, type TreeEnsemble, treeEnsembleScore } from './trees.js';

/**
 * A learned re-scoring of the candidate pool, after the session-context stage: gradient-boosted trees over cheap
 * features of each candidate and its pool, trained offline (scripts/train-ranker.ts) and shipped as `ranker.json`
 * beside this file. Without the file, or with `RankWeights.learned` at 0, ranking is exactly the hand-weighted sum.
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
  'ownTurn',
  'assistantTurn',
  'selfStatement',
  'stance',
  'queryFirstPerson',
  'queryAdvice',
  'previousOwn',
  'nextOwn',
  'answersQuestion',
  'feedback',
  'termCoverage',
  'windowCoverage',
  'sessionCoverage',
] as const;

export type RankingFeature = (typeof RANKING_FEATURES)[number];

/** The shipped model (`ranker.json`): gradient-boosted trees over {@link RANKING_FEATURES}. */
export interface LearnedRanker {
  readonly features: readonly RankingFeature[];
  readonly model: TreeEnsemble;
  /** How it was trained and which figures may be reported (held-out only). */
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
  /** The own score of the turn before it in its session, and of the turn after (0 when not in the pool). */
  readonly previousOwn?: number;
  readonly nextOwn?: number;
  /** Whether the turn before it asks a question (so this turn may be the answer). */
  readonly previousAsks?: boolean;
  /** The embedder's word ids of its text, for pseudo-relevance feedback and query coverage. */
  readonly words?: Int32Array | undefined;
  /** The word ids of the turns before and after it in its session, when loaded. */
  readonly previousWords?: Int32Array | undefined;
  readonly nextWords?: Int32Array | undefined;
}

/** What feature extraction knows of the embedder's vocabulary, when it has word vectors. */
export interface RankingVocabulary {
  /** A word's weight (SIF: rarer words weigh more). */
  wordWeight(id: number): number;
  /** The query's content words. */
  readonly queryWords: Int32Array;
}

/** Which of the query's words a text holds, one flag per query word. */
function queryWordsIn(queryWords: Int32Array, words: Int32Array | undefined): Uint8Array {
  const present = new Uint8Array(queryWords.length);
  if (!words) return present;
  for (const id of words) for (let q = 0; q < queryWords.length; q++) if (queryWords[q] === id) present[q] = 1;
  return present;
}

/**
 * How much of the query each candidate covers on its own, with its neighbours (the answer is often the turn after
 * the question that names the topic), and with all of its session's candidates (a session about the whole question):
 * each the weighted share of the query's words found there.
 */
function coverageScores(pool: readonly RankingInput[], vocabulary: RankingVocabulary | undefined): number[][] {
  const { queryWords } = vocabulary ?? { queryWords: new Int32Array(0) };
  if (!vocabulary || queryWords.length === 0) return pool.map(() => [0, 0, 0]);
  const weights = Array.from(queryWords, (id) => vocabulary.wordWeight(id));
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  const own = pool.map((entry) => queryWordsIn(queryWords, entry.words));
  const session = new Map<string, Uint8Array>();
  for (const [index, entry] of pool.entries()) {
    if (!entry.session) continue;
    const found = session.get(entry.session) ?? new Uint8Array(queryWords.length);
    for (let q = 0; q < found.length; q++) found[q]! |= own[index]![q]!;
    session.set(entry.session, found);
  }
  const share = (...present: Array<Uint8Array | undefined>): number => {
    if (total <= 0) return 0;
    let covered = 0;
    for (let q = 0; q < weights.length; q++) if (present.some((flags) => flags?.[q])) covered += weights[q]!;
    return covered / total;
  };
  return pool.map((entry, index) => {
    const window = [
      own[index]!,
      queryWordsIn(queryWords, entry.previousWords),
      queryWordsIn(queryWords, entry.nextWords),
    ];
    return [
      share(own[index]),
      share(...window),
      share(...window, entry.session ? session.get(entry.session) : undefined),
    ];
  });
}

/** How many of the best candidates pseudo-relevance feedback reads. */
const FEEDBACK_DOCUMENTS = 5;

/**
 * Pseudo-relevance feedback: the weighted share of a candidate's words that the best other candidates also hold.
 * The best hits name what the question is about (people, places, the thing asked after) in words the question may
 * not use. A candidate never counts as its own feedback.
 */
function feedbackScores(pool: readonly RankingInput[], vocabulary: RankingVocabulary | undefined): number[] {
  if (!vocabulary) return pool.map(() => 0);
  const top = pool
    .map((entry, index) => ({ index, score: entry.score }))
    .sort((a, b) => b.score - a.score)
    .slice(0, FEEDBACK_DOCUMENTS)
    .map(({ index }) => index);
  const unique = pool.map((entry) => distinct(entry.words));
  const documents = new Map<number, number>();
  for (const index of top) for (const id of unique[index]!) documents.set(id, (documents.get(id) ?? 0) + 1);
  return pool.map((_, index) => {
    const self = top.includes(index);
    let shared = 0;
    let total = 0;
    for (const id of unique[index]!) {
      const weight = vocabulary.wordWeight(id);
      total += weight;
      const others = (documents.get(id) ?? 0) - (self ? 1 : 0);
      if (others > 0) shared += weight * Math.min(1, others / 2);
    }
    return total > 0 ? shared / total : 0;
  });
}

/** A text's word ids, each once (sorted: cheaper than a Set for the few dozen words of a turn). */
function distinct(words: Int32Array | undefined): Int32Array {
  if (!words || words.length === 0) return new Int32Array(0);
  const sorted = Int32Array.from(words).sort();
  return sorted.filter((id, index) => index === 0 || id !== sorted[index - 1]);
}

const FIRST_PERSON = /\b(i|me|my|mine|myself)\b/i;
/** The role of the user's own turns; anything else is the assistant or another speaker of an imported chat. */
export const USER_ROLE = 'user';
const ASSISTANT_ROLE = 'assistant';
/** Words of liking, aversion or need: how people state what they prefer, whatever it is about. */
const STANCE =
  /\b(?:like|likes|liked|love|loves|loved|prefer\w*|enjoy\w*|favou?rite|fan of|into|hate\w*|avoid\w*|dislike\w*|allerg\w*|intoleran\w*|can't stand|cannot stand|aversion|rather|never|always|must|need)\b/i;
/** A question asking for advice or a pick, which what the asker likes or avoids should shape. */
const ADVICE =
  /\b(?:recommend\w*|suggest\w*|should|advice|advise|ideas?|tips?|options?|help me|looking for|plan\w*|best|good)\b/i;

/** Whether a query speaks of the asker ("my dog", "what do I ..."). */
export const isFirstPerson = (plan: QueryPlan): boolean => FIRST_PERSON.test(plan.text);

/** The feature vectors of a candidate pool, in {@link RANKING_FEATURES} order. */
export function rankingFeatures(
  pool: readonly RankingInput[],
  plan: QueryPlan,
  vocabulary?: RankingVocabulary,
): number[][] {
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
  const advice = ADVICE.test(plan.text) ? 1 : 0;
  const feedback = feedbackScores(pool, vocabulary);
  const covered = coverageScores(pool, vocabulary);
  return pool.map((entry, index) => {
    const session = entry.session ? sessions.get(entry.session) : undefined;
    const role = entry.role?.toLowerCase();
    const own = role === USER_ROLE;
    const question = entry.text.includes('?');
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
      question ? 1 : 0,
      entry.text.includes('[shares a photo:') ? 1 : 0,
      firstPerson && own ? 1 : 0,
      firstPerson && !own && entry.role !== null ? 1 : 0,
      own ? 1 : 0,
      role === ASSISTANT_ROLE ? 1 : 0,
      !question && FIRST_PERSON.test(entry.text) ? 1 : 0,
      STANCE.test(entry.text) ? 1 : 0,
      firstPerson ? 1 : 0,
      advice,
      entry.previousOwn ?? 0,
      entry.nextOwn ?? 0,
      entry.previousAsks ? 1 : 0,
      feedback[index]!,
      ...covered[index]!,
    ];
  });
}

/** The model's score of one feature vector (a logit: higher ranks first). */
export const learnedScore = (ranker: LearnedRanker, features: readonly number[]): number =>
  treeEnsembleScore(ranker.model, features);

/** Checks a parsed `ranker.json` against the features this code computes. */
export function parseLearnedRanker(value: unknown): LearnedRanker {
  const ranker = value as Partial<LearnedRanker> | null;
  const sameFeatures =
    Array.isArray(ranker?.features) &&
    ranker.features.length === RANKING_FEATURES.length &&
    ranker.features.every((name, index) => name === RANKING_FEATURES[index]);
  if (!ranker || !sameFeatures)
    throw new Error(`ranker model does not match the features (${RANKING_FEATURES.join(', ')})`);
  return {
    features: [...RANKING_FEATURES],
    model: parseTreeEnsemble(ranker.model, RANKING_FEATURES.length),
    protocol: ranker.protocol,
  };
}

/** Where the shipped model lives. */
export const RANKER_FILE = new URL('./ranker.json', import.meta.url);

let shipped: { model: LearnedRanker | undefined } | undefined;

/**
 * The shipped model, read on first use; undefined when none is shipped (a build that did not copy it): ranking is
 * then the hand-weighted sum. A shipped file that does not match the features throws, on every call.
 */
export function shippedRanker(): LearnedRanker | undefined {
  if (shipped) return shipped.model;
  let text: string;
  try {
    text = readFileSync(RANKER_FILE, 'utf8');
  } catch {
    shipped = { model: undefined };
    return undefined;
  }
  const model = parseLearnedRanker(JSON.parse(text));
  shipped = { model };
  return model;
}

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
