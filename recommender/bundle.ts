import { InputError } from '../memory/index.js';
import { ratingData } from './model/data.js';
import { EaseModel as Ease, type EaseModel, trainEase } from './model/ease.js';
import { BLEND_FEATURES, combineBlend, type EnsembleInputs, trainEnsemble } from './model/ensemble.js';
import {
  DEFAULT_USER_REGULARIZATION,
  FactorizationModel,
  type ItemRating,
  trainFactorization,
  type UserVector,
} from './model/factorization.js';
import { ItemNeighbourModel } from './model/neighbours.js';
import { type Demographics, fitPersonas, PersonaModel } from './model/personas.js';
import type { Rating } from './types.js';

/**
 * Version of the stored bundle. 2 added the item-neighbour model and the learned blend; 3 stopped storing anything
 * per user; 4 added per-persona item counts (persona popularity for ranking) and keeps only demographic values held
 * by enough users. A bundle of another version is refused (its layout differs), and `mnemo train` writes a new one.
 */
export const BUNDLE_FORMAT = 4;

/**
 * The learned rating blend of {@link trainEnsemble} (the MovieLens benchmark's rating model) minus the factorization,
 * which the bundle holds already: baseline biases, item-KNN-baseline similarities, blend weights and how often each
 * item was rated.
 */
export interface RatingBlend {
  /** KNN-baseline model; its `biases` are the blend's baseline μ + b_u + b_i. */
  readonly neighbours: ItemNeighbourModel;
  /** {@link BLEND_FEATURES} weights over {@link blendFeatures}. */
  readonly weights: Float64Array;
  /** Ratings per item in the training data (the blend's item-support feature). */
  readonly itemSupport: Int32Array;
}

/**
 * Everything `mnemo train` produces: the collaborative model, personas and the item-item model, with id maps.
 * `userIds` and the per-user rows (biases, factor vectors, persona assignments) exist only in a freshly trained
 * bundle; a stored one holds none of them (see {@link serializeBundle}).
 */
export interface ModelBundle {
  readonly userIds: readonly string[];
  readonly itemIds: readonly string[];
  readonly factorization: FactorizationModel;
  readonly personas: PersonaModel;
  /** Null for catalogs too large for a dense item-item matrix. */
  readonly ease: EaseModel | null;
  /**
   * SVD++ + item neighbours + biases blended as in the benchmark; null when there were too few ratings to fit the
   * blend weights on a held-out slice, or too many items for a dense similarity matrix.
   */
  readonly blend: RatingBlend | null;
}

/** Fewest ratings that get a learned blend: its held-out tenth must pin down {@link BLEND_FEATURES} weights. */
export const MINIMUM_BLEND_RATINGS = 2000;

/** A user as the blend sees them, from their current ratings (not their training-time ones). */
export interface BlendUser {
  readonly items: Int32Array;
  readonly stars: Float32Array;
  /** b_u against the blend's fixed baseline: one more user pass of fitBiases' alternating least squares. */
  readonly bias: number;
}

export function blendUser(blend: RatingBlend, ratings: readonly ItemRating[]): BlendUser {
  const { mean, itemBias } = blend.neighbours.biases;
  let sum = 0;
  for (const rating of ratings) sum += rating.stars - mean - itemBias[rating.item]!;
  return {
    items: Int32Array.from(ratings, (rating) => rating.item),
    stars: Float32Array.from(ratings, (rating) => rating.stars),
    bias: sum / (DEFAULT_USER_REGULARIZATION + ratings.length),
  };
}

/**
 * The blended prediction for a user given by their current ratings (`user`, from {@link blendUser}) and folded-in
 * factor vector: the inputs {@link RatingEnsemble.inputs} gives a known user, combined with the learned weights.
 * Also returns the neighbour part, for explanations.
 */
export function blendedPrediction(
  bundle: Pick<ModelBundle, 'factorization'> & { blend: RatingBlend },
  user: BlendUser,
  vector: UserVector,
  item: number,
): { stars: number; inputs: EnsembleInputs; neighbours: ReturnType<ItemNeighbourModel['predictFrom']> } {
  const { blend, factorization } = bundle;
  const biases = blend.neighbours.biases;
  const neighbours = blend.neighbours.predictFrom(user, item);
  const inputs: EnsembleInputs = {
    factorization: factorization.rawFor(vector, item),
    neighbours: neighbours.raw,
    baseline: biases.mean + user.bias + biases.itemBias[item]!,
    userSupport: user.items.length,
    itemSupport: blend.itemSupport[item]!,
  };
  return { stars: combineBlend(inputs, blend.weights), inputs, neighbours };
}

