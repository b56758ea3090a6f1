import { clampStars, groupRatings, meanStars, type RatingData, type SparseRows } from './data.js';
import { solveSymmetric } from './linear.js';
import { createRandom, shuffle } from './random.js';

/** Global mean and regularised user and item biases: the "baseline" every other model corrects. */
export interface Biases {
  readonly mean: number;
  readonly userBias: Float32Array;
  readonly itemBias: Float32Array;
}

/** Shrinkage of user biases towards 0, in ratings' worth, unless a caller says otherwise. */
export const DEFAULT_USER_REGULARIZATION = 15;

/** Options of {@link fitBiases}. */
export interface BiasOptions {
  /** Shrinkage of user biases towards 0, in ratings' worth. @default 15 */
  userRegularization?: number;
  /** Shrinkage of item biases towards 0, in ratings' worth. @default 10 */
  itemRegularization?: number;
  /** Alternating passes. @default 10 */
  iterations?: number;
}

/**
 * One half of an alternating least squares pass: each row's bias (an item's, or a user's) becomes the mean of its
 * ratings' residuals against μ and the other side's biases, shrunk towards 0 by `regularization` ratings' worth.
 */
function fitBiasSide(
  data: RatingData,
  mean: number,
  fitted: { rows: Int32Array; bias: Float32Array; regularization: number },
  other: { rows: Int32Array; bias: Float32Array },
): void {
  const sums = new Float64Array(fitted.bias.length);
  const counts = new Int32Array(fitted.bias.length);
  for (let index = 0; index < data.stars.length; index++) {
    const row = fitted.rows[index]!;
    sums[row]! += data.stars[index]! - mean - other.bias[other.rows[index]!]!;
    counts[row]!++;
  }
  for (let row = 0; row < fitted.bias.length; row++)
    fitted.bias[row] = sums[row]! / (fitted.regularization + counts[row]!);
}

/** Fits μ + b_u + b_i by alternating least squares (Koren 2010's baseline predictor). */
export function fitBiases(data: RatingData, options: BiasOptions = {}): Biases {
  const userRegularization = options.userRegularization ?? DEFAULT_USER_REGULARIZATION;
  const itemRegularization = options.itemRegularization ?? 10;
  const mean = meanStars(data);
  const userBias = new Float32Array(data.userCount);
  const itemBias = new Float32Array(data.itemCount);
  for (let iteration = 0; iteration < (options.iterations ?? 10); iteration++) {
    fitBiasSide(
      data,
      mean,
      { rows: data.items, bias: itemBias, regularization: itemRegularization },
      { rows: data.users, bias: userBias },
    );
    fitBiasSide(
      data,
      mean,
      { rows: data.users, bias: userBias, regularization: userRegularization },
      { rows: data.items, bias: itemBias },
    );
  }
  return { mean, userBias, itemBias };
}

/** The baseline prediction μ + b_u + b_i, within 1–5. */
export function predictBias(biases: Biases, user: number, item: number): number {
  return clampStars(biases.mean + (biases.userBias[user] ?? 0) + (biases.itemBias[item] ?? 0));
}

/** Options of {@link trainFactorization}. */
export interface FactorizationOptions {
  /** Latent dimensions. @default 50 */
  factors?: number;
  /** SGD passes over the ratings. @default 50 */
  epochs?: number;
  /** SGD step size for factors. @default 0.007 */
  learningRate?: number;
  /** SGD step size for biases. @default 0.007 */
  biasLearningRate?: number;
  /** L2 penalty on factors (per update). @default 0.1 */
  regularization?: number;
  /** L2 penalty on biases (per update). @default 0.02 */
  biasRegularization?: number;
  /** SVD++: a user is also described by which items they rated (implicit feedback), not only how. @default true */
  implicit?: boolean;
  /** Step size multiplier per epoch (decay keeps late epochs from undoing early progress). @default 0.96 */
  decay?: number;
  /** Standard deviation of the initial factors. @default 0.1 */
  initialScale?: number;
  /** Seed of the initial factors and the visiting order. @default 7 */
  seed?: number;
  /** Called after each epoch. */
  onEpoch?: (done: number, total: number) => void;
}

/** A user's parameters in a trained factorization: bias and effective factor vector (explicit + implicit part). */
export interface UserVector {
  readonly bias: number;
  readonly factors: Float32Array;
}

/** One rating given to a model that has not seen it: a dense item index and stars. */
export interface ItemRating {
  readonly item: number;
  readonly stars: number;
}

