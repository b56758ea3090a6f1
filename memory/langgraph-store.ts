import {
  BaseStore,
  type Item,
  type ListNamespacesOperation,
  type MatchCondition,
  type Operation,
  type OperationResults,
  type SearchItem,
} from '@langchain/langgraph-checkpoint';
import type Database from 'better-sqlite3';
import { embedInBatches } from './embedders/batch.js';
import type { Embedder } from './embedders/types.js';
import { InputError, StoreError } from './errors.js';
import {
  compareNamespaces,
  decodeNamespace,
  encodeNamespace,
  ftsMatch,
  type ItemRow,
  matchesCondition,
  namespaceRange,
  type PreparedPut,
  preparePut,
  toItem,
  validateCount,
  validateNamespace,
  validatePaths,
  type Where,
  whereClause,
  withScore,
} from './langgraph-store-sql.js';
import { type OpenDatabaseOptions, openWith, statementCache } from './sqlite/database.js';
import { vectorBytes } from './sqlite/vectors.js';

/** Semantic indexing of a {@link SqliteStore}. */
export interface SqliteStoreIndexOptions {
  /** Embeds the indexed text of each put and each search query. The file records it and refuses another one later. */
  embedder: Embedder;
  /** JSON paths of the text to index when a put names none (`'$'` is the whole value, `'a.b'`, `'list[*].text'`). @default ['$'] */
  fields?: string[];
}

/** Options of {@link SqliteStore}. */
export interface SqliteStoreOptions {
  /** Rank `search({ query })` by vector similarity. Without it, queries rank by full-text BM25. */
  index?: SqliteStoreIndexOptions;
  /** Source of `createdAt` / `updatedAt`. @default () => new Date() */
  clock?: () => Date;
}

/** sqlite-vec refuses a KNN query with a larger k. */
const VECTOR_K_MAX = 4096;
const META = { embedderId: 'store.embedder.id', dims: 'store.embedder.dims', table: 'store.embeddings.table' } as const;
const ITEM_COLUMNS = 'i.id, i.namespace, i.key, i.value, i.created_at, i.updated_at';
/** A validated search: bad filters or limits fail before anything is embedded. */
interface PlannedSearch {
  where: Where;
  limit: number;
  offset: number;
  /** The query, when it has any non-blank text. */
  query: string | undefined;
}
type PlannedOperation =
  | { kind: 'get'; namespace: string; key: string }
  | { kind: 'search'; search: PlannedSearch }
  | { kind: 'put' }
  | { kind: 'list'; operation: ListNamespacesOperation };

/**
 * LangGraph's `BaseStore` on mnemo's SQLite file, so any LangGraph.js app can `compile({ store })` with it. Items are
 * JSON objects under namespace tuples; `search({ query })` ranks by cosine similarity when an embedder is configured,
 * else by full-text BM25. Namespace labels may hold any character ('.', ':' and '/' included) but must not be empty.
 *
 * @example
 * const store = SqliteStore.open('mnemo.db', { index: { embedder, fields: ['text'] } });
 * const graph = new StateGraph(State).addNode('remember', remember).compile({ store });
 */
export class SqliteStore extends BaseStore {
  readonly db: Database.Database;
  private readonly embedder: Embedder | undefined;
  private readonly fields: readonly string[];
  private readonly clock: () => Date;
  private embeddings: { table: string; dims: number } | undefined;
  /** Prepared statements, cached by SQL text (filters vary the text by shape only; values are bound). */
  private readonly prepare: (sql: string) => Database.Statement;

  constructor(db: Database.Database, options: SqliteStoreOptions = {}) {
    super();
    this.db = db;
    this.prepare = statementCache(db);
    this.embedder = options.index?.embedder;
    this.fields = validatePaths(options.index?.fields ?? ['$'], 'index.fields');
    this.clock = options.clock ?? (() => new Date());
    if (db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'store_items'").get() === undefined) {
      throw new StoreError(
        'store_failed',
        'this database has no LangGraph store tables; open it with openDatabase() or SqliteStore.open()',
      );
    }
    this.embeddings = this.embedder ? this.bindEmbedder(this.embedder) : this.readEmbeddings();
  }

  /** Opens or creates the file at `path` (`:memory:` for a throwaway store). */
  static open(path: string, options: SqliteStoreOptions & OpenDatabaseOptions = {}): SqliteStore {
    return openWith(path, options, (db) => new SqliteStore(db, options));
  }

