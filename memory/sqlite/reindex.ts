import type Database from 'better-sqlite3';
import type { Embedder, EmbedOptions } from '../embedders/types.js';
import { StoreError } from '../errors.js';
import { CELL_SLOTS, VectorIndex } from './vector-index.js';
import { createVectorTable, readVectorIndexInfo, recordVectorIndex, vectorBytes, wordIdBytes } from './vectors.js';

/** Options of {@link reindex}. */
export interface ReindexOptions extends EmbedOptions {
  /** Texts embedded per call. @default 256 */
  batchSize?: number;
  onProgress?: (progress: { done: number; total: number }) => void;
}

/**
 * Rebuilds every vector with `embedder` (after changing embedders). The new index is built beside the live one
 * and swapped in one transaction, so an interrupted reindex leaves the file as it was.
 */
export async function reindex(db: Database.Database, embedder: Embedder, options: ReindexOptions = {}): Promise<{ memories: number }> {
  const previous = readVectorIndexInfo(db);
  const next = previous ? Number(/\d+$/.exec(previous.table)![0]) + 1 : 1;
  const table = `memory_vectors_${next}`;
  db.exec(`DROP TABLE IF EXISTS ${table}`); // left over by an interrupted reindex
  createVectorTable(db, table, embedder.dims);
  const total = db.prepare('SELECT count(*) FROM memories').pluck().get() as number;
  const page = db.prepare('SELECT id, namespace_id, text FROM memories WHERE id > ? ORDER BY id LIMIT ?');
  // Every namespace starts unclustered (cell 0); big ones are re-clustered below once the new index is live.
  const insert = db.prepare(`INSERT INTO ${table} (rowid, cell_key, embedding) VALUES (?, CAST(? AS INTEGER) * ${CELL_SLOTS}, ?)`);
  const words = db.prepare('UPDATE memories SET word_ids = ? WHERE id = ?');
  const batchSize = options.batchSize ?? 256;
  let done = 0;
  let after = 0;
  try {
    for (;;) {
      const rows = page.all(after, batchSize) as Array<{ id: number; namespace_id: number; text: string }>;
      if (rows.length === 0) break;
      const vectors = await embedder.embed(
        rows.map((row) => row.text),
        options.signal ? { signal: options.signal } : {},
      );
      if (vectors.length !== rows.length || vectors.some((vector) => vector.length !== embedder.dims)) {
        throw new StoreError('store_failed', `embedder ${embedder.id} returned vectors of the wrong count or size`);
      }
      db.transaction(() =>
        rows.forEach((row, index) => {
          insert.run(BigInt(row.id), row.namespace_id, vectorBytes(vectors[index]!));
          words.run(wordIdBytes(embedder, row.text), row.id);
        }),
      )();
      after = rows.at(-1)!.id;
      done += rows.length;
      options.onProgress?.({ done, total });
    }
    db.transaction(() => {
      recordVectorIndex(db, { embedderId: embedder.id, dims: embedder.dims, table });
      db.exec('DELETE FROM vector_cells');
      if (previous) db.exec(`DROP TABLE ${previous.table}`);
    }).immediate();
    const index = new VectorIndex(db, (sql) => db.prepare(sql), { embedderId: embedder.id, dims: embedder.dims, table });
    for (const namespaceId of db.prepare('SELECT id FROM namespaces').pluck().all() as number[]) {
      db.transaction(() => index.maintain(namespaceId)).immediate();
    }
  } catch (error) {
    db.exec(`DROP TABLE IF EXISTS ${table}`);
    throw error;
  }
  db.pragma('wal_checkpoint(TRUNCATE)');
  return { memories: done };
}
