import type Database from 'better-sqlite3';
import { embedChecked } from '../embedders/batch.js';
import type { Embedder } from '../embedders/types.js';
import type { ReindexOptions } from '../port.js';
import { CELL_SLOTS, VectorIndex } from './vector-index.js';
import { createVectorTable, readVectorIndexInfo, recordVectorIndex, vectorBytes, wordIdBytes } from './vectors.js';

/**
 * Rebuilds every vector with `embedder` (after changing embedders). The new index and word ids are built beside the
 * live ones while other processes go on writing, then swapped in by one transaction that first embeds what was added
 * meanwhile and drops what was deleted: an interrupted reindex leaves the file as it was, a finished one misses nothing.
 */
export async function reindex(
  db: Database.Database,
  embedder: Embedder,
  options: ReindexOptions = {},
): Promise<{ memories: number }> {
  const previous = readVectorIndexInfo(db);
  const next = previous ? Number(/\d+$/.exec(previous.table)![0]) + 1 : 1;
  const table = `memory_vectors_${next}`;
  const words = `reindex_word_ids_${next}`;
  // Left over by an interrupted reindex.
  db.exec(`DROP TABLE IF EXISTS ${table}; DROP TABLE IF EXISTS ${words}`);
  createVectorTable(db, table, embedder.dims);
  db.exec(`CREATE TABLE ${words} (id INTEGER PRIMARY KEY, word_ids BLOB)`);
  const total = db.prepare('SELECT count(*) FROM memories').pluck().get() as number;
  // Ids only grow (see SqliteMemoryStore.reserveIds), so rows added meanwhile come after the last one read.
  const page = db.prepare('SELECT id, namespace_id, text FROM memories WHERE id > ? ORDER BY id LIMIT ?');
  // Every namespace starts unclustered (cell 0); big ones are re-clustered below once the new index is live.
  const insert = db.prepare(
    `INSERT INTO ${table} (rowid, cell_key, embedding) VALUES (?, CAST(? AS INTEGER) * ${CELL_SLOTS}, ?)`,
  );
  const keepWords = db.prepare(`INSERT INTO ${words} (id, word_ids) VALUES (?, ?)`);
  const batchSize = options.batchSize ?? 256;
  let done = 0;
  let after = 0;
  /** Embeds the rows after `after`, page by page; returns when none is left. */
  const embedNewRows = async (): Promise<void> => {
    for (;;) {
      const rows = page.all(after, batchSize) as Array<{ id: number; namespace_id: number; text: string }>;
      if (rows.length === 0) return;
      const vectors = await embedChecked(
        embedder,
        rows.map((row) => row.text),
        options.signal,
      );
      db.transaction(() =>
        rows.forEach((row, index) => {
          insert.run(BigInt(row.id), row.namespace_id, vectorBytes(vectors[index]!));
          keepWords.run(row.id, wordIdBytes(embedder, row.text));
        }),
      )();
      after = rows.at(-1)!.id;
      done += rows.length;
      options.onProgress?.({ done, total: Math.max(total, done) });
    }
  };
  try {
    for (let swapped = false; !swapped; ) {
      await embedNewRows();
      swapped = db
        .transaction(() => {
          // A row added since the last page: embed it first (outside the lock), then try again.
          if (page.get(after, 1) !== undefined) return false;
          const deleted = db
            .prepare(`SELECT id FROM ${words} WHERE id NOT IN (SELECT id FROM memories)`)
            .pluck()
            .all() as number[];
          const unindex = db.prepare(`DELETE FROM ${table} WHERE rowid = ?`);
          for (const id of deleted) unindex.run(BigInt(id));
          done -= deleted.length;
          db.exec(`UPDATE memories SET word_ids = (SELECT w.word_ids FROM ${words} w WHERE w.id = memories.id)`);
          recordVectorIndex(db, { embedderId: embedder.id, dims: embedder.dims, table });
          db.exec(`DELETE FROM vector_cells; DROP TABLE ${words}`);
          if (previous) db.exec(`DROP TABLE ${previous.table}`);
          return true;
        })
        .immediate();
    }
    const index = new VectorIndex((sql) => db.prepare(sql), {
      embedderId: embedder.id,
      dims: embedder.dims,
      table,
    });
    for (const namespaceId of db.prepare('SELECT id FROM namespaces').pluck().all() as number[]) {
      db.transaction(() => index.maintain(namespaceId)).immediate();
    }
  } catch (error) {
    if (readVectorIndexInfo(db)?.table !== table)
      db.exec(`DROP TABLE IF EXISTS ${table}; DROP TABLE IF EXISTS ${words}`);
    throw error;
  }
  db.pragma('wal_checkpoint(TRUNCATE)');
  return { memories: done };
}