  /**
   * Runs the operations in one SQLite transaction. As in LangGraph's InMemoryStore, reads see the store as it was
   * before the batch's writes, and of several puts to one item the last wins. Embedding happens before the transaction.
   */
  override async batch<Op extends Operation[]>(operations: Op): Promise<OperationResults<Op>> {
    const puts = new Map<string, PreparedPut>();
    const plan = operations.map((operation): PlannedOperation => {
      if (operation === null || typeof operation !== 'object')
        throw new InputError('a store operation must be an object');
      if ('namespacePrefix' in operation) {
        validateNamespace(operation.namespacePrefix, 'namespacePrefix', true);
        const search = {
          where: whereClause(operation.namespacePrefix, operation.filter),
          limit: validateCount(operation.limit ?? 10, 'limit'),
          offset: validateCount(operation.offset ?? 0, 'offset'),
          query: operation.query?.trim() ? operation.query : undefined,
        };
        return { kind: 'search', search };
      }
      if ('namespace' in operation && 'key' in operation) {
        // Reading or deleting under no namespace finds nothing; only writing one is an error.
        validateNamespace(operation.namespace, 'namespace', !('value' in operation) || operation.value === null);
        if (typeof operation.key !== 'string')
          throw new InputError(`an item key must be a string, got ${typeof operation.key}`);
        if (!('value' in operation))
          return { kind: 'get', namespace: encodeNamespace(operation.namespace), key: operation.key };
        const put = preparePut(operation, this.fields);
        puts.set(JSON.stringify([put.namespace, put.key]), put);
        return { kind: 'put' };
      }
      if ('matchConditions' in operation || 'limit' in operation || 'maxDepth' in operation)
        return { kind: 'list', operation };
      throw new InputError('unknown store operation: expected a get, put, search or listNamespaces operation');
    });

    const texts = new Set<string>();
    if (this.embedder) {
      for (const put of puts.values()) for (const { text } of put.texts) texts.add(text);
      for (const entry of plan)
        if (entry.kind === 'search' && entry.search.query !== undefined) texts.add(entry.search.query);
    }
    const vectors = await this.embed([...texts]);

    const transaction = this.db.transaction(() => {
      const results = plan.map((entry) => {
        if (entry.kind === 'get') return this.getItem(entry.namespace, entry.key);
        if (entry.kind === 'search') return this.searchItems(entry.search, vectors);
        if (entry.kind === 'list') return this.listNamespacesOf(entry.operation);
        return undefined;
      });
      const now = this.clock().getTime();
      let removedText = false;
      for (const put of puts.values()) removedText = this.applyPut(put, now, vectors) || removedText;
      if (removedText) this.rewriteTextIndex();
      return results;
    });
    return (puts.size > 0 ? transaction.immediate() : transaction.deferred()) as OperationResults<Op>;
  }

  // The base class's convenience methods reject '.' and ':' in labels (InMemoryStore's path separators); this store
  // encodes labels exactly, so it only rejects what it cannot store.
  override async get(namespace: string[], key: string): Promise<Item | null> {
    const [item] = await this.batch([{ namespace, key }]);
    return item ?? null;
  }

  override async put(
    namespace: string[],
    key: string,
    // biome-ignore lint/suspicious/noExplicitAny: BaseStore's own signature, which an override must match
    value: Record<string, any>,
    index?: false | string[],
  ): Promise<void> {
    validateNamespace(namespace, 'namespace', false);
    if (namespace[0] === 'langgraph')
      throw new InputError('the namespace root label "langgraph" is reserved by LangGraph');
    await this.batch([{ namespace, key, value, ...(index === undefined ? {} : { index }) }]);
  }

  override async delete(namespace: string[], key: string): Promise<void> {
    await this.batch([{ namespace, key, value: null }]);
  }

  override async search(
    namespacePrefix: string[],
    // biome-ignore lint/suspicious/noExplicitAny: BaseStore's own signature, which an override must match
    options: { filter?: Record<string, any>; limit?: number; offset?: number; query?: string } = {},
  ): Promise<SearchItem[]> {
    const [items] = await this.batch([{ namespacePrefix, ...options }]);
    return items ?? [];
  }

  override async listNamespaces(
    options: { prefix?: string[]; suffix?: string[]; maxDepth?: number; limit?: number; offset?: number } = {},
  ): Promise<string[][]> {
    const matchConditions: MatchCondition[] = [];
    if (options.prefix) matchConditions.push({ matchType: 'prefix', path: options.prefix });
    if (options.suffix) matchConditions.push({ matchType: 'suffix', path: options.suffix });
    const [namespaces] = await this.batch([
      {
        matchConditions,
        limit: options.limit ?? 100,
        offset: options.offset ?? 0,
        ...(options.maxDepth === undefined ? {} : { maxDepth: options.maxDepth }),
      },
    ]);
    return namespaces ?? [];
  }

