import type Database from 'better-sqlite3';
import { embedInBatches } from '../embedders/batch.js';
import type { Embedder } from '../embedders/types.js';
import { InputError, StoreError } from '../errors.js';
import { type QueryGenerator, ruleQueryGenerator } from '../retrieval/query.js';
import {
  describeScope,
  type EpisodeInput,
  type FactChange,
  type FactKind,
  type Memory,
  type MemoryKind,
  personaScope,
  type Scope,
  type SearchHit,
  type UserScope,
} from '../types.js';
import {
  MAX_ROLE,
  validateFactKind,
  validateK,
  validateOptionalString,
  validateScope,
  validateText,
  validateTime,
} from '../validate.js';
import { type OpenDatabaseOptions, openWith, statementCache } from './database.js';
import {
  checkpointKey,
  checkpointNamespace,
  deleteMemories,
  deleteNamespace,
  deleteRecommenderRows,
  deleteThreads,
} from './forget.js';
import { indexedTerms } from './fts-terms.js';
import { ensureNamespace, findNamespace, reserveIds } from './namespaces.js';
import { ID_MATCHES, idParameters, MEMORY_COLUMNS, type MemoryRow, memoryId, parseMemoryId, toMemory } from './rows.js';
import { searchNamespace } from './search.js';
import { neighbourRows } from './sessions.js';
import type {
  AddEpisodesOptions,
  ForgetResult,
  SearchOptions,
  SqliteMemoryStoreOptions,
  TurnWriteOptions,
} from './store-options.js';
import { VectorIndex } from './vector-index.js';
import { bindEmbedder, embedderMismatch, readVectorIndexInfo, type VectorIndexInfo, wordIdBytes } from './vectors.js';

export type {
  AddEpisodesOptions,
  ForgetResult,
  ProgressListener,
  SearchOptions,
  SqliteMemoryStoreOptions,
  TurnWriteOptions,
} from './store-options.js';

/** Relative weight of each scope when several are searched: the user's own memory takes precedence. */
const SCOPE_WEIGHT: Record<Scope['kind'], number> = { user: 1, persona: 0.85, global: 0.7 };

/** The row of an episode id (`e12`); a fact id where an episode is expected is a mistake. */
function episodeRow(id: string): number {
  const parsed = parseMemoryId(id);
  if (parsed.kind !== 'episode') throw new InputError(`${id} is a fact, not an episode (episode ids look like e12)`);
  return parsed.row;
}

/**
 * Long-term memory in one SQLite file: episodic turns and semantic facts, full-text (FTS5) and vector (sqlite-vec)
 * indexes, every read scoped to a user, persona or global namespace.
 *
 * @example
 * const store = await SqliteMemoryStore.open('mnemo.db', { embedder });
 * await store.addEpisodes(userScope('ada'), [{ text: 'I moved to Lisbon' }]);
 * const hits = await store.search([userScope('ada')], 'where do I live?');
 */
export class SqliteMemoryStore {
  readonly db: Database.Database;
  private readonly configuredEmbedder: Embedder | undefined;
  private readonly queryGenerator: QueryGenerator;
  private readonly clock: () => Date;
  /** The vector index as this store last saw it; see {@link currentVectors}. */
  private vectors: VectorIndex | undefined;
  /** Prepared statements, cached by SQL text. */
  private readonly prepare: (sql: string) => Database.Statement;

  constructor(db: Database.Database, options: SqliteMemoryStoreOptions) {
    this.db = db;
    this.prepare = statementCache(db);
    this.configuredEmbedder = options.embedder;
    this.queryGenerator = options.queryGenerator ?? ruleQueryGenerator;
    this.clock = options.clock ?? (() => new Date());
    const info = options.embedder && !db.readonly ? bindEmbedder(db, options.embedder) : readVectorIndexInfo(db);
    // A read-only file cannot take a vector index, so it is only checked: searches then use full text alone.
    if (db.readonly && info && options.embedder && info.embedderId !== options.embedder.id)
      throw embedderMismatch(info, `${options.embedder.id} (${options.embedder.dims} dims)`);
    this.vectors = info && new VectorIndex(this.prepare, info);
  }

