import type { SparseRows } from './data.js';
import { invertSymmetricInPlace } from './linear.js';

/** Options of {@link trainEase}. */
export interface EaseOptions {
  /** L2 penalty on the item-item weights; larger favours popular items less sharply. @default 250 */
  lambda?: number;
  /** Called as rows of the inverse are done. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * EASE (Steck 2019): a closed-form item-item model of which items go together, learned from who rated what (the
 * stars are ignored: rating at all is the signal top-k ranking needs). B = I − P·diag(1/diag(P)), P = (XᵀX + λI)⁻¹.
 */
export class EaseModel {
  constructor(
    readonly itemCount: number,
    /** itemCount × itemCount weights, zero diagonal. */
    readonly weights: Float32Array,
  ) {}

  /**
   * Scores of every item for a user who interacted with `items` (their own items score too: callers exclude them).
   * `itemWeights` (parallel to `items`) lets recent interactions count more; see {@link recencyWeights}.
   */
  scores(items: ArrayLike<number>, itemWeights?: ArrayLike<number>): Float64Array {
    const out = new Float64Array(this.itemCount);
    for (let index = 0; index < items.length; index++) {
      const row = items[index]! * this.itemCount;
      const weight = itemWeights ? itemWeights[index]! : 1;
      for (let item = 0; item < this.itemCount; item++) out[item]! += weight * this.weights[row + item]!;
    }
    return out;
  }

  /** How much each of the user's items contributed to `item`'s score, for explanations. */
  contributions(items: ArrayLike<number>, item: number): Array<{ item: number; weight: number }> {
    return Array.from({ length: items.length }, (_, index) => ({
      item: items[index]!,
      weight: this.weights[items[index]! * this.itemCount + item]!,
    }));
  }
}

/** Fits EASE on a user × item interaction matrix given as rows of item indices. */
export function trainEase(byUser: SparseRows, itemCount: number, options: EaseOptions = {}): EaseModel {
  const lambda = options.lambda ?? 250;
  const gram = new Float64Array(itemCount * itemCount);
  const userCount = byUser.offsets.length - 1;
  for (let user = 0; user < userCount; user++) {
    const start = byUser.offsets[user]!;
    const end = byUser.offsets[user + 1]!;
    for (let a = start; a < end; a++) {
      const row = byUser.columns[a]! * itemCount;
      for (let b = start; b < end; b++) gram[row + byUser.columns[b]!]! += 1;
    }
  }
  for (let item = 0; item < itemCount; item++) gram[item * itemCount + item]! += lambda;
  invertSymmetricInPlace(gram, itemCount, options.onProgress);
  const weights = new Float32Array(itemCount * itemCount);
  for (let row = 0; row < itemCount; row++) {
    for (let column = 0; column < itemCount; column++) {
      if (row !== column)
        weights[row * itemCount + column] = -gram[row * itemCount + column]! / gram[column * itemCount + column]!;
    }
  }
  return new EaseModel(itemCount, weights);
}

/** Options of {@link recencyWeights}. */
export interface RecencyOptions {
  /** Extra weight of the most recent interaction on top of 1. @default 5 */
  boost?: number;
  /** How many interactions back the boost decays by 1/e. @default 10 */
  horizon?: number;
}

/**
 * Per-interaction weights 1 + boost·e^(−age/horizon), where age counts interactions back from the latest: what a
 * user watched lately says more about what they want next (chosen on a validation split of the training data).
 */
export function recencyWeights(times: ArrayLike<number>, options: RecencyOptions = {}): Float64Array {
  const boost = options.boost ?? 5;
  const horizon = options.horizon ?? 10;
  const order = Array.from({ length: times.length }, (_, index) => index).sort(
    (a, b) => times[b]! - times[a]! || b - a,
  );
  const weights = new Float64Array(times.length);
  order.forEach((index, age) => {
    weights[index] = 1 + boost * Math.exp(-age / horizon);
  });
  return weights;
}
