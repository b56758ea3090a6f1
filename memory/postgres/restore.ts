import type pg from 'pg';
import { InputError } from '../errors.js';
import { memoryId } from '../sqlite/rows.js';
import { describeScope, type Memory, type MemoryKind, type Scope } from '../types.js';
import { checkRestored } from '../write-input.js';

/** A memory row as the store inserts it (a restored one, or a new one). */
export interface RestoredRow {
  kind: MemoryKind;
  text: string;
  role: string | null;
  session: string | null;
  at: number;
  validTo: number | null;
  sourceId: string | null;
  createdAt: number;
  vector: Float32Array;
}

/**
 * Writes exported memories into an empty namespace in the caller's transaction: new ids, the same times, history,
 * supersede links and provenance (links to memories that are not in `memories` are dropped).
 * @returns each exported id with its new id.
 */
export async function restoreMemories(
  client: pg.ClientBase,
  restore: {
    scope: Scope;
    namespaceId: number;
    memories: readonly Memory[];
    vectors: readonly Float32Array[];
    insert: (rows: readonly RestoredRow[]) => Promise<number[]>;
  },
): Promise<Map<string, string>> {
  const { scope, namespaceId, memories } = restore;
  const { rowCount } = await client.query('SELECT 1 FROM memories WHERE namespace_id = $1 LIMIT 1', [namespaceId]);
  if (rowCount !== 0)
    throw new InputError(`${describeScope(scope)} already holds memories; restore only into an empty scope`);
  const rows = checkRestored(memories).map(
    (memory, index): RestoredRow => ({ ...memory, vector: restore.vectors[index]! }),
  );
  const ids = await restore.insert(rows);
  const mapping = new Map<string, string>();
  const newRow = new Map<string, number>();
  memories.forEach((memory, index) => {
    newRow.set(memory.id, ids[index]!);
    mapping.set(memory.id, memoryId(rows[index]!.kind, ids[index]!));
  });
  const links: Array<[number, number]> = [];
  const sources: Array<[number, number]> = [];
  memories.forEach((memory, index) => {
    const id = ids[index]!;
    const replaced = memory.supersedes === null ? undefined : newRow.get(memory.supersedes);
    if (replaced !== undefined) links.push([id, replaced]);
    for (const episode of memory.provenance ?? []) {
      const source = newRow.get(episode);
      if (source !== undefined && episode.startsWith('e')) sources.push([id, source]);
    }
  });
  if (links.length > 0)
    await client.query(
      `UPDATE memories m SET supersedes = l.replaced FROM unnest($1::bigint[], $2::bigint[]) AS l (id, replaced)
       WHERE m.id = l.id`,
      [links.map((link) => link[0]), links.map((link) => link[1])],
    );
  if (sources.length > 0)
    await client.query(
      `INSERT INTO fact_sources (fact_id, episode_id) SELECT * FROM unnest($1::bigint[], $2::bigint[])
       ON CONFLICT DO NOTHING`,
      [sources.map((source) => source[0]), sources.map((source) => source[1])],
    );
  return mapping;
}
