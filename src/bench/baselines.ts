import type { RankWeights } from '../../memory/index.js';

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