  /**
   * Deletes every item whose namespace starts with `namespacePrefix` (e.g. `['users', id]` to forget a user), with
   * its full-text and vector entries, then checkpoints the WAL so the files keep no copy.
   * @returns how many items were deleted.
   */
  deletePrefix(namespacePrefix: string[]): number {
    validateNamespace(namespacePrefix, 'namespacePrefix', false);
    const range = namespaceRange(namespacePrefix);
    const deleted = this.db
      .transaction(() => {
        const ids = this.prepare(`SELECT i.id FROM store_items i WHERE ${range.sql}`)
          .pluck()
          .all(...range.params) as number[];
        for (const id of ids) this.deleteItem(id);
        if (ids.length > 0) this.rewriteTextIndex();
        return ids.length;
      })
      .immediate();
    if (deleted > 0) this.db.pragma('wal_checkpoint(TRUNCATE)');
    return deleted;
  }

  /** Closes the database connection (shared with anything else that uses it). */
  close(): void {
    if (this.db.open) this.db.close();
  }

  private getItem(namespace: string, key: string): Item | null {
    const row = this.prepare(`SELECT ${ITEM_COLUMNS} FROM store_items i WHERE i.namespace = ? AND i.key = ?`).get(
      namespace,
      key,
    ) as ItemRow | undefined;
    return row ? toItem(row) : null;
  }

  private searchItems(
    { where, limit, offset, query }: PlannedSearch,
    vectors: ReadonlyMap<string, Float32Array>,
  ): SearchItem[] {
    if (limit === 0) return [];
    const queryVector = query === undefined ? undefined : vectors.get(query);
    if (queryVector && this.embeddings)
      return this.vectorSearch(this.embeddings.table, where, queryVector, limit, offset);
    const match = query === undefined ? undefined : ftsMatch(query);
    if (match !== undefined) {
      const rows = this.prepare(
        `WITH hits AS MATERIALIZED (SELECT rowid AS id, bm25(store_items_fts) AS bm25 FROM store_items_fts WHERE store_items_fts MATCH ?)
         SELECT ${ITEM_COLUMNS}, hits.bm25 AS bm25 FROM store_items i LEFT JOIN hits ON hits.id = i.id
         WHERE ${where.sql} ORDER BY hits.bm25 IS NULL, hits.bm25, i.updated_at DESC, i.id DESC LIMIT ? OFFSET ?`,
      ).all(match, ...where.params, limit, offset) as Array<ItemRow & { bm25: number | null }>;
      // BM25 is lower-is-better in FTS5; negated so that, like cosine, a higher score is a better match.
      return rows.map((row) => withScore(row, row.bm25 === null ? undefined : -row.bm25));
    }
    return this.unscored(where, limit, offset, false);
  }

  /**
   * Items by cosine similarity, best first, then the items without a vector (newest first), like InMemoryStore.
   * A KNN query serves when its k nearest vectors hold enough matching items; a selective filter over a large store
   * falls back to scoring every matching item.
   */
  private vectorSearch(
    table: string,
    where: Where,
    queryVector: Float32Array,
    limit: number,
    offset: number,
  ): SearchItem[] {
    const query = vectorBytes(queryVector);
    const needed = offset + limit;
    const total = this.prepare('SELECT count(*) FROM store_vectors').pluck().get() as number;
    const knn = this.prepare(
      `WITH knn AS MATERIALIZED (SELECT rowid AS vector_id, distance FROM ${table} WHERE embedding MATCH ? AND k = ?)
       SELECT ${ITEM_COLUMNS}, min(knn.distance) AS distance
       FROM knn JOIN store_vectors v ON v.id = knn.vector_id JOIN store_items i ON i.id = v.item_id
       WHERE ${where.sql} GROUP BY i.id ORDER BY distance, i.updated_at DESC, i.id DESC LIMIT ?`,
    );
    for (let k = Math.min(total, Math.max(64, 4 * needed)); k <= VECTOR_K_MAX; k = Math.min(total, k * 8)) {
      const scored =
        k === 0 ? [] : (knn.all(query, k, ...where.params, needed) as Array<ItemRow & { distance: number }>);
      const page = scored.slice(offset).map((row) => withScore(row, 1 - row.distance));
      if (scored.length >= needed) return page;
      if (k >= total) {
        // Every vector was ranked, so every scored item is here: the rest of the page is items without a vector.
        return [...page, ...this.unscored(where, limit - page.length, Math.max(0, offset - scored.length), true)];
      }
    }
    const rows = this.prepare(
      `SELECT ${ITEM_COLUMNS}, (SELECT min(vec_distance_cosine(e.embedding, ?)) FROM store_vectors v JOIN ${table} e ON e.rowid = v.id
         WHERE v.item_id = i.id) AS distance
       FROM store_items i WHERE ${where.sql} ORDER BY distance IS NULL, distance, i.updated_at DESC, i.id DESC LIMIT ? OFFSET ?`,
    ).all(query, ...where.params, limit, offset) as Array<ItemRow & { distance: number | null }>;
    return rows.map((row) => withScore(row, row.distance === null ? undefined : 1 - row.distance));
  }

