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
  /**
   * Rewrite the file after every forget, so no copy of a deleted row survives (see `SqliteMemoryStore.forget`).
   * `false` for deleting many users at once: each forget then only marks the file and returns `flushed: false`,
   * and one `checkpoint()` at the end (or the next forget that rewrites) does it. Postgres has no such switch: it
   * rewrites the tables a forget touched every time. @default true
   */
  rewriteOnForget?: boolean | undefined;
}
