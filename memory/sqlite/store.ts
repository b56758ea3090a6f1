import type Database from 'better-sqlite3';
import { embedInBatches } from '../embedders/batch.js';
import type { Embedder } from '../embedders/types.js';
import { InputError, StoreError } from '../errors.js';
import type {
  AddEpisodesOptions,
  Backend,
  ForgetResult,
  ForgetTarget,
  ListOptions,
  MemoryStore,
  ReindexOptions,
  SearchOptions,
  StorageModule,
  Turn,
  TurnWriteOptions,
  VectorIndexInfo,
} from '../port.js';
import { type QueryGenerator, ruleQueryGenerator } from '../retrieval/query.js';
import { searchScopes } from '../retrieval/scopes.js';
import {
  describeScope,
  type EpisodeInput,
  type FactChange,
  type Memory,
  type MemoryKind,
  personaScope,
  type Scope,
  type SearchHit,
  type UserScope,
} from '../types.js';
import { validateScope, validateText } from '../validate.js';
import { checkEpisodes, checkFactChanges, checkRestored } from '../write-input.js';
import {
  type OpenDatabaseOptions,
  openWith,
  retryOnSchemaChange,
  retryOnSchemaChangeAsync,
  statementCache,
} from './database.js';
import {
  checkpointKey,
  checkpointNamespace,
  deleteMemories,
  deleteNamespace,
  markRewrite,
  rewriteIfMarked,
  rewritePending,
} from './forget.js';
import { indexedTerms } from './fts-terms.js';
import { ensureNamespace, findNamespace, reserveIds } from './namespaces.js';
import { reindex } from './reindex.js';
import { ID_MATCHES, idParameters, MEMORY_COLUMNS, type MemoryRow, memoryId, parseMemoryId, toMemory } from './rows.js';
import { searchNamespace } from './search.js';
import { neighbourRows } from './sessions.js';
import type { SqliteMemoryStoreOptions } from './store-options.js';
import { VectorIndex } from './vector-index.js';
import { bindEmbedder, embedderMismatch, readVectorIndexInfo, wordIdBytes } from './vectors.js';

export type { SqliteMemoryStoreOptions } from './store-options.js';

/**
 * Long-term memory in one SQLite file: episodic turns and semantic facts, full-text (FTS5) and vector (sqlite-vec)
 * indexes, every read scoped to a user, persona or global namespace.
 *
 * @example
 * const store = await SqliteMemoryStore.open('mnemo.db', { embedder });
 * await store.addEpisodes(userScope('ada'), [{ text: 'I moved to Lisbon' }]);
 * const hits = await store.search([userScope('ada')], 'where do I live?');
 */
export class SqliteMemoryStore implements MemoryStore {
  readonly db: Database.Database;
  readonly backend: Backend;
  private readonly modules: readonly StorageModule[];
  private readonly configuredEmbedder: Embedder | undefined;
  private readonly queryGenerator: QueryGenerator;
  private readonly clock: () => Date;
  /** The vector index as this store last saw it; see {@link currentVectors}. */
  private vectors: VectorIndex | undefined;
  /** Prepared statements, cached by SQL text. */
  private readonly prepare: (sql: string) => Database.Statement;
  private readonly rewriteOnForget: boolean;

