import type { ParsedMemoryId } from '../sqlite/rows.js';

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
