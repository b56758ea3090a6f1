import type pg from 'pg';
import pgvector from 'pgvector';
import type { Embedder } from '../embedders/types.js';
import { StoreError } from '../errors.js';
import type { VectorIndexInfo } from '../port.js';
import { identifier } from './database.js';

/** A pool or a client: what a read runs on. */
export type Queryable = pg.Pool | pg.ClientBase;

/**
 * Where the vectors live, behind the few operations the store needs. Production uses {@link pgvectorStorage};
 * a test on a server without pgvector (the stock PostgreSQL of the concurrency tests) substitutes a double through
 * `openPostgresStore` (store.ts). Tables are named by the store (`memory_vectors_<n>`) and have columns `id`
 * (the memory's id, primary key) and `namespace_id`; deleting rows and dropping tables is plain SQL the store runs.
 */
export interface VectorStorage {
  /** Makes sure the server can hold vectors, installing what it needs; runs under the migration lock. */
  install(client: pg.ClientBase): Promise<void>;
  /** Creates an empty vector table of `dims`-long vectors. */
  create(client: pg.ClientBase, table: string, dims: number): Promise<void>;
  insert(
    client: pg.ClientBase,
    table: string,
    rows: ReadonlyArray<{ id: number; namespaceId: number; vector: Float32Array }>,
  ): Promise<void>;
  /** A namespace's `k` nearest vectors to `query`, exactly (no approximate index), as cosine similarities. */
  nearest(
    client: Queryable,
    table: string,
    namespaceId: number,
    query: Float32Array,
    k: number,
  ): Promise<Array<{ id: number; cosine: number }>>;
  /** The cosine of `query` with each of `ids`' vectors (absent ids are left out). */
  cosines(client: Queryable, table: string, ids: readonly number[], query: Float32Array): Promise<Map<number, number>>;
}

/** The oldest pgvector accepted: 0.8 brought iterative index scans, which filtered searches need. */
const PGVECTOR_MINIMUM = [0, 8, 0];

const older = (version: string, minimum: readonly number[]): boolean => {
  const parts = version.split('.').map((part) => Number.parseInt(part, 10) || 0);
  for (let i = 0; i < minimum.length; i++) if ((parts[i] ?? 0) !== minimum[i]) return (parts[i] ?? 0) < minimum[i]!;
  return false;
};

const vectorText = (vector: Float32Array): string => pgvector.toSql(Array.from(vector)) as string;

/**
 * Vectors in pgvector `vector(N)` columns, searched exactly per namespace through a btree on namespace_id.
 * Vectors are only written as text and distances read back, never vectors, so no type parser is registered.
 */
export const pgvectorStorage: VectorStorage = {
  async install(client) {
    const { rows } = await client.query<{ installed: string | null; available: string | null }>(
      `SELECT (SELECT extversion FROM pg_extension WHERE extname = 'vector') AS installed,
              (SELECT default_version FROM pg_available_extensions WHERE name = 'vector') AS available`,
    );
    const { installed, available } = rows[0] ?? { installed: null, available: null };
    const wanted = `pgvector ${PGVECTOR_MINIMUM.join('.')} or newer`;
    if (installed !== null) {
      if (older(installed, PGVECTOR_MINIMUM))
        throw new StoreError(
          'store_failed',
          `mnemo needs ${wanted}, and this database has ${installed}; install a newer pgvector on the server and run ALTER EXTENSION vector UPDATE`,
        );
      return;
    }
    if (available === null || older(available, PGVECTOR_MINIMUM))
      throw new StoreError(
        'store_failed',
        `mnemo needs ${wanted} on the PostgreSQL server (it has ${available ?? 'none'}); install it (e.g. the postgresql-<version>-pgvector package, or a managed PostgreSQL that offers the vector extension) and open the store again`,
      );
    try {
      await client.query('CREATE EXTENSION IF NOT EXISTS vector');
    } catch (error) {
      throw new StoreError(
        'store_failed',
        `could not create the pgvector extension (${(error as Error).message}); run CREATE EXTENSION vector as a database owner`,
        { cause: error },
      );
    }
  },
  async create(client, table, dims) {
    await client.query(
      `CREATE TABLE ${identifier(table)} (
         id           bigint PRIMARY KEY,
         namespace_id bigint NOT NULL,
         embedding    vector(${Number(dims)}) NOT NULL
       );
       CREATE INDEX ${identifier(`${table}_by_namespace`)} ON ${identifier(table)} (namespace_id)`,
    );
  },
  async insert(client, table, rows) {
    if (rows.length === 0) return;
    // Vectors go as text and are cast: an array parameter of an extension type is not serialized by every server.
    await client.query(
      `INSERT INTO ${identifier(table)} (id, namespace_id, embedding)
       SELECT id, namespace_id, embedding::vector FROM unnest($1::bigint[], $2::bigint[], $3::text[]) AS r (id, namespace_id, embedding)`,
      [rows.map((row) => row.id), rows.map((row) => row.namespaceId), rows.map((row) => vectorText(row.vector))],
    );
  },
  async nearest(client, table, namespaceId, query, k) {
    // `+ 0` keeps the planner on the namespace's btree and an exact scan: an approximate index with a namespace
    // filter can return fewer than k rows.
    const { rows } = await client.query<{ id: number; distance: number }>(
      `SELECT id, embedding <-> $2::vector AS distance FROM ${identifier(table)}
       WHERE namespace_id = $1 ORDER BY (embedding <-> $2::vector) + 0, id LIMIT $3`,
      [namespaceId, vectorText(query), k],
    );
    // Unit vectors: cos = 1 − d²/2.
    return rows.map((row) => ({ id: row.id, cosine: 1 - (row.distance * row.distance) / 2 }));
  },
  async cosines(client, table, ids, query) {
    const { rows } = await client.query<{ id: number; cosine: number }>(
      `SELECT id, 1 - (embedding <=> $2::vector) AS cosine FROM ${identifier(table)} WHERE id = ANY($1::bigint[])`,
      [ids, vectorText(query)],
    );
    return new Map(rows.map((row) => [row.id, row.cosine]));
  },
};

