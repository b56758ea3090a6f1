import type { Embedder } from './embedders/types.js';
import type { MemoryStore } from './port.js';
import { type OpenDatabaseOptions, openDatabase } from './sqlite/database.js';
import { SqliteMemoryStore, type SqliteMemoryStoreOptions } from './sqlite/store.js';
import { checkEmbedderId } from './sqlite/vectors.js';

/** Options of {@link openStore}: those of every backend (a backend ignores what it has no use for). */
export interface OpenStoreOptions extends SqliteMemoryStoreOptions, OpenDatabaseOptions {
  /**
   * Instead of `embedder`: the id of the embedder to use and how to build it. The database is checked against the id
   * first, so opening one indexed by another embedder costs no cache build or network call.
   */
  buildEmbedder?: { readonly id: string; build(): Promise<Embedder> } | undefined;
}

/** True when `location` names a PostgreSQL database (`postgres://…` or `postgresql://…`) rather than a file. */
export const isPostgresLocation = (location: string): boolean => /^postgres(ql)?:\/\//i.test(location);

/**
 * Opens the memory store at `location`: a SQLite file path (created if missing; `:memory:` for a throwaway store)
 * or a PostgreSQL URL. Storage modules' migrations run as it opens.
 */
export async function openStore(location: string, options: OpenStoreOptions = {}): Promise<MemoryStore> {
  const db = openDatabase(location, options);
  try {
    let embedder = options.embedder;
    if (options.buildEmbedder) {
      checkEmbedderId(db, options.buildEmbedder.id);
      embedder = await options.buildEmbedder.build();
    }
    return new SqliteMemoryStore(db, { ...options, embedder });
  } catch (error) {
    db.close();
    throw error;
  }
}