  /** The embedder writes and searches use. */
  get embedder(): Embedder {
    if (!this.configuredEmbedder)
      throw new StoreError(
        'store_failed',
        'this memory store was opened without an embedder; it can only list, export and forget',
      );
    return this.configuredEmbedder;
  }

  /** Opens or creates the file at `path` (`:memory:` for a throwaway store). */
  static open(path: string, options: SqliteMemoryStoreOptions & OpenDatabaseOptions): SqliteMemoryStore {
    return openWith(path, options, (db) => new SqliteMemoryStore(db, options));
  }

  /** The vector index in use, once the file has one. */
  get vectorIndex(): VectorIndexInfo | undefined {
    return this.currentVectors()?.info;
  }

  /**
   * The vector index the file records now: another process's `mnemo reindex` swaps in a new table, and this store
   * follows it, or refuses to go on when the new one is another embedder's.
   */
  private currentVectors(): VectorIndex | undefined {
    const table = this.prepare("SELECT value FROM meta WHERE key = 'vectors.table'").pluck().get() as
      | string
      | undefined;
    if (table === this.vectors?.info.table) return this.vectors;
    const info = readVectorIndexInfo(this.db);
    if (
      info &&
      this.configuredEmbedder &&
      (info.embedderId !== this.configuredEmbedder.id || info.dims !== this.configuredEmbedder.dims)
    ) {
      throw embedderMismatch(info, `${this.configuredEmbedder.id} (${this.configuredEmbedder.dims} dims)`);
    }
    this.vectors = info && new VectorIndex(this.prepare, info);
    return this.vectors;
  }

  /** The vector index of the configured embedder (writes and searches need both). */
  private get boundVectors(): VectorIndex {
    const vectors = this.currentVectors();
    if (!vectors || this.embedder.id !== vectors.info.embedderId)
      throw new StoreError('store_failed', 'no vector index for the configured embedder');
    return vectors;
  }

  /**
   * Appends turns to a scope's episodic memory in one transaction: all are stored, or none.
   * @returns the stored turns (without those skipped by `skipKnownSourceIds`), in order.
   */
  async addEpisodes(
    scope: Scope,
    inputs: readonly EpisodeInput[],
    options: AddEpisodesOptions = {},
  ): Promise<Memory[]> {
    validateScope(scope);
    const now = this.clock();
    const validated = inputs.map((input, index) => {
      const where = inputs.length > 1 ? ` (item ${index + 1})` : '';
      return {
        text: validateText(input?.text, `text${where}`),
        role: validateOptionalString(input.role, `role${where}`, MAX_ROLE) ?? 'user',
        at: validateTime(input.at, now, `at${where}`),
        session: validateOptionalString(input.session, `session${where}`),
        sourceId: validateOptionalString(input.sourceId, `id${where}`),
      };
    });
    // Known turns are dropped before embedding, and checked again under the write lock: another process may have
    // stored them meanwhile, and a repeated id within `inputs` is known once its first turn is in.
    const known = (namespaceId: number | undefined, sourceId: string | null): boolean =>
      options.skipKnownSourceIds === true &&
      sourceId !== null &&
      namespaceId !== undefined &&
      this.hasSourceId(namespaceId, sourceId);
    const before = this.namespaceId(scope, false);
    const rows = validated.filter((row) => !known(before, row.sourceId));
    const vectors = await embedInBatches(
      this.embedder,
      rows.map((row) => row.text),
      options,
    );
    const insert = this.prepare(
      `INSERT INTO memories (id, namespace_id, kind, text, role, session, at, source_id, created_at, word_ids)
       VALUES (?, ?, 'episode', ?, ?, ?, ?, ?, ?, ?)`,
    );
    const indexText = this.prepare('INSERT INTO memories_fts (rowid, terms) VALUES (?, ?)');
    const stored = this.db
      .transaction(() => {
        if (options.thread !== undefined && this.isForgottenThread(options.thread)) return [];
        const namespaceId = this.namespaceId(scope, true)!;
        const stored: Array<{ id: number; row: (typeof rows)[number] }> = [];
        let next = reserveIds(this.prepare, 'memories', rows.length);
        const index = this.boundVectors;
        rows.forEach((row, position) => {
          if (known(namespaceId, row.sourceId)) return;
          const id = next++;
          insert.run(
            id,
            namespaceId,
            row.text,
            row.role,
            row.session,
            row.at,
            row.sourceId,
            now.getTime(),
            wordIdBytes(this.embedder, row.text),
          );
          index.insert(id, namespaceId, vectors[position]!);
          indexText.run(BigInt(id), indexedTerms(namespaceId, row.text));
          stored.push({ id, row });
        });
        index.maintain(namespaceId);
        return stored;
      })
      .immediate();
    return stored.map(
      ({ id, row }): Memory => ({
        id: memoryId('episode', id),
        kind: 'episode',
        scope,
        text: row.text,
        role: row.role,
        session: row.session,
        at: new Date(row.at),
        validTo: null,
        supersedes: null,
        sourceId: row.sourceId,
        provenance: [],
        createdAt: now,
      }),
    );
  }