/** The vector table name of generation `n`. */
export const vectorTable = (generation: number): string => `memory_vectors_${generation}`;

export const tableGeneration = (table: string): number => Number(/^memory_vectors_(\d+)$/.exec(table)?.[1] ?? 0);

/** The vector index recorded in `meta`, if any. */
export async function readVectorIndexInfo(client: Queryable): Promise<VectorIndexInfo | undefined> {
  const { rows } = await client.query<{ key: string; value: string }>(
    "SELECT key, value FROM meta WHERE key IN ('embedder.id', 'embedder.dims', 'vectors.table')",
  );
  const meta = new Map(rows.map((row) => [row.key, row.value]));
  const embedderId = meta.get('embedder.id');
  const dims = meta.get('embedder.dims');
  const table = meta.get('vectors.table');
  if (embedderId === undefined || dims === undefined || table === undefined) return undefined;
  return { embedderId, dims: Number(dims), table };
}

export async function recordVectorIndex(client: pg.ClientBase, info: VectorIndexInfo): Promise<void> {
  await client.query(
    `INSERT INTO meta (key, value) VALUES ('embedder.id', $1), ('embedder.dims', $2), ('vectors.table', $3)
     ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
    [info.embedderId, String(info.dims), info.table],
  );
}

/** The error for a database whose vectors another embedder built (the same words as SQLite's). */
export function embedderMismatch(existing: VectorIndexInfo, wanted: string): StoreError {
  return new StoreError(
    'embedder_mismatch',
    `this database was indexed with embedder ${existing.embedderId} (${existing.dims} dims), not ${wanted}; ` +
      `configure the original embedder or run \`mnemo reindex\` to rebuild the vectors with the new one`,
  );
}

export const describeEmbedder = (embedder: Embedder): string => `${embedder.id} (${embedder.dims} dims)`;

/**
 * Makes sure the database has a vector table for `embedder`: checks the server can hold vectors, creates the table
 * on a new database, accepts a matching one, and refuses one built by another embedder. Runs under the migration
 * lock, so replicas opening a new database at once create one table.
 */
export async function bindEmbedder(
  client: pg.ClientBase,
  storage: VectorStorage,
  embedder: Embedder,
): Promise<VectorIndexInfo> {
  await storage.install(client);
  await client.query('BEGIN');
  try {
    const existing = await readVectorIndexInfo(client);
    if (existing && (existing.embedderId !== embedder.id || existing.dims !== embedder.dims))
      throw embedderMismatch(existing, describeEmbedder(embedder));
    const info: VectorIndexInfo = existing ?? { embedderId: embedder.id, dims: embedder.dims, table: vectorTable(1) };
    if (!existing) {
      await storage.create(client, info.table, info.dims);
      await recordVectorIndex(client, info);
    }
    await client.query('COMMIT');
    return info;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