  constructor(db: Database.Database, options: SqliteMemoryStoreOptions) {
    this.db = db;
    this.backend = { kind: 'sqlite', db, location: db.name };
    this.modules = options.modules ?? [];
    this.prepare = statementCache(db);
    this.configuredEmbedder = options.embedder;
    this.queryGenerator = options.queryGenerator ?? ruleQueryGenerator;
    this.clock = options.clock ?? (() => new Date());
    this.rewriteOnForget = options.rewriteOnForget ?? true;
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

  /**
   * Opens or creates the file at `path` (`:memory:` for a throwaway store), with the tables of `options.modules`.
   * Synchronous, unlike the port's opener (`openStore`), for tests and tools that only ever use SQLite.
   */
  static open(path: string, options: SqliteMemoryStoreOptions & OpenDatabaseOptions): SqliteMemoryStore {
    return openWith(path, options, (db) => new SqliteMemoryStore(db, options));
  }

  async vectorIndex(): Promise<VectorIndexInfo | undefined> {
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
    const validated = checkEpisodes(inputs, now);
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
    // Tried again whole (nothing is kept of a failed try) when another process's schema change breaks a statement.
    const stored = retryOnSchemaChange(() => {
      const insert = this.prepare(
        `INSERT INTO memories (id, namespace_id, kind, text, role, session, at, source_id, created_at, word_ids)
       VALUES (?, ?, 'episode', ?, ?, ?, ?, ?, ?, ?)`,
      );
      const indexText = this.prepare('INSERT INTO memories_fts (rowid, terms) VALUES (?, ?)');
      return this.db
        .transaction(() => {
          if (this.turnForgotten(options.turn)) return [];
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
    });
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
    const prepared = checkFactChanges(changes, now);
    const texts = prepared.flatMap((item) => ('text' in item && item.text !== undefined ? [item.text] : []));
    const vectors = await embedInBatches(this.embedder, texts, options);
    const written = retryOnSchemaChange(() => {
      const insert = this.prepare(
        `INSERT INTO memories (id, namespace_id, kind, text, at, supersedes, created_at, word_ids) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      const close = this.prepare('UPDATE memories SET valid_to = ? WHERE id = ? AND valid_to IS NULL');
      const indexText = this.prepare('INSERT INTO memories_fts (rowid, terms) VALUES (?, ?)');
      const link = this.prepare(
        `INSERT OR IGNORE INTO fact_sources (fact_id, episode_id)
       SELECT ?, id FROM memories WHERE id = ? AND namespace_id = ? AND kind = 'episode'`,
      );
      return this.db
        .transaction(() => {
          if (this.turnForgotten(options.turn)) return [];
          const namespaceId = this.namespaceId(scope, true)!;
          const ids: number[] = [];
          let vectorIndex = 0;
          let next = reserveIds(this.prepare, 'memories', texts.length);
          for (const item of prepared) {
            const { change } = item;
            const closed = change.op === 'add' ? undefined : this.requireFact(scope, namespaceId, change.id);
            if (item.text === undefined) {
              close.run(item.at, closed!);
              continue;
            }
            const fact = item;
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
    });
    return written.map((id) => this.read(scope, memoryId('fact', id))!);
  }

  async get(scope: Scope, id: string): Promise<Memory | undefined> {
    return this.read(scope, id);
  }

  private read(scope: Scope, id: string): Memory | undefined {
    const namespaceId = this.namespaceId(validateScope(scope), false);
    if (namespaceId === undefined) return undefined;
    const row = this.prepare(`SELECT ${MEMORY_COLUMNS} FROM memories m WHERE ${ID_MATCHES} AND m.namespace_id = ?`).get(
      ...idParameters(parseMemoryId(id)),
      namespaceId,
    ) as MemoryRow | undefined;
    return row ? toMemory(row, scope) : undefined;
  }

  async list(scope: Scope, options: ListOptions = {}): Promise<Memory[]> {
    return this.listRows(scope, options);
  }

  private listRows(scope: Scope, options: ListOptions): Memory[] {
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

  async count(scope: Scope): Promise<Record<MemoryKind, number>> {
    const counts: Record<MemoryKind, number> = { episode: 0, fact: 0, preference: 0, profile: 0 };
    const namespaceId = this.namespaceId(validateScope(scope), false);
    if (namespaceId === undefined) return counts;
    const rows = this.db
      .prepare('SELECT kind, count(*) AS n FROM memories WHERE namespace_id = ? AND valid_to IS NULL GROUP BY kind')
      .all(namespaceId) as Array<{ kind: MemoryKind; n: number }>;
    for (const row of rows) counts[row.kind] = row.n;
    return counts;
  }

  async neighbours(scope: Scope, id: string, radius = 1): Promise<Memory[]> {
    const namespaceId = this.namespaceId(validateScope(scope), false);
    if (namespaceId === undefined) return [];
    const parsed = parseMemoryId(id);
    if (parsed.kind !== 'episode') return []; // a fact has no turns around it
    const rows = neighbourRows(this.prepare, namespaceId, [parsed.row], radius).get(parsed.row) ?? [];
    return rows.map((row) => toMemory(row, scope));
  }

  async search(scopes: readonly Scope[], query: string, options: SearchOptions = {}): Promise<SearchHit[]> {
    const search = { scopes, query, options, embedder: this.embedder, queryGenerator: this.queryGenerator };
    // Reads only: tried again whole when another process's schema change (a forget's VACUUM) breaks a statement.
    return searchScopes({ ...search, now: this.clock() }, (scope, ranked) =>
      retryOnSchemaChangeAsync(async () => {
        const namespaceId = this.namespaceId(scope, false);
        if (namespaceId === undefined) return undefined;
        const found = await searchNamespace(this.prepare, { ...ranked, namespaceId, vectors: this.boundVectors });
        const ids = found.map((hit) => hit.row.id);
        return {
          found,
          context: options.context ? neighbourRows(this.prepare, namespaceId, ids, options.context) : undefined,
        };
      }),
    );
  }

  /**
   * Deletes one memory, or every row of the scope when `id` is omitted: episodes, facts, provenance, full-text
   * and vector entries, persona membership, and with a user, every storage module's rows (threads, ratings) in the
   * same transaction. Deleted bytes are zeroed, the file is rewritten (`VACUUM`, seconds for a gigabyte) and the WAL
   * is checkpointed, so the files keep no copy (see {@link ForgetResult.flushed} for when another process prevents
   * it).
   */
  async forget(scope: Scope, id?: string): Promise<ForgetResult> {
    validateScope(scope);
    const parsed = id === undefined ? undefined : parseMemoryId(id);
    const namespaceId = this.namespaceId(scope, false);
    if (namespaceId === undefined && id !== undefined)
      throw new InputError(`no memory ${id} for ${describeScope(scope)}`, { code: 'not_found' });
    const removed = this.db
      .transaction(() => {
        const alsoDeleted: Record<string, number> = {};
        // A user may have rows in other modules (ratings) and no memories yet.
        if (id === undefined && scope.kind === 'user') {
          const threadPrefix = namespaceId === undefined ? undefined : checkpointKey(namespaceId, '');
          this.runForgetSteps({ userId: scope.id, threadPrefix }, alsoDeleted);
        }
        if (Object.values(alsoDeleted).some((n) => n > 0)) markRewrite(this.prepare);
        if (namespaceId === undefined) return { deleted: 0, alsoDeleted };
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
        if (id === undefined) deleteNamespace(this.prepare, vectors, namespaceId);
        markRewrite(this.prepare);
        return { deleted: ids.length, alsoDeleted };
      })
      .immediate();
    const deferred = !this.rewriteOnForget && rewritePending(this.prepare);
    return { ...removed, flushed: !deferred && this.checkpoint() };
  }

  /** Runs every module's forget step, adding what each deleted to `counts`. Inside the caller's transaction. */
  private runForgetSteps(target: ForgetTarget, counts: Record<string, number>): void {
    for (const module of this.modules)
      for (const [what, n] of Object.entries(module.sqlite.forget?.(this.db, target) ?? {}))
        counts[what] = (counts[what] ?? 0) + n;
  }

  async setPersona(user: UserScope, persona: string | null, assignedBy: 'hand' | 'auto' = 'hand'): Promise<void> {
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

  async personaOf(user: UserScope): Promise<{ persona: string; assignedBy: 'hand' | 'auto' } | undefined> {
    const namespaceId = this.namespaceId(validateScope(user), false);
    if (namespaceId === undefined) return undefined;
    const row = this.prepare('SELECT persona, assigned_by FROM persona_members WHERE user_namespace_id = ?').get(
      namespaceId,
    ) as { persona: string; assigned_by: 'hand' | 'auto' } | undefined;
    return row && { persona: row.persona, assignedBy: row.assigned_by };
  }

  async personaMembers(persona: string): Promise<number> {
    return this.prepare('SELECT count(*) FROM persona_members WHERE persona = ?').pluck().get(persona) as number;
  }

  async beginTurn(user: UserScope, threadId: string): Promise<Turn> {
    validateScope(user);
    validateText(threadId, 'thread id');
    const namespaceId = this.namespaceId(user, true)!;
    const threadKey = checkpointKey(namespaceId, threadId);
    return {
      user,
      threadKey,
      forgotten: async () => this.namespaceGone(namespaceId),
      end: async () => {
        if (!this.namespaceGone(namespaceId)) return;
        this.db
          .transaction(() => {
            this.runForgetSteps({ userId: undefined, threadPrefix: threadKey }, {});
            markRewrite(this.prepare);
          })
          .immediate();
        this.checkpoint();
      },
    };
  }

  /** True when a write's turn belongs to a user forgotten since it began: it must store nothing. */
  private turnForgotten(turn: Turn | undefined): boolean {
    return turn !== undefined && this.namespaceGone(checkpointNamespace(turn.threadKey));
  }

  private namespaceGone(namespaceId: number): boolean {
    return this.prepare('SELECT 1 FROM namespaces WHERE id = ?').get(namespaceId) === undefined;
  }

  async export(scope: Scope): Promise<{ scope: Scope; memories: Memory[] }> {
    return { scope, memories: this.listRows(scope, { history: true }).reverse() };
  }

  async restore(
    scope: Scope,
    memories: readonly Memory[],
    options: AddEpisodesOptions = {},
  ): Promise<Map<string, string>> {
    validateScope(scope);
    // Old ids grow with insertion in every backend: a fact comes after the fact it superseded and the turns it cites.
    const ordered = [...memories].sort(
      (a, b) =>
        Number(a.kind !== 'episode') - Number(b.kind !== 'episode') ||
        parseMemoryId(a.id).row - parseMemoryId(b.id).row,
    );
    const checked = checkRestored(ordered);
    const vectors = await embedInBatches(
      this.embedder,
      checked.map((memory) => memory.text),
      options,
    );
    const insert = this.prepare(
      `INSERT INTO memories (id, namespace_id, kind, text, role, session, at, valid_to, supersedes, source_id, created_at, word_ids)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const indexText = this.prepare('INSERT INTO memories_fts (rowid, terms) VALUES (?, ?)');
    const link = this.prepare('INSERT OR IGNORE INTO fact_sources (fact_id, episode_id) VALUES (?, ?)');
    return this.db
      .transaction(() => {
        const namespaceId = this.namespaceId(scope, true)!;
        if (this.prepare('SELECT 1 FROM memories WHERE namespace_id = ? LIMIT 1').get(namespaceId))
          throw new InputError(`${describeScope(scope)} already holds memories; restore only into an empty scope`);
        const ids = new Map<string, string>();
        const row = (id: string | null): number | null => (id && ids.has(id) ? parseMemoryId(ids.get(id)!).row : null);
        let next = reserveIds(this.prepare, 'memories', ordered.length);
        const index = this.boundVectors;
        ordered.forEach((memory, position) => {
          const id = next++;
          const valid = checked[position]!;
          insert.run(
            id,
            namespaceId,
            valid.kind,
            valid.text,
            valid.role,
            valid.session,
            valid.at,
            valid.validTo,
            row(memory.supersedes),
            valid.sourceId,
            valid.createdAt,
            wordIdBytes(this.embedder, valid.text),
          );
          index.insert(id, namespaceId, vectors[position]!);
          indexText.run(BigInt(id), indexedTerms(namespaceId, memory.text));
          for (const episode of memory.provenance) {
            const source = row(episode);
            if (source !== null) link.run(id, source);
          }
          ids.set(memory.id, memoryId(memory.kind, id));
        });
        index.maintain(namespaceId);
        return ids;
      })
      .immediate();
  }

  async scopes(kind?: Scope['kind']): Promise<Scope[]> {
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
   * Finishes what a forget left: rewrites the file if a forget marked it (see {@link rewriteIfMarked}), then flushes
   * the WAL into the main file and truncates it. Returns false when either could not finish now (another connection
   * writing, or its open read holding the WAL, after the busy timeout); a later checkpoint or forget finishes it.
   */
  checkpoint(): boolean {
    const rewritten = rewriteIfMarked(this.db, this.prepare);
    const [result] = this.db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>;
    return rewritten && result?.busy !== 1;
  }

  async reindex(embedder: Embedder, options: ReindexOptions = {}): Promise<{ memories: number }> {
    return reindex(this.db, embedder, options);
  }

  async close(): Promise<void> {
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
