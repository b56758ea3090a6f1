import { clampStars, groupRatings, type RatingData, type SparseRows } from './data.js';
import type { Biases } from './factorization.js';

/** Options of {@link trainItemNeighbours}. */
export interface NeighbourOptions {
  /** Neighbours used per prediction. @default 40 */
  neighbours?: number;
  /** Similarities from few common raters shrink towards 0: ρ·(n−1)/(n−1+shrinkage). @default 100 */
  shrinkage?: number;
}

/**
 * Item-item k-nearest-neighbours on baseline residuals (Koren's KNN-baseline with shrunk Pearson-baseline
 * similarities): a prediction is the baseline plus the similarity-weighted residuals of the user's most similar
 * rated items. Its errors differ from the factorization's, which is why blending them helps.
 */
export class ItemNeighbourModel {
  constructor(
    readonly biases: Biases,
    /** itemCount × itemCount similarities. */
    readonly similarities: Float32Array,
    readonly neighbours: number,
  ) {}

  get itemCount(): number {
    return this.biases.itemBias.length;
  }

  /**
   * Prediction from a user's ratings (`items`/`stars`) and bias; also returns the rated items that weighed most, for
   * explanations.
   */
  predictFrom(
    ratings: { items: ArrayLike<number>; stars: ArrayLike<number>; bias: number },
    item: number,
  ): { stars: number; raw: number; support: number; top: Array<{ item: number; weight: number }> } {
    const itemCount = this.itemCount;
    const baselineOf = (other: number): number => this.biases.mean + ratings.bias + this.biases.itemBias[other]!;
    const candidates: Array<{ item: number; similarity: number; residual: number }> = [];
    for (let index = 0; index < ratings.items.length; index++) {
      const other = ratings.items[index]!;
      if (other === item) continue;
      const similarity = this.similarities[item * itemCount + other]!;
      if (similarity <= 0) continue;
      candidates.push({ item: other, similarity, residual: ratings.stars[index]! - baselineOf(other) });
    }
    candidates.sort((a, b) => b.similarity - a.similarity);
    const used = candidates.slice(0, this.neighbours);
    let weighted = 0;
    let total = 0;
    for (const candidate of used) {
      weighted += candidate.similarity * candidate.residual;
      total += candidate.similarity;
    }
    const raw = baselineOf(item) + (total > 0 ? weighted / total : 0);
    return {
      stars: clampStars(raw),
      raw,
      support: total,
      top: used
        .slice(0, 5)
        .map((candidate) => ({ item: candidate.item, weight: candidate.similarity * candidate.residual })),
    };
  }
}

/** Computes the shrunk Pearson-baseline similarities of every item pair in one pass over each user's ratings. */
export function trainItemNeighbours(
  data: RatingData,
  biases: Biases,
  options: NeighbourOptions = {},
): ItemNeighbourModel {
  const shrinkage = options.shrinkage ?? 100;
  const itemCount = data.itemCount;
  const byUser: SparseRows = groupRatings(data, 'user');
  const cross = new Float64Array(itemCount * itemCount);
  const squares = new Float64Array(itemCount * itemCount);
  const common = new Int32Array(itemCount * itemCount);
  const residuals = new Float64Array(itemCount);
  for (let user = 0; user < data.userCount; user++) {
    const start = byUser.offsets[user]!;
    const end = byUser.offsets[user + 1]!;
    for (let index = start; index < end; index++) {
      residuals[index - start] =
        byUser.values[index]! - biases.mean - biases.userBias[user]! - biases.itemBias[byUser.columns[index]!]!;
    }
    for (let a = start; a < end; a++) {
      const itemA = byUser.columns[a]!;
      const residualA = residuals[a - start]!;
      const rowA = itemA * itemCount;
      for (let b = start; b < end; b++) {
        const itemB = byUser.columns[b]!;
        const residualB = residuals[b - start]!;
        cross[rowA + itemB]! += residualA * residualB;
        // Σ r_a² over the users both rated: the Pearson denominator counts common raters only.
        squares[rowA + itemB]! += residualA * residualA;
        common[rowA + itemB]!++;
      }
    }
  }
  const similarities = new Float32Array(itemCount * itemCount);
  for (let a = 0; a < itemCount; a++) {
    for (let b = 0; b < itemCount; b++) {
      const pair = a * itemCount + b;
      const count = common[pair]!;
      if (a === b || count < 2) continue;
      const denominator = Math.sqrt(squares[pair]! * squares[b * itemCount + a]!);
      if (denominator === 0) continue;
      similarities[pair] = (cross[pair]! / denominator) * ((count - 1) / (count - 1 + shrinkage));
    }
  }
  return new ItemNeighbourModel(biases, similarities, options.neighbours ?? 40);
}
