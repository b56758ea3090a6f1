import type { Embedder } from '../embedders/types.js';
import type { StorageModule } from '../port.js';
import type { QueryGenerator } from '../retrieval/query.js';

/** Options of `SqliteMemoryStore`. */
export interface SqliteMemoryStoreOptions {
  /**
   * Embeds memories and queries; must match the embedder the file was indexed with. Without one the store can
   * still list, export and forget, but not write or search.
   */
  embedder?: Embedder | undefined;
  /** φq: turns a query into a retrieval plan. @default ruleQueryGenerator (offline rules) */
  queryGenerator?: QueryGenerator | undefined;
  /** Source of "now" for default timestamps and relative dates. @default () => new Date() */
  clock?: (() => Date) | undefined;
  /** Other modules' tables in the same file: their migrations run at open, their forget steps with a user's. */
  modules?: readonly StorageModule[] | undefined;
}
