import { join } from 'node:path';
import { Annotation, END, InMemoryStore, type LangGraphRunnableConfig, START, StateGraph } from '@langchain/langgraph';
import type { GetOperation, PutOperation, SearchOperation } from '@langchain/langgraph-checkpoint';
import { describe, expect, it } from 'vitest';
import { FakeEmbedder } from '../../memory/embedders/fake.js';
import { InputError, StoreError } from '../../memory/errors.js';
import { SqliteStore } from '../../memory/langgraph-store.js';
import { vectorBytes } from '../../memory/sqlite/vectors.js';
import { tempDir } from '../helpers/tmp.js';

/** A clock that moves one second per reading, so every write has its own timestamp. */
function tickingClock(start = Date.parse('2024-01-01T00:00:00Z')): () => Date {
  let now = start;
  return () => {
    now += 1000;
    return new Date(now);
  };
}

const plainStore = () => SqliteStore.open(':memory:', { clock: tickingClock() });
const semanticStore = (embedder = new FakeEmbedder({ dims: 256 }), fields?: string[]) =>
  SqliteStore.open(':memory:', { clock: tickingClock(), index: { embedder, ...(fields ? { fields } : {}) } });
const keys = (items: ReadonlyArray<{ key: string }>) => items.map((item) => item.key);
const count = (store: SqliteStore, table: string) =>
  store.db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;

describe('SqliteStore items', () => {
  it('puts, gets and deletes an item', async () => {
    const store = plainStore();
    expect(await store.get(['users', 'ada'], 'prefs')).toBeNull();
    await store.put(['users', 'ada'], 'prefs', { theme: 'dark', sizes: [1, 2], nested: { on: true } });
    const item = await store.get(['users', 'ada'], 'prefs');
    expect(item).toMatchObject({
      key: 'prefs',
      namespace: ['users', 'ada'],
      value: { theme: 'dark', sizes: [1, 2], nested: { on: true } },
    });
    expect(item!.createdAt).toBeInstanceOf(Date);
    expect(await store.get(['users'], 'prefs')).toBeNull();
    expect(await store.get(['users', 'bob'], 'prefs')).toBeNull();
    await store.delete(['users', 'ada'], 'prefs');
    expect(await store.get(['users', 'ada'], 'prefs')).toBeNull();
    await store.delete(['users', 'ada'], 'never-stored');
    await store.close();
  });

  it('keeps createdAt and bumps updatedAt when an item is overwritten', async () => {
    const store = plainStore();
    await store.put(['docs'], 'a', { v: 1 });
    const first = (await store.get(['docs'], 'a'))!;
    await store.put(['docs'], 'a', { v: 2 });
    const second = (await store.get(['docs'], 'a'))!;
    expect(second.value).toEqual({ v: 2 });
    expect(second.createdAt).toEqual(first.createdAt);
    expect(second.updatedAt.getTime()).toBeGreaterThan(first.updatedAt.getTime());
    expect(count(store, 'store_items')).toBe(1);
    await store.close();
  });

  it('stores labels with dots, slashes, colons and percent signs exactly', async () => {
    const store = plainStore();
    await store.put(['a.b', 'c/d'], 'k', { at: 1 });
    await store.put(['a.b/c', 'd'], 'k', { at: 2 });
    await store.put(['a.bc'], 'k', { at: 3 });
    await store.put(['a', 'b'], 'k', { at: 4 });
    await store.put(['x:y', '%2F', 'ü'], 'k', { at: 5 });
    expect((await store.get(['a.b', 'c/d'], 'k'))!.value).toEqual({ at: 1 });
    expect((await store.get(['a.b/c', 'd'], 'k'))!.value).toEqual({ at: 2 });
    expect(await store.get(['a.b', 'c', 'd'], 'k')).toBeNull();
    expect((await store.search(['a.b'])).map((item) => item.value.at)).toEqual([1]);
    expect((await store.search(['a'])).map((item) => item.value.at)).toEqual([4]);
    expect((await store.get(['x:y', '%2F', 'ü'], 'k'))!.namespace).toEqual(['x:y', '%2F', 'ü']);
    expect(await store.listNamespaces()).toEqual([
      ['a', 'b'],
      ['a.b', 'c/d'],
      ['a.b/c', 'd'],
      ['a.bc'],
      ['x:y', '%2F', 'ü'],
    ]);
    await store.close();
  });

  it('rejects empty labels, empty namespaces, the reserved root and values that are not objects', async () => {
    const store = plainStore();
    await expect(store.put(['users', ''], 'k', { a: 1 })).rejects.toThrow(/label 1 is empty/);
    await expect(store.put([], 'k', { a: 1 })).rejects.toThrow(InputError);
    await expect(store.search(['users', ''])).rejects.toThrow(InputError);
    await expect(store.put(['langgraph', 'x'], 'k', { a: 1 })).rejects.toThrow(/reserved/);
    await expect(store.put(['docs'], 'k', [1, 2] as unknown as Record<string, unknown>)).rejects.toThrow(/JSON object/);
    await expect(store.put(['docs'], 'k', new Date() as unknown as Record<string, unknown>)).rejects.toThrow(
      /JSON object/,
    );
    await expect(store.search(['docs'], { limit: -1 })).rejects.toThrow(/limit/);
    expect(count(store, 'store_items')).toBe(0);
    await store.close();
  });

  it('runs a batch in one transaction: reads see the state before its writes, the last put to an item wins', async () => {
    const store = plainStore();
    await store.put(['docs'], 'a', { v: 1 });
    const operations: [GetOperation, PutOperation, PutOperation, SearchOperation] = [
      { namespace: ['docs'], key: 'a' },
      { namespace: ['docs'], key: 'a', value: { v: 2 } },
      { namespace: ['docs'], key: 'a', value: { v: 3 } },
      { namespacePrefix: ['docs'], limit: 10, offset: 0 },
    ];
    const [before, written, , listed] = await store.batch(operations);
    expect(before!.value).toEqual({ v: 1 });
    expect(written).toBeUndefined();
    expect(listed.map((item) => item.value)).toEqual([{ v: 1 }]);
    expect((await store.get(['docs'], 'a'))!.value).toEqual({ v: 3 });
    // A bad operation anywhere in the batch writes nothing.
    await expect(
      store.batch([
        { namespace: ['docs'], key: 'b', value: { v: 1 } },
        { namespace: ['docs', ''], key: 'c', value: { v: 1 } },
      ]),
    ).rejects.toThrow(InputError);
    expect(await store.get(['docs'], 'b')).toBeNull();
    await store.close();
  });
});

