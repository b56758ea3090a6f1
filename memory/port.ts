import type Database from 'better-sqlite3';
import type pg from 'pg';
import type { Embedder } from './embedders/types.js';
import type { QueryPlan } from './retrieval/query.js';
import type { RankWeights } from './retrieval/rank.js';
import type { EpisodeInput, FactChange, Memory, MemoryKind, Scope, SearchHit, UserScope } from './types.js';

/**
 * The memory store every caller uses, whatever holds the data: one SQLite file (the embedded default) or a
 * PostgreSQL database with pgvector that several processes share. Every method is async because Postgres is.
 * Open one with `openStore` (memory/open.ts); nothing outside memory/ names a backend.
 */
export interface MemoryStore {
  /** Which backend holds the data, and its connection, for the storage modules that share it (recommender, threads). */
  readonly backend: Backend;
  /** The embedder writes and searches use; throws when the store was opened without one. */
  readonly embedder: Embedder;
  /** The embedder the stored vectors were built with, once there are any. */
  vectorIndex(): Promise<VectorIndexInfo | undefined>;

  /**
   * Appends turns to a scope's episodic memory in one transaction: all are stored, or none.
   * @returns the stored turns (without those skipped by `skipKnownSourceIds`), in order.
   */
  addEpisodes(scope: Scope, inputs: readonly EpisodeInput[], options?: AddEpisodesOptions): Promise<Memory[]>;
  /**
   * Applies changes to a scope's semantic memory in one transaction. A superseded or invalidated fact is closed
   * (`validTo` set), never deleted; when two writers supersede the same fact, one wins and the other is refused.
   * @returns the facts written (added or superseding), in order.
   */
  changeFacts(scope: Scope, changes: readonly FactChange[], options?: TurnWriteOptions): Promise<Memory[]>;

  /** One memory of `scope` by id, or undefined (also when it belongs to another scope). */
  get(scope: Scope, id: string): Promise<Memory | undefined>;
  /** A scope's memories, newest first. */
  list(scope: Scope, options?: ListOptions): Promise<Memory[]>;
  /** Counts of a scope's memories by kind (current facts only). */
  count(scope: Scope): Promise<Record<MemoryKind, number>>;
  /** The turns around an episode in its session, oldest first (the episode itself excluded). */
  neighbours(scope: Scope, id: string, radius?: number): Promise<Memory[]>;
  /**
   * Hybrid search across `scopes` (the first takes precedence): full text and vector KNN fused with word-level late
   * interaction, boosted by the speaker and the time the query names. Results carry their score parts.
   */
  search(scopes: readonly Scope[], query: string, options?: SearchOptions): Promise<SearchHit[]>;
  /** Everything stored about a scope, history included, oldest first. */
  export(scope: Scope): Promise<{ scope: Scope; memories: Memory[] }>;
  /** Every scope that holds memories. */
  scopes(kind?: Scope['kind']): Promise<Scope[]>;
  /**
   * Writes memories as {@link export} returned them (from this store or another backend's) into a scope that holds
   * none yet, in one transaction: times, fact history, supersede links and provenance are kept; ids are new.
   * @returns each exported id with the id it now has.
   */
  restore(scope: Scope, memories: readonly Memory[], options?: AddEpisodesOptions): Promise<Map<string, string>>;
  /**
   * Rebuilds every vector with `embedder` (after changing embedders) beside the live index while other processes go
   * on writing, then swaps it in at once; other processes follow the swap instead of failing.
   */
  reindex(embedder: Embedder, options?: ReindexOptions): Promise<{ memories: number }>;

  /**
   * Deletes one memory, or the whole scope when `id` is omitted. Forgetting a user also runs every storage module's
   * forget step (threads, ratings, ...) in the same transaction, and leaves no copy of the text behind (each backend
   * documents exactly how far that guarantee goes).
   */
  forget(scope: Scope, id?: string): Promise<ForgetResult>;

  /** Places a user in a persona (or takes them out with `null`); recall then merges the persona's memory. */
  setPersona(user: UserScope, persona: string | null, assignedBy?: 'hand' | 'auto'): Promise<void>;
  /** The persona a user belongs to, if any. */
  personaOf(user: UserScope): Promise<{ persona: string; assignedBy: 'hand' | 'auto' } | undefined>;
  /** How many users are placed in a persona. */
  personaMembers(persona: string): Promise<number>;

  /**
   * Starts a conversation turn of `user` in thread `threadId`. Writes that pass the turn store nothing once the user
   * has been forgotten (by this process or another), and {@link Turn.end} then deletes what the turn checkpointed.
   */
  beginTurn(user: UserScope, threadId: string): Promise<Turn>;

  close(): Promise<void>;
}

/** A conversation turn in flight: what the agent's nodes ask before they store anything. */
export interface Turn {
  readonly user: UserScope;
  /**
   * The thread's checkpoint key (LangGraph's `thread_id`): the user's namespace, a slash, the caller's thread id.
   * Two users can never share or reach each other's thread, and forgetting a user deletes every key with their prefix.
   */
  readonly threadKey: string;
  /** True once the user has been forgotten since the turn began. */
  forgotten(): Promise<boolean>;
  /** Ends the turn: if its user was forgotten meanwhile, deletes what the turn left under its thread key. */
  end(): Promise<void>;
}