  /** Matching items newest first, optionally only those without a vector. */
  private unscored(where: Where, limit: number, offset: number, withoutVectors: boolean): SearchItem[] {
    if (limit <= 0) return [];
    const vectorless = withoutVectors ? ' AND NOT EXISTS (SELECT 1 FROM store_vectors v WHERE v.item_id = i.id)' : '';
    const rows = this.prepare(
      `SELECT ${ITEM_COLUMNS} FROM store_items i WHERE ${where.sql}${vectorless} ORDER BY i.updated_at DESC, i.id DESC LIMIT ? OFFSET ?`,
    ).all(...where.params, limit, offset) as ItemRow[];
    return rows.map((row) => withScore(row, undefined));
  }

  private listNamespacesOf(operation: ListNamespacesOperation): string[][] {
    const conditions = operation.matchConditions ?? [];
    for (const condition of conditions) {
      if (condition.matchType !== 'prefix' && condition.matchType !== 'suffix') {
        throw new InputError(`unknown namespace match type ${String(condition.matchType)}; use "prefix" or "suffix"`);
      }
      validateNamespace(condition.path, `${condition.matchType} path`, true);
    }
    const maxDepth = operation.maxDepth === undefined ? undefined : validateCount(operation.maxDepth, 'maxDepth');
    if (maxDepth === 0) throw new InputError('maxDepth must be at least 1');
    const offset = validateCount(operation.offset ?? 0, 'offset');
    const limit = operation.limit === undefined ? Infinity : validateCount(operation.limit, 'limit');
    // The labels before any wildcard of a prefix condition narrow the scan to one index range.
    const prefixPath = conditions.find((condition) => condition.matchType === 'prefix')?.path ?? [];
    const wildcard = prefixPath.indexOf('*');
    const head = wildcard === -1 ? prefixPath : prefixPath.slice(0, wildcard);
    const range = head.length > 0 ? namespaceRange(head) : { sql: '1', params: [] };
    const encoded = this.prepare(`SELECT DISTINCT i.namespace FROM store_items i WHERE ${range.sql}`)
      .pluck()
      .all(...range.params) as string[];
    const unique = new Map<string, string[]>();
    for (const namespace of encoded.map(decodeNamespace)) {
      if (!conditions.every((condition) => matchesCondition(condition, namespace))) continue;
      const kept = maxDepth === undefined ? namespace : namespace.slice(0, maxDepth);
      unique.set(encodeNamespace(kept), kept);
    }
    return [...unique.values()].sort(compareNamespaces).slice(offset, offset + limit);
  }

  /** Writes one put; returns true when it deleted or replaced an item (whose words the text index still holds). */
  private applyPut(put: PreparedPut, now: number, vectors: ReadonlyMap<string, Float32Array>): boolean {
    const existing = this.prepare('SELECT id FROM store_items WHERE namespace = ? AND key = ?')
      .pluck()
      .get(put.namespace, put.key) as number | undefined;
    if (put.value === null) {
      if (existing !== undefined) this.deleteItem(existing);
      return existing !== undefined;
    }
    let id: number;
    if (existing === undefined) {
      id = Number(
        this.prepare(
          'INSERT INTO store_items (namespace, key, value, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
        ).run(put.namespace, put.key, put.value, now, now).lastInsertRowid,
      );
    } else {
      id = existing;
      this.clearIndex(id);
      this.prepare('UPDATE store_items SET value = ?, updated_at = ? WHERE id = ?').run(put.value, now, id);
    }
    if (put.texts.length > 0) this.index(id, put.texts, vectors);
    return existing !== undefined;
  }

