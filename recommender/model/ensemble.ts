import { clampStars, groupRatings, type RatingData, type SparseRows, selectRatings } from './data.js';
import {
  type Biases,
  type FactorizationModel,
  type FactorizationOptions,
  fitBiases,
  trainFactorization,
} from './factorization.js';
import { ridgeRegression } from './linear.js';
import { type ItemNeighbourModel, type NeighbourOptions, trainItemNeighbours } from './neighbours.js';
import { createRandom, shuffle } from './random.js';

/** What the blend sees of one (user, item) pair. */
export interface EnsembleInputs {
  /** Raw SVD++ prediction. */
  readonly factorization: number;
  /** Raw item-KNN-baseline prediction. */
  readonly neighbours: number;
  /** Baseline μ + b_u + b_i. */
  readonly baseline: number;
  /** How many ratings the user has. */
  readonly userSupport: number;
  /** How many ratings the item has. */
  readonly itemSupport: number;
}

export const BLEND_FEATURES = 10;

/**
 * Features of the learned blend: the three predictions, and the first two again scaled by how much the user and the
 * item are known (a model that is good for heavy raters need not be for light ones: feature-weighted stacking).
 */
export function blendFeatures(inputs: EnsembleInputs, out: Float64Array, offset = 0): void {
  const user = Math.log1p(inputs.userSupport) / Math.log1p(1000);
  const item = Math.log1p(inputs.itemSupport) / Math.log1p(1000);
  out[offset] = 1;
  out[offset + 1] = inputs.factorization;
  out[offset + 2] = inputs.neighbours;
  out[offset + 3] = inputs.baseline;
  out[offset + 4] = inputs.factorization * user;
  out[offset + 5] = inputs.neighbours * user;
  out[offset + 6] = inputs.factorization * item;
  out[offset + 7] = inputs.neighbours * item;
  out[offset + 8] = user;
  out[offset + 9] = item;
}

/** Options of {@link trainEnsemble}. */
export interface EnsembleOptions {
  factorization?: FactorizationOptions;
  neighbours?: NeighbourOptions;
  /** Share of the training ratings held out to fit the blend weights (never the test set). @default 0.1 */
  blendShare?: number;
  /** Ridge penalty of the blend. @default 1 */
  blendRegularization?: number;
  /** Seed of the held-out slice. @default 11 */
  seed?: number;
  /** Progress over the two training rounds (held-out round, then full). */
  onProgress?: (done: number, total: number) => void;
}

/** SVD++ + item-KNN-baseline + biases, blended by weights learned on a held-out slice of the training data. */
export class RatingEnsemble {
  readonly byUser: SparseRows;
  readonly itemSupport: Int32Array;

  constructor(
    readonly data: RatingData,
    readonly biases: Biases,
    readonly factorization: FactorizationModel,
    readonly neighbours: ItemNeighbourModel,
    readonly weights: Float64Array,
  ) {
    this.byUser = groupRatings(data, 'user');
    this.itemSupport = new Int32Array(data.itemCount);
    for (let index = 0; index < data.items.length; index++) this.itemSupport[data.items[index]!]!++;
  }

  /** The blend's inputs for a known user. */
  inputs(user: number, item: number): EnsembleInputs {
    const start = this.byUser.offsets[user]!;
    const end = this.byUser.offsets[user + 1]!;
    const neighbours = this.neighbours.predictFrom(
      {
        items: this.byUser.columns.subarray(start, end),
        stars: this.byUser.values.subarray(start, end),
        bias: this.biases.userBias[user]!,
      },
      item,
    );
    return {
      factorization: this.factorization.raw(user, item),
      neighbours: neighbours.raw,
      baseline: this.biases.mean + this.biases.userBias[user]! + this.biases.itemBias[item]!,
      userSupport: end - start,
      itemSupport: this.itemSupport[item]!,
    };
  }

  /** Blended prediction from inputs, within 1–5. */
  combine(inputs: EnsembleInputs): number {
    return combineBlend(inputs, this.weights);
  }

  predict(user: number, item: number): number {
    return this.combine(this.inputs(user, item));
  }
}

function trainComponents(
  data: RatingData,
  options: EnsembleOptions,
): { biases: Biases; factorization: FactorizationModel; neighbours: ItemNeighbourModel } {
  const biases = fitBiases(data);
  return {
    biases,
    factorization: trainFactorization(data, options.factorization),
    neighbours: trainItemNeighbours(data, biases, options.neighbours),
  };
}

/**
 * Trains the components on most of `data`, fits the blend on the rest, then retrains the components on all of
 * `data` with the same settings and keeps the weights.
 */
export function trainEnsemble(data: RatingData, options: EnsembleOptions = {}): RatingEnsemble {
  const random = createRandom(options.seed ?? 11);
  const order = shuffle(
    Int32Array.from({ length: data.stars.length }, (_, index) => index),
    random,
  );
  const cut = Math.floor(order.length * (1 - (options.blendShare ?? 0.1)));
  const fitting = selectRatings(data, order.subarray(0, cut));
  const heldOut = selectRatings(data, order.subarray(cut));
  options.onProgress?.(0, 2);
  const first = trainComponents(fitting, options);
  const probe = new RatingEnsemble(
    fitting,
    first.biases,
    first.factorization,
    first.neighbours,
    new Float64Array(BLEND_FEATURES),
  );
  const features = new Float64Array(heldOut.stars.length * BLEND_FEATURES);
  const targets = new Float64Array(heldOut.stars.length);
  for (let index = 0; index < heldOut.stars.length; index++) {
    blendFeatures(probe.inputs(heldOut.users[index]!, heldOut.items[index]!), features, index * BLEND_FEATURES);
    targets[index] = heldOut.stars[index]!;
  }
  const weights = ridgeRegression(features, targets, BLEND_FEATURES, options.blendRegularization ?? 1);
  options.onProgress?.(1, 2);
  const full = trainComponents(data, options);
  options.onProgress?.(2, 2);
  return new RatingEnsemble(data, full.biases, full.factorization, full.neighbours, weights);
}

/** The blend's prediction: its features of `inputs` weighted by `weights`, within 1–5 stars. */
export function combineBlend(inputs: EnsembleInputs, weights: ArrayLike<number>): number {
  const features = new Float64Array(BLEND_FEATURES);
  blendFeatures(inputs, features);
  let sum = 0;
  for (let index = 0; index < BLEND_FEATURES; index++) sum += features[index]! * weights[index]!;
  return clampStars(sum);
}
