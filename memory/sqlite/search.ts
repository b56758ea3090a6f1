import type Database from 'better-sqlite3';
import { type RankedSearch, rankNamespace } from '../retrieval/pipeline.js';
import type { ScoreParts } from '../types.js';
import { matchExpression } from './fts-terms.js';
import type { MemoryRow } from './rows.js';
import { sessionNeighbours } from './sessions.js';
import type { VectorIndex } from './vector-index.js';

export { QueryWords, searchDepth } from '../retrieval/pipeline.js';

/** Everything one namespace's search needs. */
export interface NamespaceSearch extends RankedSearch {
  readonly namespaceId: number;
  readonly vectors: VectorIndex;
}

/** Row columns a search reads for every candidate (provenance is looked up for the results only). */
const SEARCH_COLUMNS =
  'm.id, m.namespace_id, m.kind, m.text, m.role, m.session, m.at, m.valid_to, m.supersedes, m.source_id, m.created_at, NULL AS provenance, m.word_ids';

type Prepare = (sql: string) => Database.Statement;

/**
 * BM25 (FTS5) and KNN (sqlite-vec) candidates of one namespace, ranked by the pipeline every backend shares
 * (memory/retrieval/pipeline.ts).
 */
export function searchNamespace(
  prepare: Prepare,
  search: NamespaceSearch,
): Promise<Array<{ row: MemoryRow; score: number; parts: ScoreParts }>> {
  const { namespaceId, vectors } = search;
  return rankNamespace<MemoryRow>(
    {
      async textHits(limit) {
        const match = matchExpression(namespaceId, search.plan.terms);
        if (!match) return [];
        return prepare(
          'SELECT rowid AS id, bm25(memories_fts) AS bm25 FROM memories_fts WHERE memories_fts MATCH ? ORDER BY bm25 LIMIT ?',
        ).all(match, limit) as Array<{ id: number; bm25: number }>;
      },
      async vectorHits(limit, perPartition) {
        return vectors.nearest(namespaceId, search.queryVector, limit, perPartition);
      },
      async rows(ids) {
        // `+m.namespace_id` keeps SQLite on the primary key: otherwise it scans the whole namespace with a bloom
        // filter.
        return prepare(
          `SELECT ${SEARCH_COLUMNS} FROM memories m WHERE m.id IN (SELECT value FROM json_each(?)) AND +m.namespace_id = ?`,
        ).all(JSON.stringify(ids), namespaceId) as MemoryRow[];
      },
      async cosines(ids) {
        const found = new Map<number, number>();
        for (const id of ids) {
          const cosine = vectors.cosine(id, search.queryVector);
          if (cosine !== undefined) found.set(id, cosine);
        }
        return found;
      },
      async sessionNeighbours(ids) {
        return sessionNeighbours(prepare, namespaceId, ids);
      },
      async provenance(ids) {
        const statement = prepare('SELECT group_concat(episode_id) FROM fact_sources WHERE fact_id = ?').pluck();
        return new Map(ids.map((id) => [id, (statement.get(id) as string | null) ?? null]));
      },
    },
    search,
  );
}