/** Options of {@link trainBundle}. */
export interface TrainBundleOptions {
  itemIds: readonly string[];
  ratings: readonly Rating[];
  demographics?: ReadonlyMap<string, Demographics>;
  /** Latent dimensions (fewer suit small catalogs). @default 50 */
  factors?: number;
  /** Personas. @default 4 */
  personas?: number;
  /** Largest catalog that gets an EASE model (its matrix is items² floats). @default 5000 */
  maximumEaseItems?: number;
  /** Largest catalog that gets the item-neighbour model and blend (training holds items² × 20 bytes). @default 5000 */
  maximumBlendItems?: number;
  onProgress?: (progress: { done: number; total: number; phase: string }) => void;
}

export function trainBundle(options: TrainBundleOptions): ModelBundle {
  const itemIndex = new Map(options.itemIds.map((id, index) => [id, index]));
  const userIds = [...new Set(options.ratings.map((rating) => rating.userId))].sort();
  const userIndex = new Map(userIds.map((id, index) => [id, index]));
  const rows = options.ratings
    .filter((rating) => itemIndex.has(rating.itemId))
    .map((rating) => ({
      user: userIndex.get(rating.userId)!,
      item: itemIndex.get(rating.itemId)!,
      stars: rating.stars,
      time: rating.at.getTime(),
    }));
  const data = ratingData(rows, { userCount: userIds.length, itemCount: options.itemIds.length });
  const epochs = 50;
  const factorizationOptions = { ...(options.factors !== undefined ? { factors: options.factors } : {}), epochs };
  const withBlend =
    rows.length >= MINIMUM_BLEND_RATINGS && options.itemIds.length <= (options.maximumBlendItems ?? 5000);
  // With a blend the factorization is trained twice (on 90% to fit the blend weights, then on everything).
  const total = (withBlend ? 2 * epochs : epochs) + 2;
  let factorization: FactorizationModel;
  let blend: RatingBlend | null = null;
  if (withBlend) {
    let round = 0;
    // Exactly the benchmark's rating model (src/bench/movielens.ts): the same trainer with the same defaults.
    const ensemble = trainEnsemble(data, {
      factorization: {
        ...factorizationOptions,
        onEpoch: (done) =>
          options.onProgress?.({
            done: round * epochs + done,
            total,
            phase: round === 0 ? 'blend weights' : 'factorization',
          }),
      },
      onProgress: (done) => (round = done),
    });
    factorization = ensemble.factorization;
    blend = { neighbours: ensemble.neighbours, weights: ensemble.weights, itemSupport: ensemble.itemSupport };
  } else {
    factorization = trainFactorization(data, {
      ...factorizationOptions,
      onEpoch: (done) => options.onProgress?.({ done, total, phase: 'factorization' }),
    });
  }
  const personas = fitPersonas(data, factorization, {
    count: Math.max(1, Math.min(options.personas ?? 4, userIds.length)),
    demographics: userIds.map((id) => options.demographics?.get(id)),
  });
  options.onProgress?.({ done: total - 1, total, phase: 'personas' });
  const byUser = {
    offsets: new Int32Array(userIds.length + 1),
    columns: new Int32Array(rows.length),
    values: new Float32Array(rows.length),
  };
  const sorted = [...rows].sort((a, b) => a.user - b.user);
  sorted.forEach((row, index) => {
    byUser.columns[index] = row.item;
    byUser.values[index] = 1;
    byUser.offsets[row.user + 1]!++;
  });
  for (let user = 0; user < userIds.length; user++) byUser.offsets[user + 1]! += byUser.offsets[user]!;
  const ease =
    options.itemIds.length <= (options.maximumEaseItems ?? 5000) ? trainEase(byUser, options.itemIds.length) : null;
  options.onProgress?.({ done: total, total, phase: 'item-item' });
  return { userIds, itemIds: options.itemIds, factorization, personas, ease, blend };
}

interface Header {
  format: number;
  itemIds: readonly string[];
  mean: number;
  factors: number;
  personaCount: number;
  personaMean: number;
  demographicLikelihood: PersonaModel['demographicLikelihood'];
  /** Scalars of the blend (its arrays are in `arrays`); absent without one. */
  blend?: { mean: number; neighbours: number; weights: number[] };
  arrays: Record<string, { offset: number; length: number; type: 'f32' | 'i32' }>;
}

/**
 * A model bundle as bytes: a JSON header, then the typed arrays (little-endian, 4-byte aligned). Only item-side
 * parameters and persona aggregates are kept: serving folds every user in from their current ratings, so the stored
 * model holds no user id, no row about any one user and no demographic value fewer than `MINIMUM_AGGREGATE`
 * (model/privacy.ts) users hold, and forgetting a user leaves nothing of theirs in it beyond their share of those aggregates, which the
 * next `mnemo train` removes.
 */