describe('SqliteStore search', () => {
  const seed = async (store: SqliteStore | InMemoryStore) => {
    await store.put(['shop', 'fruit'], 'apple', { colour: 'red', price: 1.5, stock: 10, organic: true, tags: ['a'] });
    await store.put(['shop', 'fruit'], 'banana', { colour: 'yellow', price: 0.5, stock: 0, organic: false });
    await store.put(['shop', 'fruit'], 'cherry', { colour: 'red', price: 4, stock: 3, organic: null });
    await store.put(['shop', 'veg'], 'leek', { colour: 'green', price: 2, stock: 7 });
    await store.put(['other'], 'brick', { colour: 'red', price: 1 });
  };
  const filters: Array<Record<string, unknown>> = [
    { colour: 'red' },
    { colour: { $eq: 'red' } },
    { colour: { $ne: 'red' } },
    { colour: 'red', stock: { $gt: 3 } },
    { price: { $gte: 1.5 } },
    { price: { $gt: 0.5, $lt: 4 } },
    { price: { $lte: 2 } },
    { stock: 0 },
    { organic: true },
    { organic: false },
    { organic: null },
    { colour: { $in: ['green', 'yellow'] } },
    { colour: { $nin: ['green', 'yellow'] } },
    { missing: 'x' },
    { stock: { $ne: 3 } },
  ];

  it('filters with values and $eq/$ne/$gt/$gte/$lt/$lte/$in/$nin like InMemoryStore', async () => {
    const store = plainStore();
    const reference = new InMemoryStore();
    await seed(store);
    await seed(reference);
    for (const filter of filters) {
      const got = keys(await store.search(['shop'], { filter })).sort();
      const expected = keys(await reference.search(['shop'], { filter })).sort();
      expect({ filter, got }).toEqual({ filter, got: expected });
    }
    expect(keys(await store.search(['shop'], { filter: { colour: 'red', price: { $gt: 2 } } }))).toEqual(['cherry']);
    await store.close();
  });

  it('matches objects and arrays by JSON equality, compares strings and dates as strings, and refuses unknown operators', async () => {
    const store = plainStore();
    await store.put(['e'], 'one', { when: new Date('2024-03-01T00:00:00Z'), tags: ['x', 'y'], meta: { a: 1 } });
    await store.put(['e'], 'two', { when: new Date('2024-05-01T00:00:00Z'), tags: ['y'], meta: { a: 2 } });
    expect(keys(await store.search(['e'], { filter: { when: { $gt: new Date('2024-04-01T00:00:00Z') } } }))).toEqual([
      'two',
    ]);
    expect(keys(await store.search(['e'], { filter: { when: { $lt: '2024-04' } } }))).toEqual(['one']);
    expect(keys(await store.search(['e'], { filter: { tags: ['x', 'y'] } }))).toEqual(['one']);
    expect(keys(await store.search(['e'], { filter: { meta: { a: 2 } } }))).toEqual(['two']);
    await expect(store.search(['e'], { filter: { when: { $regex: 'x' } } })).rejects.toThrow(
      /unknown filter operator \$regex/,
    );
    await expect(store.search(['e'], { filter: { when: { $gt: true } } })).rejects.toThrow(InputError);
    await store.close();
  });

  it('lists newest first without a query and pages with offset and limit', async () => {
    const store = plainStore();
    for (const key of ['a', 'b', 'c', 'd', 'e']) await store.put(['docs'], key, { key });
    await store.put(['docs'], 'b', { key: 'b', edited: true });
    expect(keys(await store.search(['docs']))).toEqual(['b', 'e', 'd', 'c', 'a']);
    expect(keys(await store.search(['docs'], { limit: 2 }))).toEqual(['b', 'e']);
    expect(keys(await store.search(['docs'], { limit: 2, offset: 2 }))).toEqual(['d', 'c']);
    expect(keys(await store.search(['docs'], { offset: 4 }))).toEqual(['a']);
    expect(await store.search(['docs'], { limit: 0 })).toEqual([]);
    expect(keys(await store.search([], { limit: 1 }))).toEqual(['b']);
    expect((await store.search(['docs']))[0]).not.toHaveProperty('score');
    await store.close();
  });

  it('ranks by cosine similarity with an embedder, then items without a vector', async () => {
    const embedder = new FakeEmbedder({ dims: 256 });
    const store = semanticStore(embedder, ['text']);
    await store.put(['notes'], 'cats', { text: 'my cat sleeps on the sofa all day' });
    await store.put(['notes'], 'pasta', { text: 'carbonara needs eggs and pecorino' });
    await store.put(['notes'], 'hidden', { text: 'my cat sleeps on the sofa all day' }, false);
    await store.put(['notes'], 'mixed', { text: 'the cat ate pasta' });
    const results = await store.search(['notes'], { query: 'where does my cat sleep' });
    expect(keys(results)).toEqual(['cats', 'mixed', 'pasta', 'hidden']);
    const [query, text] = await embedder.embed(['where does my cat sleep', 'my cat sleeps on the sofa all day']);
    const cosine = query!.reduce((sum, value, index) => sum + value * text![index]!, 0);
    expect(results[0]!.score).toBeCloseTo(cosine, 5);
    expect(results[0]!.score!).toBeGreaterThan(results[1]!.score!);
    expect(results[3]).not.toHaveProperty('score');
    expect(keys(await store.search(['notes'], { query: 'where does my cat sleep', offset: 1, limit: 2 }))).toEqual([
      'mixed',
      'pasta',
    ]);
    expect(keys(await store.search(['notes'], { query: 'where does my cat sleep', offset: 3 }))).toEqual(['hidden']);
    // Only the configured field was embedded, never the whole JSON document.
    expect(embedder.calls.flat()).not.toContain(JSON.stringify({ text: 'my cat sleeps on the sofa all day' }, null, 2));
    // A bad filter fails before the query costs an embedder call.
    const calls = embedder.calls.length;
    await expect(store.search(['notes'], { query: 'cat', filter: { text: { $like: 'cat' } } })).rejects.toThrow(
      InputError,
    );
    expect(embedder.calls.length).toBe(calls);
    await store.close();
  });

  it('embeds the whole value by default, each element of a [*] path, and per-put index paths', async () => {
    const embedder = new FakeEmbedder({ dims: 256 });
    const store = semanticStore(embedder);
    await store.put(['b'], 'book', { title: 'Dune', chapters: [{ body: 'sandworms' }, { body: 'spice' }] }, [
      'title',
      'chapters[*].body',
    ]);
    expect(embedder.calls.at(-1)).toEqual(['Dune', 'sandworms', 'spice']);
    await store.put(['b'], 'whole', { title: 'Emma' });
    expect(embedder.calls.at(-1)).toEqual([JSON.stringify({ title: 'Emma' }, null, 2)]);
    expect(store.db.prepare('SELECT path FROM store_vectors ORDER BY id').pluck().all()).toEqual([
      'title',
      'chapters[*].body.0',
      'chapters[*].body.1',
      '$',
    ]);
    const [best] = await store.search(['b'], { query: 'spice' });
    expect(best!.key).toBe('book');
    expect(best!.score).toBeCloseTo(1, 5);
    await store.close();
  });

  it('applies namespace and filter to semantic search, also past the KNN window', async () => {
    const embedder = new FakeEmbedder({ dims: 64 });
    const store = semanticStore(embedder, ['text']);
    const texts = Array.from({ length: 5000 }, (_, index) => (index === 4999 ? 'zebra' : `word${index % 50} filler`));
    await store.batch(
      texts.map((text, index) => ({
        namespace: ['bulk', index % 2 === 0 ? 'even' : 'odd'],
        key: `k${index}`,
        value: { text, n: index },
      })),
    );
    // The one item passing the filter is the farthest from the query, outside the 4,096 nearest vectors
    // sqlite-vec can return: the store must score the filtered items itself.
    const [only, ...rest] = await store.search(['bulk'], { query: 'filler', filter: { n: 4999 } });
    expect(only!.key).toBe('k4999');
    expect(only!.score).toBeTypeOf('number');
    expect(rest).toEqual([]);

    const query = 'word8 filler';
    const [queryVector, ...vectors] = await embedder.embed([query, ...texts]);
    const cosine = (vector: Float32Array) =>
      vector.reduce((sum, value, index) => sum + value * queryVector![index]!, 0);
    const expected = vectors
      .map(cosine)
      .filter((_, index) => index % 2 === 0)
      .sort((a, b) => b - a)
      .slice(0, 5);
    const top = await store.search(['bulk', 'even'], { query, limit: 5 });
    expect(top.every((item) => item.namespace[1] === 'even')).toBe(true);
    for (const [index, item] of top.entries()) expect(item.score).toBeCloseTo(expected[index]!, 5);
    await store.close();
  });

  it('falls back to full-text BM25 without an embedder', async () => {
    const store = plainStore();
    await store.put(['notes'], 'run', { text: 'I went running by the river' });
    await store.put(['notes'], 'cook', { text: 'Cooked a risotto for dinner' });
    await store.put(['notes'], 'both', { text: 'A run before dinner, a run after' });
    await store.put(['notes'], 'private', { text: 'run run run' }, false);
    const results = await store.search(['notes'], { query: 'runs' });
    expect(keys(results.slice(0, 2)).sort()).toEqual(['both', 'run']);
    expect(results[0]!.key).toBe('both');
    expect(results[0]!.score!).toBeGreaterThan(results[1]!.score!);
    expect(keys(results.slice(2)).sort()).toEqual(['cook', 'private']);
    expect(results[2]).not.toHaveProperty('score');
    expect(
      keys(
        await store.search(['notes'], {
          query: 'dinner',
          filter: { text: { $ne: 'Cooked a risotto for dinner' } },
          limit: 1,
        }),
      ),
    ).toEqual(['both']);
    expect(keys(await store.search(['notes'], { query: '???', limit: 1 }))).toEqual(['private']);
    await store.close();
  });
});

