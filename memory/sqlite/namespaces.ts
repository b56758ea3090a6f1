import type Database from 'better-sqlite3';
import type { Scope } from '../types.js';

type Prepare = (sql: string) => Database.Statement;

const scopeKey = (scope: Scope): string => (scope.kind === 'global' ? '' : scope.id);

/** The id of a scope's namespace, if it has one. */
export function findNamespace(prepare: Prepare, scope: Scope): number | undefined {
  return prepare('SELECT id FROM namespaces WHERE kind = ? AND key = ?').pluck().get(scope.kind, scopeKey(scope)) as
    | number
    | undefined;
}

/** The id of a scope's namespace, created under the write lock (so two processes agree) when it has none. */
export function ensureNamespace(db: Database.Database, prepare: Prepare, scope: Scope): number {
  return (
    findNamespace(prepare, scope) ??
    db
      .transaction(() => {
        const found = findNamespace(prepare, scope);
        if (found !== undefined) return found;
        const id = reserveIds(prepare, 'namespaces', 1);
        prepare('INSERT INTO namespaces (id, kind, key, created_at) VALUES (?, ?, ?, ?)').run(
          id,
          scope.kind,
          scopeKey(scope),
          Date.now(),
        );
        return id;
      })
      .immediate()
  );
}

/**
 * Reserves `count` ids of `table` that no row has ever had, returning the first. SQLite would give a new row the
 * id of the newest deleted one; but an id a caller still holds (`e7`, a thread key) must never come to name someone
 * else's data. Runs inside the caller's write transaction.
 */
export function reserveIds(prepare: Prepare, table: 'memories' | 'namespaces', count: number): number {
  const key = `${table}.next_id`;
  const first = prepare(
    `SELECT max(coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = ?), 1), coalesce((SELECT max(id) FROM ${table}), 0) + 1)`,
  )
    .pluck()
    .get(key) as number;
  prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(
    key,
    String(first + count),
  );
  return first;
}