/**
 * A trained biased matrix factorization (SVD++ when trained with `implicit`). `userVectors` already include the
 * implicit part, so prediction is one dot product.
 */
export class FactorizationModel {
  constructor(
    readonly mean: number,
    readonly factors: number,
    readonly userBias: Float32Array,
    readonly itemBias: Float32Array,
    /** userCount × factors: p_u + |N(u)|^-½ Σ y_j. */
    readonly userVectors: Float32Array,
    /** itemCount × factors: q_i. */
    readonly itemFactors: Float32Array,
    /** itemCount × factors: y_j (SVD++), or null for plain biased MF. */
    readonly implicitFactors: Float32Array | null,
  ) {}

  get userCount(): number {
    return this.userBias.length;
  }

  get itemCount(): number {
    return this.itemBias.length;
  }

  /** Predicted stars of a known user for an item, unclamped (blending wants the raw value). */
  raw(user: number, item: number): number {
    const factors = this.factors;
    let dot = 0;
    const userOffset = user * factors;
    const itemOffset = item * factors;
    for (let k = 0; k < factors; k++) dot += this.userVectors[userOffset + k]! * this.itemFactors[itemOffset + k]!;
    return this.mean + this.userBias[user]! + this.itemBias[item]! + dot;
  }

  /** Predicted stars within 1–5. */
  predict(user: number, item: number): number {
    return clampStars(this.raw(user, item));
  }

  /** Predicted stars for a user vector from {@link foldIn}, unclamped. */
  rawFor(vector: UserVector, item: number): number {
    let dot = 0;
    const itemOffset = item * this.factors;
    for (let k = 0; k < this.factors; k++) dot += vector.factors[k]! * this.itemFactors[itemOffset + k]!;
    return this.mean + vector.bias + this.itemBias[item]! + dot;
  }

  /** The vector of a known user. */
  userVector(user: number): UserVector {
    return {
      bias: this.userBias[user]!,
      factors: this.userVectors.slice(user * this.factors, (user + 1) * this.factors),
    };
  }

  /**
   * A user's parameters from their ratings alone, with every item parameter fixed: one ridge solve, milliseconds.
   * This is how a new user's first ratings (or anyone's latest) count without retraining.
   */
  foldIn(ratings: readonly ItemRating[], options: FoldInOptions = {}): UserVector {
    const factors = this.factors;
    const width = factors + 1;
    const implicit = new Float32Array(factors);
    if (this.implicitFactors && ratings.length > 0) {
      const scale = 1 / Math.sqrt(ratings.length);
      for (const rating of ratings) {
        for (let k = 0; k < factors; k++) implicit[k]! += scale * this.implicitFactors[rating.item * factors + k]!;
      }
    }
    // Unknowns [b_u, p_u]; features [1, q_i]; target r − μ − b_i − q_i·implicit.
    const gram = new Float64Array(width * width);
    const moment = new Float64Array(width);
    const feature = new Float64Array(width);
    for (const rating of ratings) {
      feature[0] = 1;
      let implicitDot = 0;
      for (let k = 0; k < factors; k++) {
        const value = this.itemFactors[rating.item * factors + k]!;
        feature[k + 1] = value;
        implicitDot += value * implicit[k]!;
      }
      const target = rating.stars - this.mean - this.itemBias[rating.item]! - implicitDot;
      for (let a = 0; a < width; a++) {
        moment[a]! += feature[a]! * target;
        for (let b = 0; b < width; b++) gram[a * width + b]! += feature[a]! * feature[b]!;
      }
    }
    gram[0]! += options.biasRegularization ?? 5;
    for (let k = 1; k < width; k++) gram[k * width + k]! += options.regularization ?? 8;
    const solution = solveSymmetric(gram, moment, width);
    const vector = new Float32Array(factors);
    for (let k = 0; k < factors; k++) vector[k] = solution[k + 1]! + implicit[k]!;
    return { bias: solution[0]!, factors: vector };
  }
}

/** Options of {@link FactorizationModel.foldIn}. */
export interface FoldInOptions {
  /** Ridge penalty on the user bias, in ratings' worth. @default 5 */
  biasRegularization?: number;
  /** Ridge penalty on the user factors. @default 8 */
  regularization?: number;
}

