import type Database from 'better-sqlite3';
import { type VectorIndexInfo, vectorBytes } from './vectors.js';

/**
 * A namespace's vectors in sqlite-vec, with an inverted-file (IVF) layer for big namespaces.
 *
 * vec0 searches by brute force: a 100,000-memory user costs ~10 ms per query. Past {@link IVF_MIN_VECTORS} a
 * namespace's vectors are clustered (spherical k-means) and each vector lives in the vec0 partition of its nearest
 * centroid; a query scans only the partitions of its nearest sixth of the centroids, plus an overflow partition
 * of vectors close to no centroid. Small namespaces keep one partition and exact search.
 */
export const IVF_MIN_VECTORS = 20_000;
/** Retrain when a namespace has grown this many times past the size it was trained at. */
const RETRAIN_GROWTH = 4;
/** Partition key = namespace id × CELL_SLOTS + cell; cell 0 is the single partition of an unclustered namespace. */
export const CELL_SLOTS = 1024;
/** Vectors sampled to train the centroids. */
const TRAINING_SAMPLE = 25_000;
const KMEANS_ITERATIONS = 12;
/** Share of a clustered namespace's cells a query scans (the nearest ones). */
const PROBED_SHARE = 1 / 6;
/** Below this cosine to its nearest centroid a vector goes to the always-scanned overflow cell. */
const OUTLIER_SIMILARITY = 0.2;

type Prepare = (sql: string) => Database.Statement;

interface Cells {
  centroids: Float32Array[];
  trainedAt: number;
}

export class VectorIndex {
  /** Each namespace's centroids as this connection last read or trained them. */
  private readonly cells = new Map<number, Cells | null>();
  /** `PRAGMA data_version` when {@link cells} was last known current: it changes when another connection commits. */
  private seenVersion: number | undefined;

  constructor(
    private readonly prepare: Prepare,
    readonly info: VectorIndexInfo,
  ) {}

  insert(id: number, namespaceId: number, vector: Float32Array): void {
    const cells = this.cellsOf(namespaceId);
    const cell = cells ? cellOf(cells.centroids, vector) : 0;
    this.prepare(`INSERT INTO ${this.info.table} (rowid, cell_key, embedding) VALUES (?, CAST(? AS INTEGER), ?)`).run(
      BigInt(id),
      namespaceId * CELL_SLOTS + cell,
      vectorBytes(vector),
    );
  }

  /** Zeroes a vector (vec0 only flags deleted rows) and deletes it. */
  remove(id: number): void {
    this.prepare(`UPDATE ${this.info.table} SET embedding = ? WHERE rowid = ?`).run(
      vectorBytes(new Float32Array(this.info.dims)),
      BigInt(id),
    );
    this.prepare(`DELETE FROM ${this.info.table} WHERE rowid = ?`).run(BigInt(id));
  }

  /** Forgets a namespace's centroids (after its vectors were removed). */
  dropNamespace(namespaceId: number): void {
    this.prepare('DELETE FROM vector_cells WHERE namespace_id = ?').run(namespaceId);
    this.cells.delete(namespaceId);
  }

  /**
   * The `k` nearest vectors of a namespace, as cosine similarities (vectors are unit length: cos = 1 − d²/2). A
   * clustered namespace takes at most `perCell` from each cell it scans: vec0's cost grows with k, and the deeper
   * hits are wanted only as a wider net (a question's own turns), not in exact order.
   */
  nearest(namespaceId: number, query: Float32Array, k: number, perCell = k): Array<{ id: number; cosine: number }> {
    const cells = this.cellsOf(namespaceId);
    const keys = cells
      ? [
          0,
          ...nearest(cells.centroids, query, Math.max(1, Math.ceil(cells.centroids.length * PROBED_SHARE))).map(
            (cell) => cell + 1,
          ),
        ].map((cell) => namespaceId * CELL_SLOTS + cell)
      : [namespaceId * CELL_SLOTS];
    const knn = this.prepare(
      `SELECT rowid AS id, distance FROM ${this.info.table} WHERE embedding MATCH ? AND k = ? AND cell_key = CAST(? AS INTEGER)`,
    );
    const bytes = vectorBytes(query);
    const each = cells ? Math.min(k, perCell) : k;
    const hits = keys.flatMap((key) => knn.all(bytes, each, key) as Array<{ id: number; distance: number }>);
    return hits
      .sort((a, b) => a.distance - b.distance)
      .slice(0, k)
      .map((hit) => ({ id: hit.id, cosine: 1 - (hit.distance * hit.distance) / 2 }));
  }

  /** Cosine similarity between `query` and one stored vector. */
  cosine(id: number, query: Float32Array): number | undefined {
    return this.prepare(`SELECT 1 - vec_distance_cosine(embedding, ?) FROM ${this.info.table} WHERE rowid = ?`)
      .pluck()
      .get(vectorBytes(query), BigInt(id)) as number | undefined;
  }

  /**
   * Clusters a namespace once it is big enough (or has grown enough since it was last clustered) and moves its
   * vectors to their cells. Runs inside the caller's write transaction; a one-off cost of about a second per
   * 50,000 vectors.
   */
  maintain(namespaceId: number): void {
    const count = this.prepare('SELECT count(*) FROM memories WHERE namespace_id = ?')
      .pluck()
      .get(namespaceId) as number;
    const cells = this.cellsOf(namespaceId);
    if (count < IVF_MIN_VECTORS || (cells && count < cells.trainedAt * RETRAIN_GROWTH)) return;
    this.train(namespaceId);
  }