  /**
   * Applies changes to a scope's semantic memory in one transaction. A superseded or invalidated fact is closed
   * (`validTo` set), never deleted: search returns the current fact, {@link list} with `history` keeps both.
   * @returns the facts written (added or superseding), in order.
   */
  async changeFacts(scope: Scope, changes: readonly FactChange[], options: TurnWriteOptions = {}): Promise<Memory[]> {
    validateScope(scope);
    const now = this.clock();
    const prepared = changes.map((change) => {
      if (change.op === 'invalidate') return { change, at: validateTime(change.at, now, 'at') };
      const fact = change.fact;
      return {
        change,
        text: validateText(fact?.text, 'fact text'),
        kind: validateFactKind(fact.kind),
        validFrom: validateTime(fact.validFrom, now, 'validFrom'),
        provenance: (fact.provenance ?? []).map(episodeRow),
      };
    });
    const texts = prepared.flatMap((item) => ('text' in item && item.text !== undefined ? [item.text] : []));
    const vectors = await embedInBatches(this.embedder, texts, options);
    const insert = this.prepare(
      `INSERT INTO memories (id, namespace_id, kind, text, at, supersedes, created_at, word_ids) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const close = this.prepare('UPDATE memories SET valid_to = ? WHERE id = ? AND valid_to IS NULL');
    const indexText = this.prepare('INSERT INTO memories_fts (rowid, terms) VALUES (?, ?)');
    const link = this.prepare(
      `INSERT OR IGNORE INTO fact_sources (fact_id, episode_id)
       SELECT ?, id FROM memories WHERE id = ? AND namespace_id = ? AND kind = 'episode'`,
    );
    const written = this.db
      .transaction(() => {
        if (options.thread !== undefined && this.isForgottenThread(options.thread)) return [];
        const namespaceId = this.namespaceId(scope, true)!;
        const ids: number[] = [];
        let vectorIndex = 0;
        let next = reserveIds(this.prepare, 'memories', texts.length);
        for (const item of prepared) {
          const { change } = item;
          const closed = change.op === 'add' ? undefined : this.requireFact(scope, namespaceId, change.id);
          if (change.op === 'invalidate') {
            close.run(item.at, closed!);
            continue;
          }
          const fact = item as { text: string; kind: FactKind; validFrom: number; provenance: number[] };
          const id = next++;
          insert.run(
            id,
            namespaceId,
            fact.kind,
            fact.text,
            fact.validFrom,
            closed ?? null,
            now.getTime(),
            wordIdBytes(this.embedder, fact.text),
          );
          this.boundVectors.insert(id, namespaceId, vectors[vectorIndex++]!);
          indexText.run(BigInt(id), indexedTerms(namespaceId, fact.text));
          for (const episode of fact.provenance) link.run(id, episode, namespaceId);
          if (closed !== undefined) close.run(fact.validFrom, closed);
          ids.push(id);
        }
        return ids;
      })
      .immediate();
    return written.map((id) => this.get(scope, memoryId('fact', id))!);
  }

  /** One memory of `scope` by id, or undefined (also when it belongs to another scope). */
  get(scope: Scope, id: string): Memory | undefined {
    const namespaceId = this.namespaceId(validateScope(scope), false);
    if (namespaceId === undefined) return undefined;
    const row = this.prepare(`SELECT ${MEMORY_COLUMNS} FROM memories m WHERE ${ID_MATCHES} AND m.namespace_id = ?`).get(
      ...idParameters(parseMemoryId(id)),
      namespaceId,
    ) as MemoryRow | undefined;
    return row ? toMemory(row, scope) : undefined;
  }

  /** A scope's memories, newest first. */
  list(scope: Scope, options: { kinds?: readonly MemoryKind[]; history?: boolean; limit?: number } = {}): Memory[] {
    const namespaceId = this.namespaceId(validateScope(scope), false);
    if (namespaceId === undefined) return [];
    const kinds = options.kinds ?? ['episode', 'fact', 'preference', 'profile'];
    const rows = this.db
      .prepare(
        `SELECT ${MEMORY_COLUMNS} FROM memories m
         WHERE m.namespace_id = ? AND m.kind IN (SELECT value FROM json_each(?)) AND (? OR m.valid_to IS NULL)
         ORDER BY m.at DESC, m.id DESC LIMIT ?`,
      )
      .all(namespaceId, JSON.stringify(kinds), options.history ? 1 : 0, options.limit ?? -1) as MemoryRow[];
    return rows.map((row) => toMemory(row, scope));
  }

  /** Counts of a scope's memories by kind (current facts only). */
  count(scope: Scope): Record<MemoryKind, number> {
    const counts: Record<MemoryKind, number> = { episode: 0, fact: 0, preference: 0, profile: 0 };
    const namespaceId = this.namespaceId(validateScope(scope), false);
    if (namespaceId === undefined) return counts;
    const rows = this.db
      .prepare('SELECT kind, count(*) AS n FROM memories WHERE namespace_id = ? AND valid_to IS NULL GROUP BY kind')
      .all(namespaceId) as Array<{ kind: MemoryKind; n: number }>;
    for (const row of rows) counts[row.kind] = row.n;
    return counts;
  }

  /** The turns around an episode in its session, oldest first (the episode itself excluded). */
  neighbours(scope: Scope, id: string, radius = 1): Memory[] {
    const namespaceId = this.namespaceId(validateScope(scope), false);
    if (namespaceId === undefined) return [];
    const parsed = parseMemoryId(id);
    if (parsed.kind !== 'episode') return []; // a fact has no turns around it
    const rows = neighbourRows(this.prepare, namespaceId, [parsed.row], radius).get(parsed.row) ?? [];
    return rows.map((row) => toMemory(row, scope));
  }

  /**
   * Hybrid search across `scopes` (the first takes precedence): BM25 and vector KNN fused with word-level late
   * interaction, boosted by the speaker and the time the query names. Results carry their score parts.
   */
  async search(scopes: readonly Scope[], query: string, options: SearchOptions = {}): Promise<SearchHit[]> {
    validateText(query, 'query');
    const k = validateK(options.k ?? 10);
    scopes.forEach(validateScope);
    const now = this.clock();
    const plan =
      options.plan ??
      (await this.queryGenerator({
        text: query,
        now,
        ...(options.conversation ? { history: options.conversation } : {}),
      }));
    const [queryVector] = await this.embedder.embed([plan.embedText], options.signal ? { signal: options.signal } : {});
    const hits: SearchHit[] = [];
    for (const scope of scopes) {
      const namespaceId = this.namespaceId(scope, false);
      if (namespaceId === undefined) continue;
      const found = await searchNamespace(this.prepare, {
        namespaceId,
        vectors: this.boundVectors,
        embedder: this.embedder,
        plan,
        queryVector: queryVector!,
        k,
        now,
        kinds: options.kinds,
        history: options.history ?? false,
        weights: options.weights,
        depth: options.depth,
      });
      const weight = SCOPE_WEIGHT[scope.kind];
      const context = options.context
        ? neighbourRows(
            this.prepare,
            namespaceId,
            found.map((hit) => hit.row.id),
            options.context,
          )
        : undefined;
      for (const hit of found) {
        hits.push({
          memory: toMemory(hit.row, scope),
          score: hit.score * weight,
          parts: hit.parts,
          context: (context?.get(hit.row.id) ?? []).map((row) => toMemory(row, scope)),
        });
      }
    }
    return hits.sort((a, b) => b.score - a.score).slice(0, k);
  }

  /**
   * Deletes one memory, or every row of the scope when `id` is omitted: episodes, facts, provenance, full-text
   * and vector entries, threads, persona membership, and a user's ratings. Deleted bytes are zeroed and the WAL is
   * checkpointed, so the files keep no copy (see {@link ForgetResult.flushed} for when another process prevents it).
   */
  forget(scope: Scope, id?: string): ForgetResult {
    validateScope(scope);
    const parsed = id === undefined ? undefined : parseMemoryId(id);
    const namespaceId = this.namespaceId(scope, false);
    if (namespaceId === undefined && id !== undefined)
      throw new InputError(`no memory ${id} for ${describeScope(scope)}`, { code: 'not_found' });
    const removed = this.db
      .transaction(() => {
        // A user may have ratings and no memories yet.
        if (namespaceId === undefined)
          return { deleted: 0, ratings: scope.kind === 'user' ? deleteRecommenderRows(this.prepare, scope.id) : 0 };
        const ids =
          parsed === undefined
            ? (this.prepare('SELECT id FROM memories WHERE namespace_id = ?').pluck().all(namespaceId) as number[])
            : (this.prepare(`SELECT id FROM memories WHERE ${ID_MATCHES} AND namespace_id = ?`)
                .pluck()
                .all(...idParameters(parsed), namespaceId) as number[]);
        if (id !== undefined && ids.length === 0)
          throw new InputError(`no memory ${id} for ${describeScope(scope)}`, { code: 'not_found' });
        const vectors = this.currentVectors();
        deleteMemories(this.prepare, vectors, ids);
        const ratings = id === undefined ? deleteNamespace(this.prepare, vectors, namespaceId, scope) : 0;
        return { deleted: ids.length, ratings };
      })
      .immediate();
    return { ...removed, flushed: this.checkpoint() };
  }

  /** Places a user in a persona (or takes them out with `null`); recall then merges the persona's memory. */
  setPersona(user: UserScope, persona: string | null, assignedBy: 'hand' | 'auto' = 'hand'): void {
    validateScope(user);
    if (persona === null) {
      const namespaceId = this.namespaceId(user, false);
      if (namespaceId !== undefined)
        this.prepare('DELETE FROM persona_members WHERE user_namespace_id = ?').run(namespaceId);
      return;
    }
    validateScope(personaScope(persona));
    const namespaceId = this.namespaceId(user, true)!;
    this.prepare(
      `INSERT INTO persona_members (user_namespace_id, persona, assigned_by, assigned_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (user_namespace_id) DO UPDATE SET persona = excluded.persona, assigned_by = excluded.assigned_by, assigned_at = excluded.assigned_at`,
    ).run(namespaceId, persona, assignedBy, this.clock().getTime());
  }

  /** The persona a user belongs to, if any. */
  personaOf(user: UserScope): { persona: string; assignedBy: 'hand' | 'auto' } | undefined {
    const namespaceId = this.namespaceId(validateScope(user), false);
    if (namespaceId === undefined) return undefined;
    const row = this.prepare('SELECT persona, assigned_by FROM persona_members WHERE user_namespace_id = ?').get(
      namespaceId,
    ) as { persona: string; assigned_by: 'hand' | 'auto' } | undefined;
    return row && { persona: row.persona, assignedBy: row.assigned_by };
  }

  /**
   * The id under which a conversation thread of `user` is checkpointed (LangGraph's `thread_id`): the user's
   * namespace id, a slash, the caller's thread id. Two users can never share or reach each other's thread, and
   * forgetting a user deletes every checkpoint with their prefix.
   */
  threadKey(user: UserScope, threadId: string): string {
    validateScope(user);
    validateText(threadId, 'thread id');
    return checkpointKey(this.namespaceId(user, true)!, threadId);
  }

  /**
   * True when the user a thread key was made for has been forgotten since: the key's namespace is gone. A turn that
   * was running when its user said "forget me" must then store nothing.
   */
  isForgottenThread(key: string): boolean {
    return this.prepare('SELECT 1 FROM namespaces WHERE id = ?').get(checkpointNamespace(key)) === undefined;
  }

  /** Deletes what a turn checkpointed after its user was forgotten (see {@link isForgottenThread}). */
  discardForgottenThread(key: string): void {
    if (!this.isForgottenThread(key)) return;
    this.db.transaction(() => deleteThreads(this.prepare, checkpointNamespace(key)))();
    this.checkpoint();
  }

  /** Everything stored about a scope, history included, oldest first. */
  export(scope: Scope): { scope: Scope; memories: Memory[] } {
    return { scope, memories: this.list(scope, { history: true }).reverse() };
  }

  /** Every scope that holds memories. */
  scopes(kind?: Scope['kind']): Scope[] {
    const rows = this.prepare('SELECT kind, key FROM namespaces WHERE ? IS NULL OR kind = ? ORDER BY kind, key').all(
      kind ?? null,
      kind ?? null,
    ) as Array<{
      kind: Scope['kind'];
      key: string;
    }>;
    return rows.map((row) => (row.kind === 'global' ? { kind: 'global' } : { kind: row.kind, id: row.key }));
  }

  /**
   * Flushes the WAL into the main file and truncates it. Returns false when another connection's open read kept it
   * from finishing (after the busy timeout): the WAL then still holds pages until a later checkpoint.
   */
  checkpoint(): boolean {
    const [result] = this.db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>;
    return result?.busy !== 1;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private namespaceId(scope: Scope, create: boolean): number | undefined {
    return create ? ensureNamespace(this.db, this.prepare, scope) : findNamespace(this.prepare, scope);
  }

  private hasSourceId(namespaceId: number, sourceId: string): boolean {
    return (
      this.prepare('SELECT 1 FROM memories WHERE namespace_id = ? AND source_id = ?').get(namespaceId, sourceId) !==
      undefined
    );
  }

  private requireFact(scope: Scope, namespaceId: number, id: string): number {
    const parsed = parseMemoryId(id);
    const row = this.prepare(`SELECT valid_to FROM memories WHERE ${ID_MATCHES} AND namespace_id = ?`).get(
      ...idParameters(parsed),
      namespaceId,
    ) as { valid_to: number | null } | undefined;
    if (!row || parsed.kind !== 'fact')
      throw new InputError(`no fact ${id} for ${describeScope(scope)}`, { code: 'not_found' });
    if (row.valid_to !== null)
      throw new InputError(`fact ${id} is no longer current; change the fact that replaced it`);
    return parsed.row;
  }
}
