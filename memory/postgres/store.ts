import type pg from 'pg';
import { embedInBatches } from '../embedders/batch.js';
import type { Embedder } from '../embedders/types.js';
import { InputError, StoreError } from '../errors.js';
import type {
  AddEpisodesOptions,
  Backend,
  ForgetResult,
  ListOptions,
  MemoryStore,
  ReindexOptions,
  SearchOptions,
  StorageModule,
  Turn,
  TurnWriteOptions,
  VectorIndexInfo,
} from '../port.js';
import { rankNamespace, wordIdBytes } from '../retrieval/pipeline.js';
import { type QueryGenerator, ruleQueryGenerator } from '../retrieval/query.js';
import { searchScopes } from '../retrieval/scopes.js';
import { type MemoryRow, memoryId, parseMemoryId, toMemory } from '../sqlite/rows.js';
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
import { checkEpisodes, checkFactChanges } from '../write-input.js';
import { createPool, transaction, withoutPassword } from './database.js';
import { forgetInModules, forgetTarget, rewriteTables, threadKey, threadNamespace, touchedTables } from './forget.js';
import { indexedWords } from './fts.js';
import { migrate } from './migrations.js';
import { findNamespace, lockNamespace, scopeKey } from './namespaces.js';
import { reindexVectors } from './reindex.js';
import { type RestoredRow, restoreMemories } from './restore.js';
import { idMatches, idValues, MEMORY_COLUMNS, neighbourRows } from './rows.js';
import { namespaceSource } from './search.js';
import { PostgresTurn } from './turn.js';
import {
  bindEmbedder,
  describeEmbedder,
  embedderMismatch,
  pgvectorStorage,
  type Queryable,
  readVectorIndexInfo,
  type VectorStorage,
} from './vectors.js';

/** Options of {@link PostgresMemoryStore.open}. */
export interface PostgresMemoryStoreOptions {
  /** The embedder writes and searches use; without one the store can only list, export and forget. */
  embedder?: Embedder | undefined;
  /** Turns a query into a search plan. @default the offline rules (ruleQueryGenerator) */
  queryGenerator?: QueryGenerator | undefined;
  /** The time writes record and searches rank against. @default the system clock */
  clock?: (() => Date) | undefined;
  /** Other modules' storage in the same database: migrated at open, and forgotten with a user. @default none */
  modules?: readonly StorageModule[] | undefined;
  /** Connections in the pool (at least 2). @default 10 */
  poolSize?: number | undefined;
}

/**
 * Opens the store at `url` with `vectors` holding the vectors. Production code calls {@link PostgresMemoryStore.open},
 * which always uses pgvector; a test on a server without pgvector passes a double here.
 */
