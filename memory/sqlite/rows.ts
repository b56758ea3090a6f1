import { InputError } from '../errors.js';
import type { Memory, MemoryKind, Scope } from '../types.js';

/** A `memories` row as SQLite returns it. */
export interface MemoryRow {
  id: number;
  namespace_id: number;
  kind: MemoryKind;
  text: string;
  role: string | null;
  session: string | null;
  at: number;
  valid_to: number | null;
  supersedes: number | null;
  source_id: string | null;
  created_at: number;
  provenance: string | null;
  word_ids?: Buffer | null;
}

/** Columns of {@link MemoryRow}, with provenance folded in as a comma list. */
export const MEMORY_COLUMNS = `m.id, m.namespace_id, m.kind, m.text, m.role, m.session, m.at, m.valid_to, m.supersedes, m.source_id, m.created_at,
  (SELECT group_concat(s.episode_id) FROM fact_sources s WHERE s.fact_id = m.id) AS provenance`;

/** Public id of a row: `e12` for an episode, `f34` for a fact. */
export const memoryId = (kind: MemoryKind, id: number): string => `${kind === 'episode' ? 'e' : 'f'}${id}`;

/** A public memory id taken apart: `e12` is episode row 12, `f34` fact row 34 (any fact kind). */
export interface ParsedMemoryId {
  readonly kind: 'episode' | 'fact';
  readonly row: number;
}

/** Parses a public memory id strictly: the letter is required, and reads must check it against the row's kind. */
export function parseMemoryId(id: string): ParsedMemoryId {
  const match = typeof id === 'string' ? /^([ef])(\d{1,15})$/.exec(id) : null;
  if (!match) throw new InputError(`not a memory id: ${JSON.stringify(id)} (ids look like e12 or f34)`);
  return { kind: match[1] === 'e' ? 'episode' : 'fact', row: Number(match[2]) };
}

/** SQL matching the row a {@link ParsedMemoryId} names, bound as `.get(...idParameters(parsed))`: its id and its kind. */
export const ID_MATCHES = "id = ? AND (kind = 'episode') = (? = 'episode')";
export const idParameters = (parsed: ParsedMemoryId): [number, string] => [parsed.row, parsed.kind];

export function toMemory(row: MemoryRow, scope: Scope): Memory {
  return {
    id: memoryId(row.kind, row.id),
    kind: row.kind,
    scope,
    text: row.text,
    role: row.role,
    session: row.session,
    at: new Date(row.at),
    validTo: row.valid_to === null ? null : new Date(row.valid_to),
    supersedes: row.supersedes === null ? null : memoryId('fact', row.supersedes),
    sourceId: row.source_id,
    provenance: row.provenance ? row.provenance.split(',').map((episode) => memoryId('episode', Number(episode))) : [],
    createdAt: new Date(row.created_at),
  };
}
