import type Database from 'better-sqlite3';
import { MEMORY_COLUMNS, type MemoryRow } from './rows.js';

type Prepare = (sql: string) => Database.Statement;

// Turns of a session are ordered by (at, id); row-value comparisons let SQLite seek the
// (namespace_id, session, at, id) index instead of scanning the session.

/** The previous and next episode of each given episode in its session. */
export function sessionNeighbours(
  prepare: Prepare,
  namespaceId: number,
  ids: readonly number[],
): Map<number, number[]> {
  const rows = prepare(
    `SELECT a.id AS id,
       (SELECT p.id FROM memories p WHERE p.namespace_id = a.namespace_id AND p.session = a.session
          AND (p.at, p.id) < (a.at, a.id) ORDER BY p.at DESC, p.id DESC LIMIT 1) AS previous,
       (SELECT n.id FROM memories n WHERE n.namespace_id = a.namespace_id AND n.session = a.session
          AND (n.at, n.id) > (a.at, a.id) ORDER BY n.at, n.id LIMIT 1) AS next
     FROM memories a WHERE a.id IN (SELECT value FROM json_each(?)) AND +a.namespace_id = ? AND +a.kind = 'episode' AND a.session IS NOT NULL`,
  ).all(JSON.stringify(ids), namespaceId) as Array<{ id: number; previous: number | null; next: number | null }>;
  return new Map(rows.map((row) => [row.id, [row.previous, row.next].filter((id): id is number => id !== null)]));
}

/** Up to `radius` turns before and after each given episode in its session, oldest first. */
export function neighbourRows(
  prepare: Prepare,
  namespaceId: number,
  ids: readonly number[],
  radius: number,
): Map<number, MemoryRow[]> {
  const result = new Map<number, MemoryRow[]>();
  const anchor = prepare("SELECT session, at FROM memories WHERE id = ? AND namespace_id = ? AND kind = 'episode'");
  const before = prepare(
    `SELECT ${MEMORY_COLUMNS} FROM memories m WHERE m.namespace_id = ? AND m.session = ? AND (m.at, m.id) < (?, ?)
     ORDER BY m.at DESC, m.id DESC LIMIT ?`,
  );
  const after = prepare(
    `SELECT ${MEMORY_COLUMNS} FROM memories m WHERE m.namespace_id = ? AND m.session = ? AND (m.at, m.id) > (?, ?)
     ORDER BY m.at, m.id LIMIT ?`,
  );
  for (const id of ids) {
    const origin = anchor.get(id, namespaceId) as { session: string | null; at: number } | undefined;
    if (!origin || origin.session === null) continue;
    const earlier = (before.all(namespaceId, origin.session, origin.at, id, radius) as MemoryRow[]).reverse();
    const later = after.all(namespaceId, origin.session, origin.at, id, radius) as MemoryRow[];
    result.set(id, [...earlier, ...later]);
  }
  return result;
}