export async function openPostgresStore(
  url: string,
  options: PostgresMemoryStoreOptions,
  vectors: VectorStorage,
): Promise<PostgresMemoryStore> {
  // Two at least: the migration lock holds one connection while a module's setup (PostgresSaver) takes another.
  const pool = createPool(url, Math.max(2, options.poolSize ?? 10));
  // An idle client's error (the server restarting) must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  try {
    const modules = options.modules ?? [];
    await migrate(pool, modules, async (client) => {
      if (options.embedder) await bindEmbedder(client, vectors, options.embedder);
    });
    return new PostgresMemoryStore(pool, withoutPassword(url), options, vectors);
  } catch (error) {
    await pool.end();
    if (error instanceof StoreError) throw error;
    throw new StoreError(
      'store_failed',
      `could not open the memory database at ${withoutPassword(url)}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}

/**
 * Long-term memory in PostgreSQL with pgvector, shared by every process that opens the same database: episodic turns
 * and semantic facts, full text (tsvector, BM25 computed as FTS5 does) and exact per-namespace vector search, ranked
 * by the same pipeline as the SQLite store. Writes run in READ COMMITTED transactions that lock what they read.
 *
 * @example
 * const store = await PostgresMemoryStore.open('postgresql://mnemo@db/mnemo', { embedder });
 * await store.addEpisodes(userScope('ada'), [{ text: 'I moved to Lisbon' }]);
 * const hits = await store.search([userScope('ada')], 'where do I live?');
 */
export class PostgresMemoryStore implements MemoryStore {
  readonly backend: Extract<Backend, { kind: 'postgres' }>;
  private readonly pool: pg.Pool;
  private readonly configuredEmbedder: Embedder | undefined;
  private readonly queryGenerator: QueryGenerator;
  private readonly clock: () => Date;
  private readonly modules: readonly StorageModule[];
  private closed = false;

  /** Use {@link PostgresMemoryStore.open}. */
  constructor(
    pool: pg.Pool,
    location: string,
    options: PostgresMemoryStoreOptions,
    private readonly storage: VectorStorage,
  ) {
    this.pool = pool;
    this.backend = { kind: 'postgres', pool, location };
    this.configuredEmbedder = options.embedder;
    this.queryGenerator = options.queryGenerator ?? ruleQueryGenerator;
    this.clock = options.clock ?? (() => new Date());
    this.modules = options.modules ?? [];
  }

  /**
   * Opens (migrating it first) the memory database at `url`, e.g. `postgresql://user:password@host/db`. With an
   * embedder the server must have pgvector 0.8 or newer.
   */
  static open(url: string, options: PostgresMemoryStoreOptions = {}): Promise<PostgresMemoryStore> {
    return openPostgresStore(url, options, pgvectorStorage);
  }

  get embedder(): Embedder {
    if (!this.configuredEmbedder)
      throw new StoreError(
        'store_failed',
        'this memory store was opened without an embedder; it can only list, export and forget',
      );
    return this.configuredEmbedder;
  }

  async vectorIndex(): Promise<VectorIndexInfo | undefined> {
    return this.currentVectors(this.pool);
  }

  /**
   * The vector index `meta` records now, read at the start of every operation (one indexed read): another
   * process's reindex swaps in a new table, and this store follows it, or refuses to go on when the new one is
   * another embedder's.
   */
  private async currentVectors(client: Queryable): Promise<VectorIndexInfo | undefined> {
    const info = await readVectorIndexInfo(client);
    const embedder = this.configuredEmbedder;
    if (info && embedder && (info.embedderId !== embedder.id || info.dims !== embedder.dims))
      throw embedderMismatch(info, describeEmbedder(embedder));
    return info;
  }

  /** The vector table of the configured embedder (writes and searches need both). */
  private async boundVectors(client: Queryable): Promise<string> {
    const embedder = this.embedder;
    const info = await this.currentVectors(client);
    if (!info || info.embedderId !== embedder.id)
      throw new StoreError('store_failed', 'no vector index for the configured embedder');
    return info.table;
  }

  async addEpisodes(
    scope: Scope,
    inputs: readonly EpisodeInput[],
    options: AddEpisodesOptions = {},
  ): Promise<Memory[]> {
    validateScope(scope);
    const now = this.clock();
    const validated = checkEpisodes(inputs, now);
    const skipping = options.skipKnownSourceIds === true;
    // Known turns are dropped before embedding, and checked again in the write transaction: another process may
    // have stored them meanwhile, and a repeated id within `inputs` is known once its first turn is in.
    const before = skipping ? await this.knownSourceIds(this.pool, scope, validated) : new Set<string>();
    const rows = validated.filter((row) => row.sourceId === null || !before.has(row.sourceId));
    const vectors = await embedInBatches(
      this.embedder,
      rows.map((row) => row.text),
      options,
    );
    return transaction(this.pool, async (client) => {
      if (!(await this.turnAlive(client, options))) return [];
      const namespaceId = await lockNamespace(client, scope, now);
      const known = skipping ? await this.knownSourceIds(client, scope, rows) : new Set<string>();
      const stored: RestoredRow[] = [];
      rows.forEach((row, position) => {
        if (row.sourceId !== null && known.has(row.sourceId)) return;
        if (skipping && row.sourceId !== null) known.add(row.sourceId);
        stored.push({ kind: 'episode', ...row, validTo: null, createdAt: now.getTime(), vector: vectors[position]! });
      });
      const ids = await this.insertRows(client, namespaceId, stored);
      return stored.map(
        (row, index): Memory => ({
          id: memoryId('episode', ids[index]!),
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
    });
  }

  async changeFacts(scope: Scope, changes: readonly FactChange[], options: TurnWriteOptions = {}): Promise<Memory[]> {
    validateScope(scope);
    const now = this.clock();
    const prepared = checkFactChanges(changes, now);
    const texts = prepared.flatMap((item) => ('text' in item && item.text !== undefined ? [item.text] : []));
    const vectors = await embedInBatches(this.embedder, texts, options);
    return transaction(this.pool, async (client) => {
      if (!(await this.turnAlive(client, options))) return [];
      const namespaceId = await lockNamespace(client, scope, now);
      const ids: number[] = [];
      let vectorIndex = 0;
      for (const item of prepared) {
        const { change } = item;
        const closed = change.op === 'add' ? undefined : await this.requireFact(client, scope, namespaceId, change.id);
        if (item.text === undefined) {
          await client.query('UPDATE memories SET valid_to = $1 WHERE id = $2', [item.at, closed]);
          continue;
        }
        const fact = item;
        const [id] = await this.insertRows(client, namespaceId, [
          {
            kind: fact.kind,
            text: fact.text,
            role: null,
            session: null,
            at: fact.validFrom,
            validTo: null,
            sourceId: null,
            createdAt: now.getTime(),
            vector: vectors[vectorIndex++]!,
          },
        ]);
        if (closed !== undefined) {
          await client.query('UPDATE memories SET supersedes = $1 WHERE id = $2', [closed, id]);
          await client.query('UPDATE memories SET valid_to = $1 WHERE id = $2', [fact.validFrom, closed]);
        }
        if (fact.provenance.length > 0)
          await client.query(
            `INSERT INTO fact_sources (fact_id, episode_id)
             SELECT $1, id FROM memories WHERE id = ANY($2::bigint[]) AND namespace_id = $3 AND kind = 'episode'
             ON CONFLICT DO NOTHING`,
            [id, fact.provenance, namespaceId],
          );
        ids.push(id!);
      }
      return this.readRows(client, scope, namespaceId, ids);
    });
  }

  async get(scope: Scope, id: string): Promise<Memory | undefined> {
    const namespaceId = await findNamespace(this.pool, validateScope(scope));
    if (namespaceId === undefined) return undefined;
    const { rows } = await this.pool.query<MemoryRow>(
      `SELECT ${MEMORY_COLUMNS} FROM memories m WHERE ${idMatches(1)} AND m.namespace_id = $3`,
      [...idValues(parseMemoryId(id)), namespaceId],
    );
    return rows[0] && toMemory(rows[0], scope);
  }

  async list(scope: Scope, options: ListOptions = {}): Promise<Memory[]> {
    const namespaceId = await findNamespace(this.pool, validateScope(scope));
    if (namespaceId === undefined) return [];
    const kinds = options.kinds ?? ['episode', 'fact', 'preference', 'profile'];
    const { rows } = await this.pool.query<MemoryRow>(
      `SELECT ${MEMORY_COLUMNS} FROM memories m
       WHERE m.namespace_id = $1 AND m.kind = ANY($2::text[]) AND ($3 OR m.valid_to IS NULL)
       ORDER BY m.at DESC, m.id DESC LIMIT $4`,
      [namespaceId, kinds, options.history === true, options.limit ?? null],
    );
    return rows.map((row) => toMemory(row, scope));
  }

  async count(scope: Scope): Promise<Record<MemoryKind, number>> {
    const counts: Record<MemoryKind, number> = { episode: 0, fact: 0, preference: 0, profile: 0 };
    const namespaceId = await findNamespace(this.pool, validateScope(scope));
    if (namespaceId === undefined) return counts;
    const { rows } = await this.pool.query<{ kind: MemoryKind; n: number }>(
      'SELECT kind, count(*) AS n FROM memories WHERE namespace_id = $1 AND valid_to IS NULL GROUP BY kind',
      [namespaceId],
    );
    for (const row of rows) counts[row.kind] = row.n;
    return counts;
  }

  async neighbours(scope: Scope, id: string, radius = 1): Promise<Memory[]> {
    const namespaceId = await findNamespace(this.pool, validateScope(scope));
    if (namespaceId === undefined) return [];
    const parsed = parseMemoryId(id);
    if (parsed.kind !== 'episode') return []; // a fact has no turns around it
    const rows = (await neighbourRows(this.pool, namespaceId, [parsed.row], radius)).get(parsed.row) ?? [];
    return rows.map((row) => toMemory(row, scope));
  }

  async search(scopes: readonly Scope[], query: string, options: SearchOptions = {}): Promise<SearchHit[]> {
    const search = { scopes, query, options, embedder: this.embedder, queryGenerator: this.queryGenerator };
    const now = this.clock();
    let table: string | undefined;
    return searchScopes({ ...search, now }, async (scope, ranked) => {
      table ??= await this.boundVectors(this.pool);
      const namespaceId = await findNamespace(this.pool, scope);
      if (namespaceId === undefined) return undefined;
      const { plan, queryVector } = ranked;
      const found = await rankNamespace(
        namespaceSource(this.pool, this.storage, { namespaceId, table, plan, queryVector }),
        ranked,
      );
      const ids = found.map((hit) => hit.row.id);
      return {
        found,
        context: options.context ? await neighbourRows(this.pool, namespaceId, ids, options.context) : undefined,
      };
    });
  }

  async export(scope: Scope): Promise<{ scope: Scope; memories: Memory[] }> {
    return { scope, memories: (await this.list(scope, { history: true })).reverse() };
  }

  async scopes(kind?: Scope['kind']): Promise<Scope[]> {
    const { rows } = await this.pool.query<{ kind: Scope['kind']; key: string }>(
      'SELECT kind, key FROM namespaces WHERE $1::text IS NULL OR kind = $1 ORDER BY kind, key',
      [kind ?? null],
    );
    return rows.map((row) => (row.kind === 'global' ? { kind: 'global' } : { kind: row.kind, id: row.key }));
  }

  async restore(
    scope: Scope,
    memories: readonly Memory[],
    options: AddEpisodesOptions = {},
  ): Promise<Map<string, string>> {
    validateScope(scope);
    const now = this.clock();
    const vectors = await embedInBatches(
      this.embedder,
      memories.map((memory) => validateText(memory?.text, `text of ${memory?.id}`)),
      options,
    );
    return transaction(this.pool, async (client) => {
      if (!(await this.turnAlive(client, options))) return new Map();
      const namespaceId = await lockNamespace(client, scope, now);
      return restoreMemories(client, {
        scope,
        namespaceId,
        memories,
        vectors,
        insert: (rows) => this.insertRows(client, namespaceId, rows),
      });
    });
  }

  async reindex(embedder: Embedder, options: ReindexOptions = {}): Promise<{ memories: number }> {
    return reindexVectors(this.pool, this.storage, embedder, options);
  }

  /**
   * Deletes one memory, or every row of the scope when `id` is omitted (episodes, facts, provenance, full-text and
   * vector entries, persona membership) and, for a user, every storage module's rows (threads, ratings), in one
   * transaction that locks the namespace row first: a turn writing meanwhile either commits before it (and is
   * deleted with the rest) or finds the namespace gone and stores nothing.
   *
   * What "no copy left" means here: after the commit every table the transaction deleted or updated rows of (the
   * store's and the modules', learned from `pg_stat_xact_user_tables`) is rewritten with `VACUUM FULL`, indexes
   * included, so the bytes leave the relation files; {@link ForgetResult.flushed} is false when a rewrite could not
   * run (a lock held past 10 s, or a role that may not vacuum the table). PostgreSQL has no secure delete: the
   * write-ahead log (and so any WAL archive, replica or backup) keeps the rows until its segments are recycled, and
   * the old relation files' blocks are freed to the file system, not zeroed. `VACUUM FULL` takes an ACCESS EXCLUSIVE
   * lock on each table for the time of its rewrite, so a forget briefly stops every other reader and writer.
   */
  async forget(scope: Scope, id?: string): Promise<ForgetResult> {
    validateScope(scope);
    const parsed = id === undefined ? undefined : parseMemoryId(id);
    const notFound = () => new InputError(`no memory ${id} for ${describeScope(scope)}`, { code: 'not_found' });
    const { removed, tables } = await transaction(this.pool, async (client) => {
      const namespaceId = await findNamespace(client, scope, 'FOR UPDATE');
      if (namespaceId === undefined && parsed !== undefined) throw notFound();
      let deleted = 0;
      let alsoDeleted: Record<string, number> = {};
      if (namespaceId !== undefined) {
        const info = await readVectorIndexInfo(client);
        const { rows } = await client.query<{ id: number; words: number }>(
          parsed === undefined
            ? 'DELETE FROM memories m WHERE m.namespace_id = $1 RETURNING m.id, m.words'
            : `DELETE FROM memories m WHERE m.namespace_id = $1 AND ${idMatches(2)} RETURNING m.id, m.words`,
          parsed === undefined ? [namespaceId] : [namespaceId, ...idValues(parsed)],
        );
        if (parsed !== undefined && rows.length === 0) throw notFound();
        deleted = rows.length;
        if (info)
          await client.query(`DELETE FROM ${quoted(info.table)} WHERE id = ANY($1::bigint[])`, [
            rows.map((row) => row.id),
          ]);
        if (parsed === undefined) {
          if (scope.kind === 'user')
            alsoDeleted = await forgetInModules(client, this.modules, forgetTarget(scope.id, namespaceId));
          if (info) await client.query(`DELETE FROM ${quoted(info.table)} WHERE namespace_id = $1`, [namespaceId]);
          await client.query('DELETE FROM persona_members WHERE user_namespace_id = $1', [namespaceId]);
          await client.query('DELETE FROM namespaces WHERE id = $1', [namespaceId]);
        } else {
          await client.query('UPDATE namespaces SET memories = memories - $2, words = words - $3 WHERE id = $1', [
            namespaceId,
            rows.length,
            rows.reduce((sum, row) => sum + row.words, 0),
          ]);
        }
      } else if (scope.kind === 'user') {
        // A user may have ratings and no memories yet.
        alsoDeleted = await forgetInModules(client, this.modules, forgetTarget(scope.id, undefined));
      }
      return { removed: { deleted, alsoDeleted }, tables: await touchedTables(client) };
    });
    return { ...removed, flushed: await rewriteTables(this.pool, tables) };
  }

  async setPersona(user: UserScope, persona: string | null, assignedBy: 'hand' | 'auto' = 'hand'): Promise<void> {
    validateScope(user);
    if (persona === null) {
      await this.pool.query(
        `DELETE FROM persona_members WHERE user_namespace_id = (SELECT id FROM namespaces WHERE kind = 'user' AND key = $1)`,
        [user.id],
      );
      return;
    }
    validateScope(personaScope(persona));
    const now = this.clock();
    await transaction(this.pool, async (client) => {
      const namespaceId = await lockNamespace(client, user, now);
      await client.query(
        `INSERT INTO persona_members (user_namespace_id, persona, assigned_by, assigned_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_namespace_id) DO UPDATE
         SET persona = excluded.persona, assigned_by = excluded.assigned_by, assigned_at = excluded.assigned_at`,
        [namespaceId, persona, assignedBy, now.getTime()],
      );
    });
  }

  async personaOf(user: UserScope): Promise<{ persona: string; assignedBy: 'hand' | 'auto' } | undefined> {
    validateScope(user);
    const { rows } = await this.pool.query<{ persona: string; assigned_by: 'hand' | 'auto' }>(
      `SELECT persona, assigned_by FROM persona_members
       WHERE user_namespace_id = (SELECT id FROM namespaces WHERE kind = 'user' AND key = $1)`,
      [user.id],
    );
    return rows[0] && { persona: rows[0].persona, assignedBy: rows[0].assigned_by };
  }

  async personaMembers(persona: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>(
      'SELECT count(*) AS n FROM persona_members WHERE persona = $1',
      [persona],
    );
    return rows[0]?.n ?? 0;
  }

  async beginTurn(user: UserScope, threadId: string): Promise<Turn> {
    validateScope(user);
    validateText(threadId, 'thread id');
    const now = this.clock();
    const namespaceId = await transaction(this.pool, (client) => lockNamespace(client, user, now));
    return new PostgresTurn(this.pool, this.modules, user, threadKey(namespaceId, threadId));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  /**
   * False when the write belongs to a turn whose user has been forgotten: the turn's namespace row is gone. Else the
   * row stays locked to the end of the write, so a forget waits for the write (and then deletes it). The lock is
   * `FOR NO KEY UPDATE` rather than `FOR SHARE` because the write goes on to update the row's counters: two writers
   * each holding a share lock and then both upgrading would deadlock.
   */
  private async turnAlive(client: pg.ClientBase, options: TurnWriteOptions): Promise<boolean> {
    if (!options.turn) return true;
    const { rowCount } = await client.query('SELECT 1 FROM namespaces WHERE id = $1 FOR NO KEY UPDATE', [
      threadNamespace(options.turn.threadKey),
    ]);
    return rowCount === 1;
  }

  private async knownSourceIds(
    client: Queryable,
    scope: Scope,
    rows: ReadonlyArray<{ sourceId: string | null }>,
  ): Promise<Set<string>> {
    const wanted = rows.flatMap((row) => (row.sourceId === null ? [] : [row.sourceId]));
    if (wanted.length === 0) return new Set();
    const { rows: found } = await client.query<{ source_id: string }>(
      `SELECT source_id FROM memories WHERE namespace_id = (SELECT id FROM namespaces WHERE kind = $1 AND key = $2)
       AND source_id = ANY($3::text[])`,
      [scope.kind, scopeKey(scope), wanted],
    );
    return new Set(found.map((row) => row.source_id));
  }

  /**
   * Inserts memory rows with their full-text words, word ids and vectors; returns their ids, in order. Ids are
   * taken from the sequence first, so they follow the input's order.
   */
  private async insertRows(
    client: pg.ClientBase,
    namespaceId: number,
    rows: readonly RestoredRow[],
  ): Promise<number[]> {
    if (rows.length === 0) return [];
    // Locks out a reindex's final swap until this transaction ends, before the live vector table is read: the swap
    // then either sees these rows or is seen to have happened.
    await client.query('LOCK TABLE memories IN ROW EXCLUSIVE MODE');
    const table = await this.boundVectors(client);
    const { rows: reserved } = await client.query<{ id: number }>(
      "SELECT nextval('memories_id_seq') AS id FROM generate_series(1, $1)",
      [rows.length],
    );
    const ids = reserved.map((row) => row.id);
    const words = rows.map((row) => indexedWords(row.text));
    await client.query(
      `INSERT INTO memories (id, namespace_id, kind, text, role, session, at, valid_to, source_id, created_at, word_ids, words, tsv)
       SELECT id, $1, kind, text, role, session, at, valid_to, source_id, created_at, word_ids, words, to_tsvector('mnemo', indexed)
       FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::bigint[], $9::text[],
                   $10::bigint[], $11::bytea[], $12::integer[], $13::text[])
         AS r (id, kind, text, role, session, at, valid_to, source_id, created_at, word_ids, words, indexed)`,
      [
        namespaceId,
        ids,
        rows.map((row) => row.kind),
        rows.map((row) => row.text),
        rows.map((row) => row.role),
        rows.map((row) => row.session),
        rows.map((row) => row.at),
        rows.map((row) => row.validTo),
        rows.map((row) => row.sourceId),
        rows.map((row) => row.createdAt),
        rows.map((row) => wordIdBytes(this.embedder, row.text)),
        words.map((word) => word.count),
        words.map((word) => word.words),
      ],
    );
    await this.storage.insert(
      client,
      table,
      rows.map((row, index) => ({ id: ids[index]!, namespaceId, vector: row.vector })),
    );
    await client.query('UPDATE namespaces SET memories = memories + $2, words = words + $3 WHERE id = $1', [
      namespaceId,
      rows.length,
      words.reduce((sum, word) => sum + word.count, 0),
    ]);
    return ids;
  }

  private async readRows(client: Queryable, scope: Scope, namespaceId: number, ids: readonly number[]) {
    const { rows } = await client.query<MemoryRow>(
      `SELECT ${MEMORY_COLUMNS} FROM memories m WHERE m.id = ANY($1::bigint[]) AND m.namespace_id = $2`,
      [ids, namespaceId],
    );
    const byId = new Map(rows.map((row) => [row.id, toMemory(row, scope)]));
    return ids.flatMap((id) => byId.get(id) ?? []);
  }

  /** Locks a current fact of the namespace for the rest of the transaction, refusing one that was closed meanwhile. */
  private async requireFact(client: pg.ClientBase, scope: Scope, namespaceId: number, id: string): Promise<number> {
    const parsed = parseMemoryId(id);
    const { rows } = await client.query<{ valid_to: number | null }>(
      `SELECT m.valid_to FROM memories m WHERE ${idMatches(1)} AND m.namespace_id = $3 FOR UPDATE`,
      [...idValues(parsed), namespaceId],
    );
    if (!rows[0] || parsed.kind !== 'fact')
      throw new InputError(`no fact ${id} for ${describeScope(scope)}`, { code: 'not_found' });
    if (rows[0].valid_to !== null)
      throw new InputError(`fact ${id} is no longer current; change the fact that replaced it`);
    return parsed.row;
  }
}

const quoted = (table: string): string => `"${table.replaceAll('"', '""')}"`;