/** Trains biased MF / SVD++ by stochastic gradient descent, visiting users in a seeded random order. */
export function trainFactorization(data: RatingData, options: FactorizationOptions = {}): FactorizationModel {
  const factors = options.factors ?? 50;
  const epochs = options.epochs ?? 50;
  const regularization = options.regularization ?? 0.1;
  const biasRegularization = options.biasRegularization ?? 0.02;
  const implicit = options.implicit ?? true;
  const decay = options.decay ?? 0.96;
  const random = createRandom(options.seed ?? 7);
  const scale = options.initialScale ?? 0.1;
  const byUser: SparseRows = groupRatings(data, 'user');
  const mean = meanStars(data);
  const userBias = new Float32Array(data.userCount);
  const itemBias = new Float32Array(data.itemCount);
  const userFactors = new Float32Array(data.userCount * factors).map(() => random.gaussian() * scale);
  const itemFactors = new Float32Array(data.itemCount * factors).map(() => random.gaussian() * scale);
  const implicitFactors = implicit
    ? new Float32Array(data.itemCount * factors).map(() => random.gaussian() * scale)
    : null;
  const userOrder = shuffle(
    Int32Array.from({ length: data.userCount }, (_, index) => index),
    random,
  );
  const effective = new Float64Array(factors);
  const implicitGradient = new Float64Array(factors);
  let learningRate = options.learningRate ?? 0.007;
  let biasLearningRate = options.biasLearningRate ?? 0.007;
  for (let epoch = 0; epoch < epochs; epoch++) {
    shuffle(userOrder, random);
    for (let position = 0; position < userOrder.length; position++) {
      const user = userOrder[position]!;
      const start = byUser.offsets[user]!;
      const end = byUser.offsets[user + 1]!;
      if (start === end) continue;
      const norm = 1 / Math.sqrt(end - start);
      const userOffset = user * factors;
      // The implicit sum is held fixed while the user's ratings are visited, then y_j take one aggregated step:
      // the usual fast SVD++ schedule (exact per-rating updates cost |N(u)| times more).
      for (let k = 0; k < factors; k++) {
        let sum = 0;
        if (implicitFactors)
          for (let index = start; index < end; index++) sum += implicitFactors[byUser.columns[index]! * factors + k]!;
        effective[k] = norm * sum;
      }
      implicitGradient.fill(0);
      const visit = end - start;
      for (let step = 0; step < visit; step++) {
        const index = start + random.integer(visit);
        const item = byUser.columns[index]!;
        const itemOffset = item * factors;
        let dot = 0;
        for (let k = 0; k < factors; k++)
          dot += itemFactors[itemOffset + k]! * (userFactors[userOffset + k]! + effective[k]!);
        const error = byUser.values[index]! - (mean + userBias[user]! + itemBias[item]! + dot);
        userBias[user]! += biasLearningRate * (error - biasRegularization * userBias[user]!);
        itemBias[item]! += biasLearningRate * (error - biasRegularization * itemBias[item]!);
        for (let k = 0; k < factors; k++) {
          const userValue = userFactors[userOffset + k]!;
          const itemValue = itemFactors[itemOffset + k]!;
          userFactors[userOffset + k] = userValue + learningRate * (error * itemValue - regularization * userValue);
          itemFactors[itemOffset + k] =
            itemValue + learningRate * (error * (userValue + effective[k]!) - regularization * itemValue);
          implicitGradient[k]! += error * itemValue;
        }
      }
      if (implicitFactors) {
        for (let index = start; index < end; index++) {
          const itemOffset = byUser.columns[index]! * factors;
          for (let k = 0; k < factors; k++) {
            const value = implicitFactors[itemOffset + k]!;
            implicitFactors[itemOffset + k] =
              value + learningRate * (norm * implicitGradient[k]! - regularization * value);
          }
        }
      }
    }
    learningRate *= decay;
    biasLearningRate *= decay;
    options.onEpoch?.(epoch + 1, epochs);
  }
  const userVectors = new Float32Array(data.userCount * factors);
  for (let user = 0; user < data.userCount; user++) {
    const start = byUser.offsets[user]!;
    const end = byUser.offsets[user + 1]!;
    const norm = end > start ? 1 / Math.sqrt(end - start) : 0;
    for (let k = 0; k < factors; k++) {
      let sum = 0;
      if (implicitFactors)
        for (let index = start; index < end; index++) sum += implicitFactors[byUser.columns[index]! * factors + k]!;
      userVectors[user * factors + k] = userFactors[user * factors + k]! + norm * sum;
    }
  }
  return new FactorizationModel(mean, factors, userBias, itemBias, userVectors, itemFactors, implicitFactors);
}
