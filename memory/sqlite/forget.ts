import type Database from 'better-sqlite3';
import type { VectorIndex } from './vector-index.js';

type Prepare = (sql: string) => Database.Statement;

/**
 * Deletes memory rows with everything that indexes them: vectors (zeroed first), full-text postings, provenance and
 * supersede links. Runs inside the caller's transaction.
 */
export function deleteMemories(prepare: Prepare, vectors: VectorIndex | undefined, ids: readonly number[]): void {
  const unlink = prepare('UPDATE memories SET supersedes = NULL WHERE supersedes = ?');
  const remove = prepare('DELETE FROM memories WHERE id = ?');
  const unindex = prepare('DELETE FROM memories_fts WHERE rowid = ?');
  for (const id of ids) {
    vectors?.remove(id);
    unindex.run(BigInt(id));
    unlink.run(id);
    remove.run(id);
  }
  // Deleted rows are gone from the full-text postings, but their words can survive as separator keys of the
  // index's b-tree; rewriting the index drops them.
  if (ids.length > 0) prepare("INSERT INTO memories_fts (memories_fts) VALUES ('optimize')").run();
}

const REWRITE_PENDING = 'forget.rewrite_pending';

/**
 * Records, inside the forgetting transaction, that the file must be rewritten: `secure_delete` zeroes a row where it
 * is deleted, but when SQLite once moved a row between pages (a page split or merge) it leaves the old copy in the
 * page's unused space, and only a rewrite drops it. Recorded with the delete, a rewrite cut short (another writer,
 * a crash) is finished by the next forget or checkpoint.
 */
export function markRewrite(prepare: Prepare): void {
  prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING').run(REWRITE_PENDING, '1');
}

/** Whether a forget marked the file for a rewrite that has not run yet. */
export const rewritePending = (prepare: Prepare): boolean =>
  prepare('SELECT 1 FROM meta WHERE key = ?').get(REWRITE_PENDING) !== undefined;

/**
 * Rewrites the whole file (`VACUUM`) when a forget marked it, so no stale copy of a deleted row survives in a live
 * page: seconds for a gigabyte. Returns false when it could not run now (another connection is writing, a statement
 * of this one is still open, or the disk is full); the mark stays for a later try.
 */
export function rewriteIfMarked(db: Database.Database, prepare: Prepare): boolean {
  if (!rewritePending(prepare)) return true;
  try {
    db.exec('VACUUM');
  } catch (error) {
    if (String((error as { code?: unknown }).code).startsWith('SQLITE_')) return false;
    throw error;
  }
  prepare('DELETE FROM meta WHERE key = ?').run(REWRITE_PENDING);
  return true;
}

/** Deletes what a (now empty) namespace owns beyond its memories: centroids and persona membership. */
export function deleteNamespace(prepare: Prepare, vectors: VectorIndex | undefined, namespaceId: number): void {
  vectors?.dropNamespace(namespaceId);
  prepare('DELETE FROM persona_members WHERE user_namespace_id = ?').run(namespaceId);
  prepare('DELETE FROM namespaces WHERE id = ?').run(namespaceId);
}

/**
 * A conversation's thread key: the owner's namespace id, `/`, the caller's thread id. Keyed by namespace, two users
 * can never share a thread, and forgetting one finds all of theirs by prefix.
 */
export const checkpointKey = (namespaceId: number, threadId: string): string => `${namespaceId}/${threadId}`;

/** The namespace id a {@link checkpointKey} was made for. */
export const checkpointNamespace = (key: string): number => Number(key.slice(0, key.indexOf('/')));
