import type { Embedder } from './embedders/types.js';
import type { MemoryStore } from './port.js';
import { PostgresMemoryStore, type PostgresMemoryStoreOptions } from './postgres/store.js';
import { type OpenDatabaseOptions, openDatabase } from './sqlite/database.js';
import { SqliteMemoryStore, type SqliteMemoryStoreOptions } from './sqlite/store.js';
import { checkEmbedderId, embedderMismatch } from './sqlite/vectors.js';

/** Options of {@link openStore}: those of every backend (a backend ignores what it has no use for). */
export interface OpenStoreOptions
  extends SqliteMemoryStoreOptions,
    OpenDatabaseOptions,
    Pick<PostgresMemoryStoreOptions, 'poolSize'> {
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
  if (isPostgresLocation(location)) return openPostgres(location, options);
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

async function openPostgres(url: string, options: OpenStoreOptions): Promise<MemoryStore> {
  const { buildEmbedder, ...rest } = options;
  if (!buildEmbedder) return PostgresMemoryStore.open(url, rest);
  // Checked without the embedder first, as for a file: a mismatch must cost no cache build or network call.
  const unbound = await PostgresMemoryStore.open(url, { ...rest, embedder: undefined });
  try {
    const existing = await unbound.vectorIndex();
    if (existing && existing.embedderId !== buildEmbedder.id) throw embedderMismatch(existing, buildEmbedder.id);
  } finally {
    await unbound.close();
  }
  return PostgresMemoryStore.open(url, { ...rest, embedder: await buildEmbedder.build() });
}
