import type Database from 'better-sqlite3';
import type { Scope } from '../types.js';
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

/**
 * Deletes what a (now empty) namespace owns beyond its memories: centroids, threads, persona, recommender rows.
 * Returns how many ratings went with it.
 */
export function deleteNamespace(
  prepare: Prepare,
  vectors: VectorIndex | undefined,
  namespaceId: number,
  scope: Scope,
): number {
  vectors?.dropNamespace(namespaceId);
  deleteThreads(prepare, namespaceId);
  const ratings = scope.kind === 'user' ? deleteRecommenderRows(prepare, scope.id) : 0;
  prepare('DELETE FROM persona_members WHERE user_namespace_id = ?').run(namespaceId);
  prepare('DELETE FROM namespaces WHERE id = ?').run(namespaceId);
  return ratings;
}

/**
 * The recommender's rows about a user (ratings, demographics); its trained model forgets them at the next training.
 * Returns how many ratings were deleted.
 */
export function deleteRecommenderRows(prepare: Prepare, userId: string): number {
  const { changes } = prepare('DELETE FROM rec_ratings WHERE user_id = ?').run(userId);
  prepare('DELETE FROM rec_users WHERE user_id = ?').run(userId);
  return changes;
}

/**
 * A conversation's checkpoint key in LangGraph's SqliteSaver tables: the owner's namespace id, `/`, the caller's
 * thread id. Keyed by namespace, two users can never share a thread, and forgetting one finds all of theirs.
 */
export const checkpointKey = (namespaceId: number, threadId: string): string => `${namespaceId}/${threadId}`;

/** The namespace id a {@link checkpointKey} was made for. */
export const checkpointNamespace = (key: string): number => Number(key.slice(0, key.indexOf('/')));

/**
 * Deletes a namespace's conversation checkpoints from LangGraph's SqliteSaver tables (created by the saver on first
 * use, so they may not exist).
 */
export function deleteThreads(prepare: Prepare, namespaceId: number): void {
  const prefix = checkpointKey(namespaceId, '');
  for (const table of ['checkpoints', 'writes']) {
    if (!prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table)) continue;
    // substr() rather than LIKE: thread ids may contain % and _.
    prepare(`DELETE FROM ${table} WHERE substr(thread_id, 1, ?) = ?`).run(prefix.length, prefix);
  }
}
