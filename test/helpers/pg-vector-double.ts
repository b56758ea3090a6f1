import type { VectorStorage } from '../../memory/postgres/vectors.js';

const quoted = (table: string): string => `"${table.replaceAll('"', '""')}"`;

const dot = (a: readonly number[], b: Float32Array): number => {
  let sum = 0;
  for (let i = 0; i < b.length; i++) sum += (a[i] ?? 0) * b[i]!;
  return sum;
};

/**
 * Vectors in a plain `real[]` column, compared in JavaScript: a stand-in for pgvector on a server without it (the
 * stock PostgreSQL the concurrency tests run on). Exact, and slow for anything but a test.
 */
export const plainVectorStorage: VectorStorage = {
  async install() {},
  async create(client, table) {
    await client.query(
      `CREATE TABLE ${quoted(table)} (id bigint PRIMARY KEY, namespace_id bigint NOT NULL, embedding real[] NOT NULL)`,
    );
  },
  async insert(client, table, rows) {
    if (rows.length === 0) return;
    await client.query(
      `INSERT INTO ${quoted(table)} (id, namespace_id, embedding)
       SELECT id, namespace_id, embedding::real[] FROM unnest($1::bigint[], $2::bigint[], $3::text[]) AS r (id, namespace_id, embedding)`,
      [
        rows.map((row) => row.id),
        rows.map((row) => row.namespaceId),
        rows.map((row) => `{${Array.from(row.vector).join(',')}}`),
      ],
    );
  },
  async nearest(client, table, namespaceId, query, k) {
    const { rows } = await client.query<{ id: number; embedding: number[] }>(
      `SELECT id, embedding FROM ${quoted(table)} WHERE namespace_id = $1`,
      [namespaceId],
    );
    return rows
      .map((row) => ({ id: Number(row.id), cosine: dot(row.embedding, query) }))
      .sort((a, b) => b.cosine - a.cosine || a.id - b.id)
      .slice(0, k);
  },
  async cosines(client, table, ids, query) {
    const { rows } = await client.query<{ id: number; embedding: number[] }>(
      `SELECT id, embedding FROM ${quoted(table)} WHERE id = ANY($1::bigint[])`,
      [ids],
    );
    return new Map(rows.map((row) => [Number(row.id), dot(row.embedding, query)]));
  },
};
