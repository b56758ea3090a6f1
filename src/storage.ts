import {
  type MemoryStore,
  type OpenStoreOptions,
  openStore as openMemoryStore,
  type StorageModule,
} from '../memory/index.js';
import { recommenderStorageModule } from '../recommender/index.js';
import { threadsStorageModule } from './graph/threads.js';

/**
 * Everything mnemo keeps beside memory in the same database, each module with its own tables, migrations and forget
 * step: the composition root hands them to the store, which runs their migrations at open and their forget steps in
 * its own forget transaction.
 */
export const STORAGE_MODULES: readonly StorageModule[] = [threadsStorageModule, recommenderStorageModule];

/**
 * Opens mnemo's memory at `location` — a SQLite file path or a `postgres://` URL — with every module's tables.
 *
 * @example
 * const store = await openStore('mnemo.db', { embedder: await GloveEmbedder.load() });
 * const agent = createAgent({ store, model });
 */
export function openStore(location: string, options: Omit<OpenStoreOptions, 'modules'> = {}): Promise<MemoryStore> {
  return openMemoryStore(location, { ...options, modules: STORAGE_MODULES });
}
