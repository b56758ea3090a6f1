import { InputError, userScope, validateScope } from '../memory/index.js';
import type { Item, Rating } from './types.js';

/** Item vectors to store with {@link RecommenderStorage.upsertItems}, parallel to the items, and who made them. */
export interface ItemEmbeddings {
  readonly embedder: string;
  readonly vectors: readonly Float32Array[];
}

/** A user's demographic attributes (`{ occupation: 'writer', age: '25-34' }`). */
export interface DemographicsEntry {
  readonly userId: string;
  readonly demographics: Record<string, string>;
}

/** Everything a dataset import writes, all or nothing ({@link RecommenderStorage.importDataset}). */
export interface Dataset {
  readonly items: readonly Item[];
  readonly ratings: readonly Rating[];
  readonly demographics: readonly DemographicsEntry[];
}

/** A sum of stars and how many ratings it adds up. */
export interface StarSum {
  readonly total: number;
  readonly count: number;
}

/** The stored model bundle and when it was trained. */
export interface StoredModel {
  readonly model: Buffer;
  readonly metadata: Record<string, unknown>;
  readonly trainedAt: Date;
}

/**
 * The recommender's tables (catalog, ratings, demographics, the last trained model), in whichever database holds
 * memory: {@link SqliteRecommenderStorage} or {@link PostgresRecommenderStorage}, chosen by `recommenderStorage`.
 * Every method is async because Postgres is. Each write is one transaction: all of it is stored, or none.
 */
export interface RecommenderStorage {
  /** Inserts or replaces items, with their embeddings when given. Items keep the position they were first stored at. */
  upsertItems(items: readonly Item[], embeddings?: ItemEmbeddings): Promise<void>;
  /** The catalog, in the order items were first stored. */
  items(): Promise<Item[]>;
  item(id: string): Promise<Item | undefined>;
  /** Titles of the given items (unknown ids are left out). */
  titlesOf(ids: readonly string[]): Promise<Map<string, string>>;
  /** Item embeddings made by `embedder`, by item id. */
  embeddings(embedder: string): Promise<Map<string, Float32Array>>;

  /** Records ratings; a rating of an item already rated replaces it. An unknown item fails the whole call. */
  addRatings(ratings: readonly Rating[]): Promise<void>;
  /** A user's ratings, oldest first (ties by item id). */
  ratingsOf(userId: string): Promise<Rating[]>;
  /** Every rating, oldest first (ties by user id, then item id): the order training reads them in. */
  allRatings(): Promise<Rating[]>;
  /**
   * Sums of the stars of everyone's ratings, `all` of them and of each of `itemIds` (items nobody rated are left
   * out): what a prediction without a model, or for someone the model knows nothing of, falls back to.
   */
  starSums(itemIds: readonly string[]): Promise<{ all: StarSum; byItem: Map<string, StarSum> }>;
  /** How many users rated each item (items nobody rated are left out), and how many users rated anything. */
  raters(): Promise<{ byItem: Map<string, number>; people: number }>;

  setDemographics(entries: readonly DemographicsEntry[]): Promise<void>;
  demographicsOf(userId: string): Promise<Record<string, string> | undefined>;
  demographics(): Promise<Map<string, Record<string, string>>>;

  /** Upserts a dataset's items, ratings and demographics in one transaction (a MovieLens import). */
  importDataset(dataset: Dataset): Promise<void>;

  /** Keeps a trained model in place of the previous one (only the latest is used). */
  saveModel(model: Buffer, metadata: Record<string, unknown>): Promise<void>;
  /** When the latest model was trained (ms since the epoch): a cheap check before reading its bytes. */
  latestModelTime(): Promise<number | undefined>;
  latestModel(): Promise<StoredModel | undefined>;
}

/** Refuses, before anything is written, a rating memory could not forget or the tables would refuse. */
export function checkRatings(ratings: readonly Rating[]): void {
  for (const rating of ratings) {
    validateScope(userScope(rating.userId));
    if (!Number.isInteger(rating.stars) || rating.stars < 1 || rating.stars > 5)
      throw new InputError(`stars must be a whole number from 1 to 5, not ${rating.stars}`);
  }
}

/** Refuses, before anything is written, demographics of a user id memory could not forget. */
export function checkDemographics(entries: readonly DemographicsEntry[]): void {
  for (const entry of entries) validateScope(userScope(entry.userId));
}

/**
 * The last of each key's entries, at the position of its first: what inserting them one by one with "replace on
 * conflict" leaves, for a backend that writes a batch in one statement.
 */
export function lastPerKey<T>(entries: readonly T[], key: (entry: T) => string): T[] {
  const byKey = new Map<string, T>();
  for (const entry of entries) byKey.set(key(entry), entry);
  return [...byKey.values()];
}

/** A stored vector (Float32, native byte order) as a Float32Array of its own. */
export function toVector(bytes: Uint8Array): Float32Array {
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** A vector as the bytes stored for it. */
export function vectorBytes(vector: Float32Array): Buffer {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
}
