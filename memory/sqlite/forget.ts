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