  private index(id: number, texts: PreparedPut['texts'], vectors: ReadonlyMap<string, Float32Array>): void {
    this.prepare('INSERT INTO store_items_fts (rowid, text) VALUES (?, ?)').run(
      id,
      texts.map(({ text }) => text).join('\n'),
    );
    if (!this.embedder || !this.embeddings) return;
    const addVector = this.prepare('INSERT INTO store_vectors (item_id, path) VALUES (?, ?)');
    const addEmbedding = this.prepare(`INSERT INTO ${this.embeddings.table} (rowid, embedding) VALUES (?, ?)`);
    for (const { path, text } of texts) {
      const vectorId = addVector.run(id, path).lastInsertRowid;
      addEmbedding.run(BigInt(vectorId), vectorBytes(vectors.get(text)!));
    }
  }

  /**
   * Rewrites the full-text index after deletes: as in memory's forget, deleted words can survive as separator keys of
   * its b-tree until then. Costs time proportional to the index (milliseconds for thousands of items).
   */
  private rewriteTextIndex(): void {
    this.prepare("INSERT INTO store_items_fts (store_items_fts) VALUES ('optimize')").run();
  }

  private deleteItem(id: number): void {
    this.clearIndex(id);
    this.prepare('DELETE FROM store_items WHERE id = ?').run(id);
  }

  /** Removes an item's full-text row and vectors. */
  private clearIndex(id: number): void {
    this.prepare('DELETE FROM store_items_fts WHERE rowid = ?').run(id);
    const vectorIds = this.prepare('SELECT id FROM store_vectors WHERE item_id = ?').pluck().all(id) as number[];
    if (vectorIds.length === 0) return;
    // Another connection may have created the vector table after this store was opened without an embedder.
    this.embeddings ??= this.readEmbeddings();
    const embeddings = this.embeddings;
    if (!embeddings)
      throw new StoreError('store_failed', 'the LangGraph store has vectors but no vector table is recorded in meta');
    const zero = vectorBytes(new Float32Array(embeddings.dims));
    // Older sqlite-vec releases only flag a deleted row; overwrite its vector first so no release leaves a trace of it.
    const wipe = this.prepare(`UPDATE ${embeddings.table} SET embedding = ? WHERE rowid = ?`);
    const remove = this.prepare(`DELETE FROM ${embeddings.table} WHERE rowid = ?`);
    for (const vectorId of vectorIds) {
      wipe.run(zero, BigInt(vectorId));
      remove.run(BigInt(vectorId));
    }
    this.prepare('DELETE FROM store_vectors WHERE item_id = ?').run(id);
  }

  private async embed(texts: readonly string[]): Promise<Map<string, Float32Array>> {
    if (!this.embedder) return new Map();
    const vectors = await embedInBatches(this.embedder, texts);
    return new Map(texts.map((text, index) => [text, vectors[index]!]));
  }

  private readEmbeddings(): { table: string; dims: number } | undefined {
    const meta = this.prepare('SELECT value FROM meta WHERE key = ?').pluck();
    const table = meta.get(META.table) as string | undefined;
    const dims = meta.get(META.dims) as string | undefined;
    return table === undefined || dims === undefined ? undefined : { table, dims: Number(dims) };
  }

  /** Accepts the embedder the file was indexed with, creates the vector table on first use, refuses any other. */
  private bindEmbedder(embedder: Embedder): { table: string; dims: number } {
    if (!Number.isInteger(embedder.dims) || embedder.dims <= 0)
      throw new InputError(`embedder ${embedder.id} has invalid dims ${embedder.dims}`);
    return this.db
      .transaction(() => {
        const meta = this.prepare('SELECT value FROM meta WHERE key = ?').pluck();
        const recordedId = meta.get(META.embedderId) as string | undefined;
        const existing = this.readEmbeddings();
        if (recordedId !== undefined && existing) {
          if (recordedId !== embedder.id || existing.dims !== embedder.dims) {
            throw new StoreError(
              'embedder_mismatch',
              `the LangGraph store in this database was indexed with embedder ${recordedId} (${existing.dims} dims), ` +
                `not ${embedder.id} (${embedder.dims} dims); configure the original embedder`,
            );
          }
          return existing;
        }
        const created = { table: 'store_embeddings_1', dims: embedder.dims };
        this.db.exec(
          `CREATE VIRTUAL TABLE ${created.table} USING vec0 (embedding FLOAT[${created.dims}] distance_metric=cosine)`,
        );
        const setMeta = this.prepare(
          'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
        );
        setMeta.run(META.embedderId, embedder.id);
        setMeta.run(META.dims, String(created.dims));
        setMeta.run(META.table, created.table);
        return created;
      })
      .immediate();
  }
}

// ---- namespaces ----

/** Each label escaped and followed by '/', so that a prefix of labels is exactly a prefix of the string. */