describe('SqliteStore namespaces', () => {
  const seed = async (store: SqliteStore) => {
    for (const namespace of [
      ['users', 'ada', 'memories'],
      ['users', 'ada', 'prefs'],
      ['users', 'bob', 'memories'],
      ['users', 'bob', 'v1'],
      ['docs', 'v1'],
      ['docs'],
    ]) {
      await store.put(namespace, 'k', { x: 1 });
    }
  };

  it('lists namespaces by prefix, suffix, wildcard and depth, with limit and offset', async () => {
    const store = plainStore();
    await seed(store);
    expect(await store.listNamespaces({ prefix: ['users', 'ada'] })).toEqual([
      ['users', 'ada', 'memories'],
      ['users', 'ada', 'prefs'],
    ]);
    expect(await store.listNamespaces({ suffix: ['v1'] })).toEqual([
      ['docs', 'v1'],
      ['users', 'bob', 'v1'],
    ]);
    expect(await store.listNamespaces({ prefix: ['users', '*', 'memories'] })).toEqual([
      ['users', 'ada', 'memories'],
      ['users', 'bob', 'memories'],
    ]);
    expect(await store.listNamespaces({ suffix: ['*', 'memories'] })).toEqual([
      ['users', 'ada', 'memories'],
      ['users', 'bob', 'memories'],
    ]);
    expect(await store.listNamespaces({ prefix: ['users'], suffix: ['v1'] })).toEqual([['users', 'bob', 'v1']]);
    expect(await store.listNamespaces({ maxDepth: 2 })).toEqual([
      ['docs'],
      ['docs', 'v1'],
      ['users', 'ada'],
      ['users', 'bob'],
    ]);
    expect(await store.listNamespaces({ prefix: ['users'], maxDepth: 1 })).toEqual([['users']]);
    expect(await store.listNamespaces({ limit: 2, offset: 1 })).toEqual([
      ['docs', 'v1'],
      ['users', 'ada', 'memories'],
    ]);
    expect(await store.listNamespaces({ prefix: ['nobody'] })).toEqual([]);
    await expect(store.listNamespaces({ maxDepth: 0 })).rejects.toThrow(/maxDepth/);
    await store.close();
  });

  it('deletes a namespace prefix with its full-text and vector rows, and nothing else', async () => {
    const store = semanticStore(new FakeEmbedder({ dims: 64 }), ['text']);
    await store.put(['users', 'ada'], 'a', { text: 'ada likes tea' });
    await store.put(['users', 'ada', 'deep'], 'b', { text: 'ada lives in Lisbon' });
    await store.put(['users', 'adam'], 'c', { text: 'adam likes coffee' });
    expect(count(store, 'store_embeddings_1')).toBe(3);
    expect(store.deletePrefix(['users', 'ada'])).toBe(2);
    expect(store.deletePrefix(['users', 'ada'])).toBe(0);
    expect(await store.listNamespaces()).toEqual([['users', 'adam']]);
    expect(count(store, 'store_embeddings_1')).toBe(1);
    expect(count(store, 'store_vectors')).toBe(1);
    expect(
      store.db.prepare("SELECT rowid FROM store_items_fts WHERE store_items_fts MATCH 'ada OR lisbon OR tea'").all(),
    ).toEqual([]);
    expect(() => store.deletePrefix([])).toThrow(InputError);
    await store.close();
  });

  it('leaves no trace of a deleted or overwritten vector in the vec0 chunks', async () => {
    const embedder = new FakeEmbedder({ dims: 64 });
    const store = semanticStore(embedder, ['text']);
    const [secret] = await embedder.embed(['my bank pin is 4921']);
    const chunks = () =>
      Buffer.concat(
        store.db.prepare('SELECT vectors FROM store_embeddings_1_vector_chunks00').pluck().all() as Buffer[],
      );
    await store.put(['u'], 'secret', { text: 'my bank pin is 4921' });
    await store.put(['u'], 'other', { text: 'the sky is blue' });
    expect(chunks().includes(vectorBytes(secret!))).toBe(true);
    await store.put(['u'], 'secret', { text: 'nothing to see' });
    expect(chunks().includes(vectorBytes(secret!))).toBe(false);
    expect(keys(await store.search(['u'], { query: 'nothing to see', limit: 1 }))).toEqual(['secret']);
    await store.delete(['u'], 'secret');
    expect(count(store, 'store_vectors')).toBe(1);
    expect(store.db.prepare("SELECT rowid FROM store_items_fts WHERE store_items_fts MATCH 'nothing'").all()).toEqual(
      [],
    );
    await store.close();
  });
});

