import type Database from 'better-sqlite3';
import type { Embedder } from '../embedders/types.js';
import { StoreError } from '../errors.js';
import type { VectorIndexInfo } from '../port.js';

export type { VectorIndexInfo } from '../port.js';

const getMeta = (db: Database.Database, key: string): string | undefined =>
  (db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value;

const setMeta = (db: Database.Database, key: string, value: string): void => {
  db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(
    key,
    value,
  );
};

export function readVectorIndexInfo(db: Database.Database): VectorIndexInfo | undefined {
  const embedderId = getMeta(db, 'embedder.id');
  const dims = getMeta(db, 'embedder.dims');
  const table = getMeta(db, 'vectors.table');
  if (embedderId === undefined || dims === undefined || table === undefined) return undefined;
  return { embedderId, dims: Number(dims), table };
}

export function createVectorTable(db: Database.Database, table: string, dims: number): void {
  if (!/^memory_vectors_\d+$/.test(table)) throw new Error(`bad vector table name ${table}`);
  // Partitioned by namespace (and, for big namespaces, by cell: see vector-index.ts), so a user's KNN never scans
  // another user's vectors. Vectors are unit length, so L2 orders like cosine and is sqlite-vec's cheaper distance.
  db.exec(
    `CREATE VIRTUAL TABLE ${table} USING vec0 (cell_key INTEGER PARTITION KEY, embedding FLOAT[${dims}] distance_metric=l2)`,
  );
}

/** The error for a file whose vectors another embedder built. */
export function embedderMismatch(existing: VectorIndexInfo, wanted: string): StoreError {
  return new StoreError(
    'embedder_mismatch',
    `this database was indexed with embedder ${existing.embedderId} (${existing.dims} dims), not ${wanted}; ` +
      `configure the original embedder or run \`mnemo reindex\` to rebuild the vectors with the new one`,
  );
}

/**
 * Refuses a file indexed by another embedder than `embedderId`, before that embedder is built (which may take a
 * network call or a cache build). {@link bindEmbedder} checks again, with the vector length.
 */
export function checkEmbedderId(db: Database.Database, embedderId: string): void {
  const existing = readVectorIndexInfo(db);
  if (existing && existing.embedderId !== embedderId) throw embedderMismatch(existing, embedderId);
}

/**
 * Makes sure the database has a vector index for `embedder`: creates one on a new file, accepts a matching one,
 * and refuses a file built by another embedder (its vectors would be meaningless to this one).
 */
export function bindEmbedder(db: Database.Database, embedder: Embedder): VectorIndexInfo {
  return db
    .transaction((): VectorIndexInfo => {
      const existing = readVectorIndexInfo(db);
      if (existing) {
        if (existing.embedderId !== embedder.id || existing.dims !== embedder.dims) {
          throw embedderMismatch(existing, `${embedder.id} (${embedder.dims} dims)`);
        }
        return existing;
      }
      const info: VectorIndexInfo = { embedderId: embedder.id, dims: embedder.dims, table: 'memory_vectors_1' };
      createVectorTable(db, info.table, info.dims);
      recordVectorIndex(db, info);
      return info;
    })
    .immediate();
}

export function recordVectorIndex(db: Database.Database, info: VectorIndexInfo): void {
  setMeta(db, 'embedder.id', info.embedderId);
  setMeta(db, 'embedder.dims', String(info.dims));
  setMeta(db, 'vectors.table', info.table);
}

/** Float32 vector as the bytes sqlite-vec expects. */
export const vectorBytes = (vector: Float32Array): Buffer =>
  Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);

export { readWordIds, wordIdBytes } from '../retrieval/pipeline.js';
