import type pg from 'pg';
import { embedChecked } from '../embedders/batch.js';
import type { Embedder } from '../embedders/types.js';
import { StoreError } from '../errors.js';
import type { ReindexOptions } from '../port.js';
import { wordIdBytes } from '../retrieval/pipeline.js';
import { identifier, transaction, withClient } from './database.js';
import { MIGRATION_LOCK } from './migrations.js';
import { readVectorIndexInfo, recordVectorIndex, tableGeneration, type VectorStorage, vectorTable } from './vectors.js';

/** The channel a finished reindex notifies, with the new vector table's name as payload. */
export const REINDEX_CHANNEL = 'mnemo_reindex';

/** Key of the session advisory lock one reindex at a time holds. */
const REINDEX_LOCK = MIGRATION_LOCK + 1;

/** Rows still missing after this many tries outside the swap's lock are embedded under it. */
const SWAP_TRIES = 3;

type Page = Array<{ id: number; namespace_id: number; text: string }>;

/**
 * Rebuilds every vector with `embedder` in a new table beside the live one while other processes go on writing,
 * page by page, then swaps it in with one transaction that locks writers out (`LOCK TABLE memories IN SHARE MODE`;
 * every write takes ROW EXCLUSIVE before it reads the live table's name), embeds what the anti-join finds missing
 * (ids are not in commit order, so "after the last id read" would miss rows), drops what was deleted, records the
 * new table in `meta` and notifies `mnemo_reindex`. Stores read the live table at the start of each operation, so
 * they follow the swap. An interrupted reindex leaves the database as it was.
 */
export async function reindexVectors(
  pool: pg.Pool,
  storage: VectorStorage,
  embedder: Embedder,
  options: ReindexOptions = {},
): Promise<{ memories: number }> {
  return withClient(pool, async (lock) => {
    const { rows: taken } = await lock.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [
      REINDEX_LOCK,
    ]);
    if (!taken[0]?.locked) throw new StoreError('store_failed', 'another reindex of this database is running');
    try {
      return await rebuild(pool, storage, embedder, options, lock);
    } finally {
      await lock.query('SELECT pg_advisory_unlock($1)', [REINDEX_LOCK]);
    }
  });
}

async function rebuild(
  pool: pg.Pool,
  storage: VectorStorage,
  embedder: Embedder,
  options: ReindexOptions,
  lock: pg.ClientBase,
): Promise<{ memories: number }> {
  // The server may not have had pgvector installed yet (a store opened without an embedder).
  await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
  try {
    await storage.install(lock);
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
  }
  const previous = await readVectorIndexInfo(pool);
  const generation = (previous ? tableGeneration(previous.table) : 0) + 1;
  const table = vectorTable(generation);
  const words = `reindex_word_ids_${generation}`;
  const drop = `DROP TABLE IF EXISTS ${identifier(table)}; DROP TABLE IF EXISTS ${identifier(words)}`;
  await lock.query(drop); // left over by an interrupted reindex
  await storage.create(lock, table, embedder.dims);
  await lock.query(`CREATE TABLE ${identifier(words)} (id bigint PRIMARY KEY, word_ids bytea)`);
  const batchSize = options.batchSize ?? 256;
  const { rows: counted } = await pool.query<{ n: number }>('SELECT count(*) AS n FROM memories');
  const total = counted[0]?.n ?? 0;
  let done = 0;
  const embedPage = async (client: pg.ClientBase | pg.Pool, rows: Page, inTransaction: boolean): Promise<void> => {
    const vectors = await embedChecked(
      embedder,
      rows.map((row) => row.text),
      options.signal,
    );
    const write = async (writer: pg.ClientBase) => {
      await storage.insert(
        writer,
        table,
        rows.map((row, index) => ({ id: row.id, namespaceId: row.namespace_id, vector: vectors[index]! })),
      );
      await writer.query(
        `INSERT INTO ${identifier(words)} (id, word_ids) SELECT * FROM unnest($1::bigint[], $2::bytea[])`,
        [rows.map((row) => row.id), rows.map((row) => wordIdBytes(embedder, row.text))],
      );
    };
    if (inTransaction) await write(client as pg.ClientBase);
    else await transaction(pool, write);
    done += rows.length;
    options.onProgress?.({ done, total: Math.max(total, done) });
  };
  const missing = (client: pg.ClientBase | pg.Pool) =>
    client
      .query<Page[number]>(
        `SELECT m.id, m.namespace_id, m.text FROM memories m
         WHERE NOT EXISTS (SELECT 1 FROM ${identifier(table)} t WHERE t.id = m.id) ORDER BY m.id LIMIT $1`,
        [batchSize],
      )
      .then((result) => result.rows);
  try {
    for (let after = 0; ; ) {
      const { rows } = await pool.query<Page[number]>(
        'SELECT id, namespace_id, text FROM memories WHERE id > $1 ORDER BY id LIMIT $2',
        [after, batchSize],
      );
      if (rows.length === 0) break;
      await embedPage(pool, rows, false);
      after = rows.at(-1)!.id;
    }
    for (let attempt = 1; ; attempt++) {
      // One pass over what is missing now: writers faster than the embedder must not keep the reindex from ending
      // (after SWAP_TRIES passes, what is still missing is embedded under the swap's lock).
      const { rows: counted } = await pool.query<{ n: string }>(
        `SELECT count(*) AS n FROM memories m WHERE NOT EXISTS (SELECT 1 FROM ${identifier(table)} t WHERE t.id = m.id)`,
      );
      for (let pages = Math.ceil(Number(counted[0]?.n ?? 0) / batchSize); pages > 0; pages--) {
        const rows = await missing(pool);
        if (rows.length === 0) break;
        await embedPage(pool, rows, false);
      }
      const swapped = await transaction(pool, async (client) => {
        await client.query('LOCK TABLE memories IN SHARE MODE');
        let rows = await missing(client);
        if (rows.length > 0 && attempt < SWAP_TRIES) return false;
        for (; rows.length > 0; rows = await missing(client)) await embedPage(client, rows, true);
        const { rowCount: deleted } = await client.query(
          `DELETE FROM ${identifier(table)} t WHERE NOT EXISTS (SELECT 1 FROM memories m WHERE m.id = t.id)`,
        );
        done -= deleted ?? 0;
        await client.query(
          `UPDATE memories m SET word_ids = w.word_ids FROM ${identifier(words)} w
           WHERE w.id = m.id AND m.word_ids IS DISTINCT FROM w.word_ids`,
        );
        await recordVectorIndex(client, { embedderId: embedder.id, dims: embedder.dims, table });
        await client.query(`DROP TABLE ${identifier(words)}`);
        if (previous) await client.query(`DROP TABLE IF EXISTS ${identifier(previous.table)}`);
        // Delivered at commit; listeners re-read meta (every store also does at the start of each operation).
        await client.query('SELECT pg_notify($1, $2)', [REINDEX_CHANNEL, table]);
        return true;
      });
      if (swapped) break;
    }
  } catch (error) {
    if ((await readVectorIndexInfo(pool).catch(() => undefined))?.table !== table)
      await lock.query(drop).catch(() => undefined);
    throw error;
  }
  return { memories: done };
}