describe('SqliteStore file', () => {
  it('persists items, reopens without the embedder and refuses a different one', async () => {
    const path = join(tempDir(), 'mnemo.db');
    const first = SqliteStore.open(path, { index: { embedder: new FakeEmbedder({ dims: 32 }), fields: ['text'] } });
    await first.put(['users', 'ada'], 'pet', { text: 'a greyhound called Pixel' });
    first.close();

    expect(() => SqliteStore.open(path, { index: { embedder: new FakeEmbedder({ dims: 64 }) } })).toThrow(StoreError);
    try {
      SqliteStore.open(path, { index: { embedder: new FakeEmbedder({ dims: 32, id: 'another' }) } });
      expect.unreachable();
    } catch (error) {
      expect((error as StoreError).code).toBe('embedder_mismatch');
      expect((error as Error).message).toMatch(/fake-32/);
    }

    const keywordOnly = SqliteStore.open(path);
    expect((await keywordOnly.get(['users', 'ada'], 'pet'))!.value).toEqual({ text: 'a greyhound called Pixel' });
    const [hit] = await keywordOnly.search(['users'], { query: 'greyhound' });
    expect(hit!.score).toBeGreaterThan(0);
    // Overwriting without the embedder still removes the stale vector.
    await keywordOnly.put(['users', 'ada'], 'pet', { text: 'a cat called Miso' });
    expect(count(keywordOnly, 'store_vectors')).toBe(0);
    expect(count(keywordOnly, 'store_embeddings_1')).toBe(0);
    keywordOnly.close();

    const again = SqliteStore.open(path, { index: { embedder: new FakeEmbedder({ dims: 32 }), fields: ['text'] } });
    expect((await again.get(['users', 'ada'], 'pet'))!.value.text).toBe('a cat called Miso');
    again.close();
  });
});