export function serializeBundle(bundle: ModelBundle): Buffer {
  const { factorization, personas } = bundle;
  const arrays: Record<string, Float32Array | Int32Array> = {
    itemBias: factorization.itemBias,
    itemFactors: factorization.itemFactors,
    ...(factorization.implicitFactors ? { implicitFactors: factorization.implicitFactors } : {}),
    personaItemBias: personas.itemBias,
    personaBias: personas.personaBias,
    itemOffsets: personas.itemOffsets,
    sizes: personas.sizes,
    personaItemCounts: personas.itemCounts,
    ...(bundle.ease ? { ease: bundle.ease.weights } : {}),
    ...(bundle.blend
      ? {
          blendItemBias: bundle.blend.neighbours.biases.itemBias,
          similarities: bundle.blend.neighbours.similarities,
          itemSupport: bundle.blend.itemSupport,
        }
      : {}),
  };
  const layout: Header['arrays'] = {};
  let offset = 0;
  for (const [name, array] of Object.entries(arrays)) {
    layout[name] = { offset, length: array.length, type: array instanceof Int32Array ? 'i32' : 'f32' };
    offset += array.byteLength;
  }
  const header: Header = {
    format: BUNDLE_FORMAT,
    itemIds: bundle.itemIds,
    mean: factorization.mean,
    factors: factorization.factors,
    personaCount: personas.count,
    personaMean: personas.mean,
    demographicLikelihood: personas.demographicLikelihood,
    // JSON keeps doubles exactly.
    ...(bundle.blend
      ? {
          blend: {
            mean: bundle.blend.neighbours.biases.mean,
            neighbours: bundle.blend.neighbours.neighbours,
            weights: Array.from(bundle.blend.weights),
          },
        }
      : {}),
    arrays: layout,
  };
  const headerBytes = Buffer.from(JSON.stringify(header));
  const padded = Math.ceil((headerBytes.length + 4) / 4) * 4;
  const output = Buffer.alloc(padded + offset);
  output.writeUInt32LE(headerBytes.length, 0);
  headerBytes.copy(output, 4);
  for (const [name, array] of Object.entries(arrays)) {
    Buffer.from(array.buffer, array.byteOffset, array.byteLength).copy(output, padded + layout[name]!.offset);
  }
  return output;
}

export function deserializeBundle(bytes: Buffer): ModelBundle {
  const headerLength = bytes.readUInt32LE(0);
  const header = JSON.parse(bytes.subarray(4, 4 + headerLength).toString()) as Header;
  if (header.format !== BUNDLE_FORMAT) {
    throw new InputError(
      `the stored model was made by ${header.format === undefined ? 'an older' : 'another'} version of mnemo (model format ${header.format ?? 1}, this one reads ${BUNDLE_FORMAT}): run mnemo train again`,
      { code: 'invalid_input' },
    );
  }
  const padded = Math.ceil((headerLength + 4) / 4) * 4;
  const copy = new Uint8Array(bytes.subarray(padded)).buffer;
  const read = (name: string): Float32Array | Int32Array | null => {
    const entry = header.arrays[name];
    if (!entry) return null;
    return entry.type === 'i32'
      ? new Int32Array(copy, entry.offset, entry.length)
      : new Float32Array(copy, entry.offset, entry.length);
  };
  const f32 = (name: string): Float32Array => read(name) as Float32Array;
  const noUsers = new Float32Array(0);
  const factorization = new FactorizationModel(
    header.mean,
    header.factors,
    noUsers,
    f32('itemBias'),
    noUsers,
    f32('itemFactors'),
    read('implicitFactors') as Float32Array | null,
  );
  const personas = new PersonaModel(
    header.personaCount,
    header.itemIds.length,
    header.personaMean,
    f32('personaItemBias'),
    f32('personaBias'),
    f32('itemOffsets'),
    read('sizes') as Int32Array,
    read('personaItemCounts') as Int32Array,
    header.demographicLikelihood,
    new Int32Array(0),
  );
  const easeWeights = read('ease') as Float32Array | null;
  const blend: RatingBlend | null = header.blend
    ? {
        neighbours: new ItemNeighbourModel(
          { mean: header.blend.mean, userBias: noUsers, itemBias: f32('blendItemBias') },
          f32('similarities'),
          header.blend.neighbours,
        ),
        weights: Float64Array.from(header.blend.weights),
        itemSupport: read('itemSupport') as Int32Array,
      }
    : null;
  return {
    userIds: [],
    itemIds: header.itemIds,
    factorization,
    personas,
    ease: easeWeights ? new Ease(header.itemIds.length, easeWeights) : null,
    blend,
  };
}
