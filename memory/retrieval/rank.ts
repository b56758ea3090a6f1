import type { ScoreParts } from '../types.js';
import type { QueryPlan } from './query.js';

/** A memory that either retriever found, with what each one said about it. */
export interface Candidate {
  readonly id: number;
  readonly text: string;
  readonly role: string | null;
  readonly at: number;
  /** Rank in the BM25 list (1 = best). */
  textRank?: number;
  /** FTS5 bm25(): lower is better, negative. */
  bm25?: number;
  /** Rank in the KNN list (1 = best). */
  vectorRank?: number;
  /** Cosine similarity between the query vector and the memory's vector. */
  cosine?: number;
  /** Word-level late-interaction similarity. */
  lateInteraction?: number;
}

/** How much each signal counts. The defaults were chosen on LoCoMo and checked on hand-written paraphrases. */
export interface RankWeights {
  /** BM25, normalised by the best BM25 of the query. @default 0.35 */
  text: number;
  /** Cosine of pooled vectors. @default 0.2 */
  vector: number;
  /** Late interaction; its share moves to `vector` when the embedder has no word vectors. @default 0.45 */
  lateInteraction: number;
  /** Added when the memory's speaker is named in the query. @default 0.15 */
  speaker: number;
  /** Added when the memory falls in the period the query names. @default 0.25 */
  time: number;
  /** Added, at most, for being recent when the query asks for recent things. @default 0.1 */
  recency: number;
  /** Share of the best neighbouring turn's score added to a turn (a turn often needs its neighbours). @default 0.5 */
  context: number;
  /**
   * Scale of the learned ranker's score (memory/retrieval/ranker.json), which then replaces the hand-weighted sum;
   * 0 keeps the hand-weighted ranking (as does a build without the file). On by default: held out, it beats the
   * hand-weighted sum on LoCoMo (one conversation at a time), on PrefEval's topics it never saw, and on mnemo's own
   * paraphrased personal questions; the README has the figures and scripts/train-ranker.ts the protocol. @default 1
   */
  learned: number;
}

export const DEFAULT_WEIGHTS: RankWeights = {
  text: 0.35,
  vector: 0.2,
  lateInteraction: 0.45,
  speaker: 0.15,
  time: 0.25,
  recency: 0.1,
  context: 0.5,
  learned: 1,
};

export const RECENCY_HALF_LIFE_MS = 30 * 86_400_000;

/** Fuses the retrievers' signals with the query's names and time into one score per candidate. */
export function scoreCandidates(
  candidates: readonly Candidate[],
  plan: QueryPlan,
  now: Date,
  weights: RankWeights = DEFAULT_WEIGHTS,
): Array<{ candidate: Candidate; score: number; parts: ScoreParts }> {
  const bestBm25 = Math.max(1e-9, ...candidates.map((candidate) => -(candidate.bm25 ?? 0)));
  const hasLateInteraction = candidates.some((candidate) => candidate.lateInteraction !== undefined);
  const vectorWeight = hasLateInteraction ? weights.vector : weights.vector + weights.lateInteraction;
  const names = new Set(plan.names);
  return candidates.map((candidate) => {
    const fused =
      weights.text * (candidate.bm25 === undefined ? 0 : -candidate.bm25 / bestBm25) +
      vectorWeight * Math.max(0, candidate.cosine ?? 0) +
      (hasLateInteraction ? weights.lateInteraction * (candidate.lateInteraction ?? 0) : 0);
    const speaker = candidate.role !== null && names.has(candidate.role.toLowerCase()) ? weights.speaker : 0;
    let time = 0;
    if (plan.time && candidate.at >= plan.time.from.getTime() && candidate.at < plan.time.to.getTime())
      time += weights.time;
    if (plan.recent)
      time += weights.recency * 0.5 ** (Math.max(0, now.getTime() - candidate.at) / RECENCY_HALF_LIFE_MS);
    const parts: ScoreParts = {
      fused,
      ...(candidate.textRank !== undefined ? { textRank: candidate.textRank } : {}),
      ...(candidate.bm25 !== undefined ? { bm25: candidate.bm25 } : {}),
      ...(candidate.vectorRank !== undefined ? { vectorRank: candidate.vectorRank } : {}),
      ...(candidate.cosine !== undefined ? { cosine: candidate.cosine } : {}),
      ...(candidate.lateInteraction !== undefined ? { lateInteraction: candidate.lateInteraction } : {}),
      ...(speaker ? { speaker } : {}),
      ...(time ? { time } : {}),
    };
    return { candidate, score: fused + speaker + time, parts };
  });
}