/** What a backend is and its connection, for storage modules that keep their tables beside memory's. */
export type Backend =
  | { readonly kind: 'sqlite'; readonly db: Database.Database; readonly location: string }
  | { readonly kind: 'postgres'; readonly pool: pg.Pool; readonly location: string };

/** The user a forget step removes. */
export interface ForgetTarget {
  /**
   * The user's id; undefined when only what a turn left behind after its user was forgotten is removed ({@link
   * Turn.end}): the id may belong to a new user by then, so steps keyed by it must skip.
   */
  readonly userId: string | undefined;
  /** The prefix of every thread key ({@link Turn.threadKey}) of the user; undefined when they never had one. */
  readonly threadPrefix: string | undefined;
}

/**
 * Storage owned by another module (the recommender's ratings, the agent's threads) in the same database: its own
 * migrations, and its own step when a user is forgotten. The store runs the migrations when it opens, and the forget
 * steps in its forget transaction, so forgetting a user is one transaction whatever the modules are.
 */
export interface StorageModule {
  /** Unique; the version of its schema is recorded under this name. */
  readonly name: string;
  readonly sqlite: {
    /** Append-only; each runs in its own transaction. */
    readonly migrations: ReadonlyArray<(db: Database.Database) => void>;
    /** Deletes the user's rows; returns counts to report by what they are (`{ ratings: 3 }`). */
    forget?(db: Database.Database, target: ForgetTarget): Record<string, number>;
  };
  readonly postgres: {
    /** Append-only; each runs in its own transaction, under the migration lock. */
    readonly migrations: ReadonlyArray<(client: pg.ClientBase) => Promise<void>>;
    /** Runs after the migrations, still under the lock (for a library that creates its own tables). */
    setup?(pool: pg.Pool): Promise<void>;
    forget?(client: pg.ClientBase, target: ForgetTarget): Promise<Record<string, number>>;
  };
}

/** The embedder a database's vectors were built with. */
export interface VectorIndexInfo {
  readonly embedderId: string;
  readonly dims: number;
  /** Name of the live vector table; a reindex builds a new one and swaps the name atomically. */
  readonly table: string;
}

/** Options of {@link MemoryStore.list}. */
export interface ListOptions {
  kinds?: readonly MemoryKind[];
  /** Include facts that were superseded or invalidated. @default false */
  history?: boolean;
  limit?: number;
}

/** How many candidates each search stage keeps (more: better recall, slower). */
export interface SearchDepth {
  /** Full-text candidates. @default max(60, 2k) */
  text: number;
  /** Vector KNN candidates. @default max(25, k) */
  vector: number;
  /** Candidates re-ranked with late interaction and session context. @default max(60, 2k) */
  rerank: number;
  /**
   * For a question about the asker ("my", "I", "me"): how many more of the user's own turns are re-ranked beyond
   * `rerank`, so other speakers' longer turns cannot crowd them out. @default 40
   */
  own: number;
  /** How deep in the vector ranking those own turns are looked for. @default max(100, k) */
  ownVector: number;
}

/** Options of {@link MemoryStore.search}. */
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
  /** Overrides of how many candidates each stage keeps. */
  depth?: Partial<SearchDepth>;
  signal?: AbortSignal | undefined;
}

/** Progress of a long write (embedding a big ingest, reindexing, migrating). */
export type ProgressListener = (progress: { done: number; total: number }) => void;

/** Options of {@link MemoryStore.reindex}. */
export interface ReindexOptions {
  /** Texts embedded per call. @default 256 */
  batchSize?: number;
  onProgress?: ProgressListener;
  signal?: AbortSignal | undefined;
}

/** Options of a write that belongs to a conversation turn. */
export interface TurnWriteOptions {
  signal?: AbortSignal | undefined;
  /** The turn that writes: if its user has been forgotten since it began, nothing is written. */
  turn?: Turn | undefined;
}

/** Options of {@link MemoryStore.addEpisodes}. */
export interface AddEpisodesOptions extends TurnWriteOptions {
  /** Progress of embedding the turns. */
  onProgress?: ProgressListener;
  /**
   * Skip a turn whose `sourceId` the scope already holds, so a file ingested twice is stored once. Turns without
   * a `sourceId` are always appended. @default false
   */
  skipKnownSourceIds?: boolean;
}

/** What {@link MemoryStore.forget} removed. */
export interface ForgetResult {
  /** Memories deleted. */
  deleted: number;
  /** What the storage modules' forget steps deleted with a user, by what it is (`{ ratings: 3, threads: 1 }`). */
  alsoDeleted: Record<string, number>;
  /**
   * False when the backend could not yet drop every copy of the deleted bytes (SQLite: another connection was
   * writing, so the file could not be rewritten, or another process's open read kept the write-ahead log from being
   * flushed); a later forget or checkpoint finishes it.
   */
  flushed: boolean;
}
