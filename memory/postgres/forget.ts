import type pg from 'pg';
import type { ForgetTarget, StorageModule } from '../port.js';
import { identifier, withClient } from './database.js';

/** A thread key: the owner's namespace id, `/`, the caller's thread id (the same as SQLite's checkpointKey). */
export const threadKey = (namespaceId: number, threadId: string): string => `${namespaceId}/${threadId}`;

/** The namespace id a {@link threadKey} was made for. */
export const threadNamespace = (key: string): number => Number(key.slice(0, key.indexOf('/')));

/** The forget target of a user; one without a namespace has no threads. */
export const forgetTarget = (userId: string, namespaceId: number | undefined): ForgetTarget => ({
  userId,
  threadPrefix: namespaceId === undefined ? undefined : threadKey(namespaceId, ''),
});

/** Runs every module's forget step for `target` in the caller's transaction; returns what they report, summed. */
export async function forgetInModules(
  client: pg.ClientBase,
  modules: readonly StorageModule[],
  target: ForgetTarget,
): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const module of modules) {
    const removed = (await module.postgres.forget?.(client, target)) ?? {};
    for (const [what, count] of Object.entries(removed)) counts[what] = (counts[what] ?? 0) + count;
  }
  return counts;
}

/**
 * The tables the caller's transaction has deleted or updated rows of so far (the store's and the modules' alike):
 * the ones whose files still hold the forgotten bytes once it commits.
 */
export async function touchedTables(client: pg.ClientBase): Promise<string[]> {
  const { rows } = await client.query<{ schema: string; name: string }>(
    `SELECT schemaname AS schema, relname AS name FROM pg_stat_xact_user_tables
     WHERE n_tup_del > 0 OR n_tup_upd > 0 ORDER BY 1, 2`,
  );
  return rows.map((row) => `${identifier(row.schema)}.${identifier(row.name)}`);
}

/** How long the cleanup waits for a table's lock before giving up (the forget itself is already committed). */
const VACUUM_LOCK_TIMEOUT = '10s';

/**
 * Rewrites `tables` (quoted, as {@link touchedTables} names them) with `VACUUM FULL`, indexes included, so
 * deleted rows leave the relation files. Returns false when a table could not be rewritten (another session held a
 * lock past the timeout, or the role may not vacuum it).
 */
export async function rewriteTables(pool: pg.Pool, tables: readonly string[]): Promise<boolean> {
  if (tables.length === 0) return true;
  return withClient(pool, async (client) => {
    let flushed = true;
    await client.query(`SET lock_timeout = '${VACUUM_LOCK_TIMEOUT}'`);
    try {
      for (const table of tables) {
        await client.query(`VACUUM FULL ${table}`).catch(() => {
          flushed = false;
        });
      }
    } finally {
      await client.query('RESET lock_timeout');
    }
    return flushed;
  });
}
