import type pg from 'pg';
import type { NamespaceSource } from '../retrieval/pipeline.js';
import type { QueryPlan } from '../retrieval/query.js';
import type { MemoryRow } from '../sqlite/rows.js';
import { textMatches } from './fts.js';
import { SEARCH_COLUMNS } from './rows.js';
import type { VectorStorage } from './vectors.js';

/** One namespace's data for the shared ranking pipeline (memory/retrieval/pipeline.ts), read from PostgreSQL. */
export function namespaceSource(
  pool: pg.Pool,
  storage: VectorStorage,
  search: { namespaceId: number; table: string; plan: QueryPlan; queryVector: Float32Array },
): NamespaceSource<MemoryRow> {
  const { namespaceId, table, queryVector } = search;
  return {
    textHits: (limit) => textMatches(pool, namespaceId, search.plan.terms, limit),
    vectorHits: (limit) => storage.nearest(pool, table, namespaceId, queryVector, limit),
    async rows(ids) {
      // In the order of `ids`, as SQLite returns them: the ranking's ties keep the order candidates were found in.
      const { rows } = await pool.query<MemoryRow>(
        `SELECT ${SEARCH_COLUMNS} FROM unnest($1::bigint[]) WITH ORDINALITY AS wanted (id, position)
         JOIN memories m ON m.id = wanted.id WHERE m.namespace_id = $2 ORDER BY wanted.position`,
        [ids, namespaceId],
      );
      return rows;
    },
    cosines: (ids) => storage.cosines(pool, table, ids, queryVector),
    async sessionNeighbours(ids) {
      const { rows } = await pool.query<{ id: number; previous: number | null; next: number | null }>(
        `SELECT a.id,
           (SELECT p.id FROM memories p WHERE p.namespace_id = a.namespace_id AND p.session = a.session
              AND (p.at, p.id) < (a.at, a.id) ORDER BY p.at DESC, p.id DESC LIMIT 1) AS previous,
           (SELECT n.id FROM memories n WHERE n.namespace_id = a.namespace_id AND n.session = a.session
              AND (n.at, n.id) > (a.at, a.id) ORDER BY n.at, n.id LIMIT 1) AS next
         FROM memories a
         WHERE a.id = ANY($1::bigint[]) AND a.namespace_id = $2 AND a.kind = 'episode' AND a.session IS NOT NULL`,
        [ids, namespaceId],
      );
      return new Map(rows.map((row) => [row.id, [row.previous, row.next].filter((id): id is number => id !== null)]));
    },
    async provenance(ids) {
      const { rows } = await pool.query<{ id: number; provenance: string | null }>(
        `SELECT f.id, (SELECT string_agg(s.episode_id::text, ',' ORDER BY s.episode_id) FROM fact_sources s
                       WHERE s.fact_id = f.id) AS provenance
         FROM unnest($1::bigint[]) AS f (id)`,
        [ids],
      );
      return new Map(rows.map((row) => [row.id, row.provenance]));
    },
  };
}