  /** (Re)clusters a namespace's vectors and moves each to its cell's partition. */
  train(namespaceId: number): void {
    const cells = this.cellsOf(namespaceId);
    const keys = [
      namespaceId * CELL_SLOTS,
      ...(cells ? cells.centroids.map((_, cell) => namespaceId * CELL_SLOTS + cell + 1) : []),
    ];
    const rows: Array<{ id: number; vector: Float32Array }> = [];
    const scan = this.prepare(
      `SELECT rowid AS id, embedding FROM ${this.info.table} WHERE cell_key = CAST(? AS INTEGER)`,
    );
    for (const key of keys) {
      for (const row of scan.all(key) as Array<{ id: number; embedding: Buffer }>) {
        const copy = new Uint8Array(row.embedding);
        rows.push({ id: row.id, vector: new Float32Array(copy.buffer) });
      }
    }
    // About sqrt(n)/20 cells, a power of two: ~2,500-10,000 vectors each. Fewer, larger cells mean fewer KNN queries
    // per search, and each sqlite-vec query has a fixed cost.
    const cellCount = Math.min(CELL_SLOTS - 1, 2 ** Math.round(Math.log2(Math.max(8, Math.sqrt(rows.length) / 20))));
    const centroids = sphericalKMeans(
      sample(
        rows.map((row) => row.vector),
        TRAINING_SAMPLE,
      ),
      cellCount,
      this.info.dims,
    );
    this.prepare('DELETE FROM vector_cells WHERE namespace_id = ?').run(namespaceId);
    const saveCell = this.prepare(
      'INSERT INTO vector_cells (namespace_id, cell, centroid, trained_at) VALUES (?, ?, ?, ?)',
    );
    for (const [cell, centroid] of centroids.entries())
      saveCell.run(namespaceId, cell, vectorBytes(centroid), rows.length);
    this.cells.set(namespaceId, { centroids, trainedAt: rows.length });
    const remove = this.prepare(`DELETE FROM ${this.info.table} WHERE rowid = ?`);
    for (const row of rows) {
      remove.run(BigInt(row.id));
      this.insert(row.id, namespaceId, row.vector);
    }
  }

  private cellsOf(namespaceId: number): Cells | null {
    // Another process (the chat beside the Slack bot) may have clustered or re-clustered the namespace since.
    const version = this.prepare('PRAGMA data_version').pluck().get() as number;
    if (version !== this.seenVersion) {
      this.cells.clear();
      this.seenVersion = version;
    }
    let cells = this.cells.get(namespaceId);
    if (cells === undefined) {
      const rows = this.prepare(
        'SELECT centroid, trained_at FROM vector_cells WHERE namespace_id = ? ORDER BY cell',
      ).all(namespaceId) as Array<{
        centroid: Buffer;
        trained_at: number;
      }>;
      cells =
        rows.length === 0
          ? null
          : {
              centroids: rows.map((row) => new Float32Array(new Uint8Array(row.centroid).buffer)),
              trainedAt: rows[0]!.trained_at,
            };
      this.cells.set(namespaceId, cells);
    }
    return cells;
  }
}

const dot = (a: Float32Array, b: Float32Array): number => {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
};

/**
 * The partition cell of a vector: its nearest centroid's (1-based), or 0 — the overflow cell every query scans — for
 * a vector unlike every centroid, which a query near it could otherwise never reach.
 */
function cellOf(centroids: readonly Float32Array[], vector: Float32Array): number {
  const cell = closest(centroids, vector);
  return dot(centroids[cell]!, vector) < OUTLIER_SIMILARITY ? 0 : cell + 1;
}

/** Index of the centroid most similar to `vector`. */
function closest(centroids: readonly Float32Array[], vector: Float32Array): number {
  let best = 0;
  let bestSimilarity = -Infinity;
  centroids.forEach((centroid, index) => {
    const similarity = dot(centroid, vector);
    if (similarity > bestSimilarity) [best, bestSimilarity] = [index, similarity];
  });
  return best;
}

/** Indices of the `count` centroids most similar to `vector`, best first. */
function nearest(centroids: readonly Float32Array[], vector: Float32Array, count: number): number[] {
  return centroids
    .map((centroid, index) => ({ index, similarity: dot(centroid, vector) }))
    .sort((a, b) => b.similarity - a.similarity)
    .slice(0, count)
    .map((entry) => entry.index);
}

/** Every step-th vector, so training cost stays bounded (deterministic: no randomness in what gets stored). */
function sample<T>(items: readonly T[], size: number): T[] {
  if (items.length <= size) return [...items];
  const step = items.length / size;
  return Array.from({ length: size }, (_, index) => items[Math.floor(index * step)]!);
}

/** k-means on the unit sphere (cosine): centroids are normalised means of their members. */
export function sphericalKMeans(vectors: readonly Float32Array[], cells: number, dims: number): Float32Array[] {
  const count = Math.min(cells, vectors.length);
  // Spread the initial centroids over the sample deterministically.
  let centroids = Array.from({ length: count }, (_, index) =>
    Float32Array.from(vectors[Math.floor((index * vectors.length) / count)]!),
  );
  const assignment = new Int32Array(vectors.length);
  for (let iteration = 0; iteration < KMEANS_ITERATIONS; iteration++) {
    for (const [index, vector] of vectors.entries()) assignment[index] = closest(centroids, vector);
    const sums = Array.from({ length: count }, () => new Float64Array(dims));
    vectors.forEach((vector, index) => {
      const sum = sums[assignment[index]!]!;
      for (let i = 0; i < dims; i++) sum[i] = sum[i]! + vector[i]!;
    });
    centroids = sums.map((sum, cell) => {
      const norm = Math.hypot(...sum);
      // An empty cell keeps its old centroid.
      return norm > 0 ? Float32Array.from(sum, (value) => value / norm) : centroids[cell]!;
    });
  }
  return centroids;
}
