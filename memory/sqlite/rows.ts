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

/** Row id behind a public memory id; plain numbers are accepted too. */
export function parseMemoryId(id: string): number {
  const match = /^[ef]?(\d{1,15})$/.exec(id.trim());
  if (!match) throw new InputError(`not a memory id: "${id}" (ids look like e12 or f34)`);
  return Number(match[1]);
}

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
