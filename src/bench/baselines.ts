import { InputError, type RankWeights, shippedRanker } from '../../memory/index.js';

/**
 * Whether a bench ranks with the learned ranker, as search does by default when the build ships one; `false` asks for
 * the hand-weighted sum. Asking for it in a build without one is an error rather than a silent fallback.
 */
export function usesLearnedRanker(asked: boolean | undefined): boolean {
  if (asked === false) return false;
  if (shippedRanker() !== undefined) return true;
  if (asked === true) throw new InputError('this build has no learned ranker (memory/retrieval/ranker.json)');
  return false;
}

/**
 * The weights that turn hybrid search into plain BM25 (no vectors, no boosts), for the baseline row every retrieval
 * bench prints beside mnemo's figures from the same run.
 */
export const BM25_ONLY: Partial<RankWeights> = {
  vector: 0,
  lateInteraction: 0,
  speaker: 0,
  time: 0,
  recency: 0,
  context: 0,
  learned: 0,
};
