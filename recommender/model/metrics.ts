/** Error and ranking metrics shared by the benchmark and the tests. */

/** Root mean squared error and mean absolute error of predictions against truth. */
export function errorMetrics(predicted: ArrayLike<number>, truth: ArrayLike<number>): { rmse: number; mae: number } {
  let squared = 0;
  let absolute = 0;
  for (let index = 0; index < truth.length; index++) {
    const error = predicted[index]! - truth[index]!;
    squared += error * error;
    absolute += Math.abs(error);
  }
  const count = Math.max(1, truth.length);
  return { rmse: Math.sqrt(squared / count), mae: absolute / count };
}

/**
 * 0-based rank of the item at `positive` among `candidates` by `scores` (higher first). Ties count against the
 * positive: an all-equal scorer does not get lucky.
 */
export function rankOf(scores: ArrayLike<number>, positive: number, candidates: ArrayLike<number>): number {
  const target = scores[positive]!;
  let rank = 0;
  for (let index = 0; index < candidates.length; index++) {
    const candidate = candidates[index]!;
    if (candidate !== positive && scores[candidate]! >= target) rank++;
  }
  return rank;
}

/** Hit at 10 and NDCG at 10 of one held-out positive at a 0-based rank. */
export function hitAndGain(rank: number, cutoff = 10): { hit: number; gain: number } {
  return rank < cutoff ? { hit: 1, gain: 1 / Math.log2(rank + 2) } : { hit: 0, gain: 0 };
}
