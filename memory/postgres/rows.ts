import type { MemoryRow, ParsedMemoryId } from '../sqlite/rows.js';
import type { Queryable } from './vectors.js';

/** Columns of a memory row (sqlite/rows.ts `MemoryRow`), with provenance folded in as a comma list. */
export const MEMORY_COLUMNS = `m.id, m.namespace_id, m.kind, m.text, m.role, m.session, m.at, m.valid_to, m.supersedes, m.source_id, m.created_at,
  (SELECT string_agg(s.episode_id::text, ',' ORDER BY s.episode_id) FROM fact_sources s WHERE s.fact_id = m.id) AS provenance`;

/** Row columns a search reads for every candidate (provenance is looked up for the results only). */
export const SEARCH_COLUMNS =
  'm.id, m.namespace_id, m.kind, m.text, m.role, m.session, m.at, m.valid_to, m.supersedes, m.source_id, m.created_at, NULL AS provenance, m.word_ids';

/**
 * SQL matching the row a parsed id names, its id and its kind, with parameters `$<first>` and `$<first + 1>` bound
 * to {@link idValues}.
 */
export const idMatches = (first: number): string =>
  `m.id = $${first} AND (m.kind = 'episode') = ($${first + 1}::text = 'episode')`;
export const idValues = (parsed: ParsedMemoryId): [number, string] => [parsed.row, parsed.kind];

/** Up to `radius` turns before and after each given episode in its session, oldest first. */
export async function neighbourRows(
  client: Queryable,
  namespaceId: number,
  ids: readonly number[],
  radius: number,
): Promise<Map<number, MemoryRow[]>> {
  const result = new Map<number, MemoryRow[]>();
  if (ids.length === 0) return result;
  // One query for every anchor: each anchor's `radius` turns on either side by (at, id), through the session index.
  const { rows } = await client.query<MemoryRow & { anchor: number }>(
    `SELECT a.id AS anchor, n.* FROM memories a
     CROSS JOIN LATERAL (
       (SELECT ${MEMORY_COLUMNS} FROM memories m WHERE m.namespace_id = a.namespace_id AND m.session = a.session
          AND (m.at, m.id) < (a.at, a.id) ORDER BY m.at DESC, m.id DESC LIMIT $3)
       UNION ALL
       (SELECT ${MEMORY_COLUMNS} FROM memories m WHERE m.namespace_id = a.namespace_id AND m.session = a.session
          AND (m.at, m.id) > (a.at, a.id) ORDER BY m.at, m.id LIMIT $3)
     ) n
     WHERE a.id = ANY($1::bigint[]) AND a.namespace_id = $2 AND a.kind = 'episode' AND a.session IS NOT NULL
     ORDER BY a.id, n.at, n.id`,
    [ids, namespaceId, radius],
  );
  for (const { anchor, ...row } of rows) {
    const around = result.get(anchor) ?? [];
    around.push(row);
    result.set(anchor, around);
  }
  return result;
}
