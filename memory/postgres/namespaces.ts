import type pg from 'pg';
import type { Scope } from '../types.js';
import type { Queryable } from './vectors.js';

/** The key of a scope's namespace row: its id, or '' for the global scope. */
export const scopeKey = (scope: Scope): string => (scope.kind === 'global' ? '' : scope.id);

/**
 * The namespace of `scope`, created if it has none, with its row locked against forget (`FOR NO KEY UPDATE`:
 * the write also updates its counters). Created with ON CONFLICT DO NOTHING and read again, so two processes
 * creating it at once agree; a forget that deletes it between the two is waited for and the row made again.
 */
export async function lockNamespace(client: pg.ClientBase, scope: Scope, now: Date): Promise<number> {
  for (;;) {
    await client.query(
      'INSERT INTO namespaces (kind, key, created_at) VALUES ($1, $2, $3) ON CONFLICT (kind, key) DO NOTHING',
      [scope.kind, scopeKey(scope), now.getTime()],
    );
    const id = await findNamespace(client, scope, 'FOR NO KEY UPDATE');
    if (id !== undefined) return id;
  }
}

export async function findNamespace(
  client: Queryable,
  scope: Scope,
  lock: '' | 'FOR UPDATE' | 'FOR NO KEY UPDATE' = '',
): Promise<number | undefined> {
  const { rows } = await client.query<{ id: number }>(
    `SELECT id FROM namespaces WHERE kind = $1 AND key = $2 ${lock}`,
    [scope.kind, scopeKey(scope)],
  );
  return rows[0]?.id;
}
