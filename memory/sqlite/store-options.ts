import type { Embedder } from '../embedders/types.js';
import type { QueryGenerator, QueryPlan } from '../retrieval/query.js';
import type { RankWeights } from '../retrieval/rank.js';
import type { MemoryKind } from '../types.js';
import type { SearchDepth } from './search.js';

// The options and results of SqliteMemoryStore's methods (store.ts re-exports them).

/** Options of `SqliteMemoryStore`. */
export interface SqliteMemoryStoreOptions {
  /**
   * Embeds memories and queries; must match the embedder the file was indexed with. Without one the store can
   * still list, export and forget, but not write or search.
   */
  embedder?: Embedder;
  /** φq: turns a query into a retrieval plan. @default ruleQueryGenerator (offline rules) */
  queryGenerator?: QueryGenerator;
  /** Source of "now" for default timestamps and relative dates. @default () => new Date() */
  clock?: () => Date;
}

/** Options of `SqliteMemoryStore.search`. */
export interface SearchOptions {
  /** How many results. @default 10 */
  k?: number | undefined;
  /** Only these kinds. @default every kind */
  kinds?: readonly MemoryKind[];
  /** Include facts that were superseded or invalidated. @default false */
  history?: boolean;
  /** Attach this many neighbouring turns on each side of an episode as context. @default 0 */
  context?: number;
  /** Earlier messages of the conversation, for short follow-up questions. */
  conversation?: readonly string[];
  /** A ready plan (e.g. from an LLM rewrite); skips the query generator. */
  plan?: QueryPlan | undefined;
  /** Overrides of the ranking weights. */
  weights?: Partial<RankWeights>;
  /** Overrides of how many candidates each stage keeps (more: better recall, slower). */
  depth?: Partial<SearchDepth>;
  signal?: AbortSignal | undefined;
}

/** Progress of a long write (embedding a big ingest, reindexing). */
export type ProgressListener = (progress: { done: number; total: number }) => void;

/** Options of `SqliteMemoryStore.addEpisodes`. */
export interface AddEpisodesOptions extends TurnWriteOptions {
  /** Progress of embedding the turns. */
  onProgress?: ProgressListener;
  /**
   * Skip a turn whose `sourceId` the scope already holds, so a file ingested twice is stored once. Turns without
   * a `sourceId` are always appended. @default false
   */
  skipKnownSourceIds?: boolean;
}

/** What `SqliteMemoryStore.forget` removed. */
export interface ForgetResult {
  /** Memories deleted. */
  deleted: number;
  /** A user's ratings deleted with them. */
  ratings: number;
  /**
   * False when another process's open read kept the write-ahead log from being flushed: the deleted bytes stay in it
   * until a later checkpoint (forgetting again, or any writer's, once that read ends).
   */
  flushed: boolean;
}

/** Options of a write that belongs to a conversation turn. */
export interface TurnWriteOptions {
  signal?: AbortSignal | undefined;
  /**
   * The thread key (`SqliteMemoryStore.threadKey`) of the turn that writes: if its user has been forgotten
   * since the key was made, nothing is written (a turn running when its user said "forget me" keeps nothing).
   */
  thread?: string | undefined;
}
