import { FakeEmbedder } from '../../memory/embedders/fake.js';
import type { Embedder } from '../../memory/embedders/types.js';
import type { StorageModule } from '../../memory/port.js';
import { openPostgresStore, type PostgresMemoryStore } from '../../memory/postgres/store.js';
import { STORAGE_MODULES } from '../../src/storage.js';
import { plainVectorStorage } from '../helpers/pg-vector-double.js';

/** The embedder every replica of a concurrency test uses (they must agree, as replicas in production do). */
export const replicaEmbedder = (): FakeEmbedder => new FakeEmbedder({ dims: 32, id: 'fake-replica' });

/** Options of {@link openReplica}. */
export interface ReplicaOptions {
  /** @default {@link replicaEmbedder} */
  readonly embedder?: Embedder;
  /** @default every module mnemo opens its store with (src/storage.ts), PostgresSaver's setup included */
  readonly modules?: readonly StorageModule[];
  /** @default 4 */
  readonly poolSize?: number;
}

/**
 * One replica's store on the concurrency server: its own pg.Pool, the production store and migrations, and the
 * vectors in a plain-array double, since that server has no pgvector (PostgreSQL 15 from Debian).
 */
export function openReplica(url: string, options: ReplicaOptions = {}): Promise<PostgresMemoryStore> {
  return openPostgresStore(
    url,
    {
      embedder: options.embedder ?? replicaEmbedder(),
      modules: options.modules ?? STORAGE_MODULES,
      poolSize: options.poolSize ?? 4,
    },
    plainVectorStorage,
  );
}