describe('SqliteStore in a LangGraph graph', () => {
  it('serves config.store to a node compiled with compile({ store })', async () => {
    const store = semanticStore(new FakeEmbedder({ dims: 256 }), ['text']);
    const State = Annotation.Root({
      user: Annotation<string>,
      note: Annotation<string>,
      found: Annotation<string[]>,
    });
    const remember = async (state: typeof State.State, config: LangGraphRunnableConfig) => {
      const memories = ['users', state.user, 'memories'];
      await config.store!.put(memories, `note-${Date.now()}`, { text: state.note });
      await config.store!.put(memories, 'older', { text: 'likes jazz on vinyl' });
      const hits = await config.store!.search(['users', state.user], { query: state.note, limit: 1 });
      return { found: hits.map((hit) => String(hit.value.text)) };
    };
    const graph = new StateGraph(State)
      .addNode('remember', remember)
      .addEdge(START, 'remember')
      .addEdge('remember', END)
      .compile({ store });

    // Inside a graph LangGraph wraps the store in its AsyncBatchedStore, whose put/get/search apply LangGraph's own
    // label rules (no '.' or ':'), so the labels here are plain.
    const result = await graph.invoke({ user: 'ada', note: 'allergic to peanuts' });
    expect(result.found).toEqual(['allergic to peanuts']);
    expect(await store.listNamespaces({ prefix: ['users'] })).toEqual([['users', 'ada', 'memories']]);
    expect(keys(await store.search(['users', 'ada']))).toContain('older');
    await store.close();
  });
});

