import { ratingData } from './model/data.js';
import { trainEase, type EaseModel, EaseModel as Ease } from './model/ease.js';
import { FactorizationModel, trainFactorization } from './model/factorization.js';
import { fitPersonas, PersonaModel, type Demographics } from './model/personas.js';
import type { Rating } from './types.js';

/** Everything `mnemo train` produces: the collaborative model, personas and the item-item model, with id maps. */
export interface ModelBundle {
  readonly userIds: readonly string[];
  readonly itemIds: readonly string[];
  readonly factorization: FactorizationModel;
  readonly personas: PersonaModel;
  /** Null for catalogs too large for a dense item-item matrix. */
  readonly ease: EaseModel | null;
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
  onProgress?: (progress: { done: number; total: number; phase: string }) => void;
}

export function trainBundle(options: TrainBundleOptions): ModelBundle {
  const itemIndex = new Map(options.itemIds.map((id, index) => [id, index]));
  const userIds = [...new Set(options.ratings.map((rating) => rating.userId))].sort();
  const userIndex = new Map(userIds.map((id, index) => [id, index]));
  const rows = options.ratings
    .filter((rating) => itemIndex.has(rating.itemId))
    .map((rating) => ({ user: userIndex.get(rating.userId)!, item: itemIndex.get(rating.itemId)!, stars: rating.stars, time: rating.at.getTime() }));
  const data = ratingData(rows, { userCount: userIds.length, itemCount: options.itemIds.length });
  const epochs = 50;
  const factorization = trainFactorization(data, {
    ...(options.factors !== undefined ? { factors: options.factors } : {}),
    epochs,
    onEpoch: (done) => options.onProgress?.({ done, total: epochs + 2, phase: 'factorization' }),
  });
  const personas = fitPersonas(data, factorization, {
    count: Math.max(1, Math.min(options.personas ?? 4, userIds.length)),
    demographics: userIds.map((id) => options.demographics?.get(id)),
  });
  options.onProgress?.({ done: epochs + 1, total: epochs + 2, phase: 'personas' });
  const byUser = { offsets: new Int32Array(userIds.length + 1), columns: new Int32Array(rows.length), values: new Float32Array(rows.length) };
  const sorted = [...rows].sort((a, b) => a.user - b.user);
  sorted.forEach((row, index) => {
    byUser.columns[index] = row.item;
    byUser.values[index] = 1;
    byUser.offsets[row.user + 1]!++;
  });
  for (let user = 0; user < userIds.length; user++) byUser.offsets[user + 1]! += byUser.offsets[user]!;
  const ease = options.itemIds.length <= (options.maximumEaseItems ?? 5000) ? trainEase(byUser, options.itemIds.length) : null;
  options.onProgress?.({ done: epochs + 2, total: epochs + 2, phase: 'item-item' });
  return { userIds, itemIds: options.itemIds, factorization, personas, ease };
}

interface Header {
  userIds: readonly string[];
  itemIds: readonly string[];
  mean: number;
  factors: number;
  personaCount: number;
  personaMean: number;
  demographicLikelihood: PersonaModel['demographicLikelihood'];
  arrays: Record<string, { offset: number; length: number; type: 'f32' | 'i32' }>;
}

/** A model bundle as bytes: a JSON header, then the typed arrays (little-endian, 4-byte aligned). */
export function serializeBundle(bundle: ModelBundle): Buffer {
  const { factorization, personas } = bundle;
  const arrays: Record<string, Float32Array | Int32Array> = {
    userBias: factorization.userBias,
    itemBias: factorization.itemBias,
    userVectors: factorization.userVectors,
    itemFactors: factorization.itemFactors,
    ...(factorization.implicitFactors ? { implicitFactors: factorization.implicitFactors } : {}),
    personaItemBias: personas.itemBias,
    personaBias: personas.personaBias,
    itemOffsets: personas.itemOffsets,
    sizes: personas.sizes,
    assignments: personas.assignments,
    ...(bundle.ease ? { ease: bundle.ease.weights } : {}),
  };
  const layout: Header['arrays'] = {};
  let offset = 0;
  for (const [name, array] of Object.entries(arrays)) {
    layout[name] = { offset, length: array.length, type: array instanceof Int32Array ? 'i32' : 'f32' };
    offset += array.byteLength;
  }
  const header: Header = {
    userIds: bundle.userIds,
    itemIds: bundle.itemIds,
    mean: factorization.mean,
    factors: factorization.factors,
    personaCount: personas.count,
    personaMean: personas.mean,
    demographicLikelihood: personas.demographicLikelihood,
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
  const padded = Math.ceil((headerLength + 4) / 4) * 4;
  const copy = new Uint8Array(bytes.subarray(padded)).buffer;
  const read = (name: string): Float32Array | Int32Array | null => {
    const entry = header.arrays[name];
    if (!entry) return null;
    return entry.type === 'i32' ? new Int32Array(copy, entry.offset, entry.length) : new Float32Array(copy, entry.offset, entry.length);
  };
  const f32 = (name: string): Float32Array => read(name) as Float32Array;
  const factorization = new FactorizationModel(
    header.mean,
    header.factors,
    f32('userBias'),
    f32('itemBias'),
    f32('userVectors'),
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
    header.demographicLikelihood,
    read('assignments') as Int32Array,
  );
  const easeWeights = read('ease') as Float32Array | null;
  return { userIds: header.userIds, itemIds: header.itemIds, factorization, personas, ease: easeWeights ? new Ease(header.itemIds.length, easeWeights) : null };
}