describe('SqliteStore files', () => {
  it('deleting a prefix leaves none of its text in the database files', async () => {
    const path = join(tempDir(), 'store.db');
    const store = SqliteStore.open(path);
    for (let index = 0; index < 300; index++) {
      await store.put(['users', 'zed'], `k${index}`, {
        text: `note ${index} mentions xylocarpawidget and word${index}`,
      });
    }
    await store.put(['users', 'amy'], 'k', { text: 'amy keeps her own note' });
    const { readFileSync, existsSync } = await import('node:fs');
    const contains = (needle: string) =>
      ['', '-wal'].some(
        (suffix) => existsSync(path + suffix) && readFileSync(path + suffix).includes(Buffer.from(needle)),
      );
    expect(contains('xylocarpawidget')).toBe(true);
    expect(store.deletePrefix(['users', 'zed'])).toBe(300);
    expect(contains('xylocarpawidget')).toBe(false);
    expect(await store.get(['users', 'amy'], 'k')).not.toBeNull();
    await store.close();
  });

  it('deleting or overwriting one item leaves none of its old text in the full-text index', async () => {
    const path = join(tempDir(), 'store.db');
    const store = SqliteStore.open(path);
    for (let index = 0; index < 2000; index++)
      await store.put(['users', 'ada'], `k${index}`, { text: `filler note ${index} about bicycles token${index}` });
    await store.put(['users', 'ada'], 'gone', { text: 'langgraphsecret flumpetry' });
    await store.put(['users', 'ada'], 'changed', { text: 'old address quibbleton' });
    await store.delete(['users', 'ada'], 'gone');
    await store.put(['users', 'ada'], 'changed', { text: 'new address elsewhere' });
    store.db.pragma('wal_checkpoint(TRUNCATE)');
    const { readFileSync } = await import('node:fs');
    const bytes = readFileSync(path);
    for (const word of ['flumpetry', 'quibbleton']) expect(bytes.includes(Buffer.from(word)), word).toBe(false);
    await store.close();
  });
});
