import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeEmbedder } from '../../memory/embedders/fake.js';
import type { ForgetTarget, StorageModule } from '../../memory/port.js';
import { openPostgresStore, PostgresMemoryStore } from '../../memory/postgres/store.js';
import { SqliteMemoryStore } from '../../memory/sqlite/store.js';
import { globalScope, personaScope, userScope } from '../../memory/types.js';
import { plainVectorStorage } from '../helpers/pg-vector-double.js';
import { type PgliteServer, startPglite } from '../helpers/pglite.js';

const ada = userScope('ada');
const bob = userScope('bob');

/** A module with its own table and forget step, recording what each forget saw inside its transaction. */
function ratingsModule() {
  const calls: Array<{ target: ForgetTarget; memoriesLeft: number; namespaceStillThere: boolean }> = [];
  const setups: number[] = [];
  const module: StorageModule = {
    name: 'ratings',
    sqlite: { migrations: [] },
    postgres: {
      migrations: [
        async (client) => {
          await client.query('CREATE TABLE ratings (user_id text NOT NULL, thread text, stars int NOT NULL)');
        },
      ],
      async setup() {
        setups.push(1);
      },
      async forget(client, target) {
        const prefix = target.threadPrefix ?? '0/';
        const namespace = Number(prefix.slice(0, prefix.indexOf('/')));
        const { rows } = await client.query<{ left: number; there: boolean }>(
          `SELECT (SELECT count(*)::int FROM memories WHERE namespace_id = $1) AS left,
                  EXISTS (SELECT 1 FROM namespaces WHERE id = $1) AS there`,
          [namespace],
        );
        calls.push({ target, memoriesLeft: rows[0]!.left, namespaceStillThere: rows[0]!.there });
        const { rowCount } = await client.query('DELETE FROM ratings WHERE user_id = $1 OR starts_with(thread, $2)', [
          target.userId ?? null,
          target.threadPrefix ?? null,
        ]);
        return { ratings: rowCount ?? 0 };
      },
    },
  };
  return { module, calls, setups };
}

let server: PgliteServer;
let store: PostgresMemoryStore | undefined;
const embedder = new FakeEmbedder({ dims: 64 });
let clock = new Date('2024-06-01T12:00:00Z');

beforeAll(async () => {
  server = await startPglite();
});
afterAll(async () => {
  await server?.stop();
});
beforeEach(async () => {
  await server.reset();
  clock = new Date('2024-06-01T12:00:00Z');
});
afterEach(async () => {
  await store?.close();
  store = undefined;
});

const open = async (options: Parameters<typeof PostgresMemoryStore.open>[1] = {}) => {
  store = await PostgresMemoryStore.open(server.url, { embedder, clock: () => clock, poolSize: 4, ...options });
  return store;
};

describe('PostgresMemoryStore', () => {
  it('keeps scopes apart, and lists, counts and gets within one', async () => {
    const memory = await open();
    expect(memory.backend).toMatchObject({ kind: 'postgres', location: server.url });
    const [first] = await memory.addEpisodes(ada, [
      { text: 'I moved to Lisbon last spring', session: 's1', at: '2024-05-01T10:00:00Z' },
      { text: 'The tram up the hill is yellow', session: 's1', at: '2024-05-01T10:01:00Z' },
    ]);
    await memory.addEpisodes(bob, [{ text: 'I live in Oslo' }]);
    await memory.changeFacts(globalScope, [{ op: 'add', fact: { text: 'Lisbon is the capital of Portugal' } }]);
    expect(first!.id).toMatch(/^e\d+$/);
    expect(await memory.get(ada, first!.id)).toMatchObject({ text: 'I moved to Lisbon last spring', session: 's1' });
    expect(await memory.get(bob, first!.id)).toBeUndefined();
    expect((await memory.list(bob)).map((m) => m.text)).toEqual(['I live in Oslo']);
    expect((await memory.list(ada)).map((m) => m.text)).toEqual([
      'The tram up the hill is yellow',
      'I moved to Lisbon last spring',
    ]);
    expect(await memory.count(ada)).toEqual({ episode: 2, fact: 0, preference: 0, profile: 0 });
    expect(await memory.scopes()).toEqual([globalScope, ada, bob]);
    expect(await memory.scopes('user')).toEqual([ada, bob]);
    expect((await memory.neighbours(ada, first!.id)).map((m) => m.text)).toEqual(['The tram up the hill is yellow']);
    expect(await memory.vectorIndex()).toEqual({ embedderId: 'fake-64', dims: 64, table: 'memory_vectors_1' });
  });

  it('skips known source ids when asked', async () => {
    const memory = await open();
    await memory.addEpisodes(ada, [{ text: 'one', sourceId: 'm1' }]);
    const stored = await memory.addEpisodes(
      ada,
      [
        { text: 'one again', sourceId: 'm1' },
        { text: 'two', sourceId: 'm2' },
        { text: 'two again', sourceId: 'm2' },
      ],
      { skipKnownSourceIds: true },
    );
    expect(stored.map((m) => m.text)).toEqual(['two']);
  });

  it('finds the right memory, the user first, with provenance and context', async () => {
    const memory = await open();
    const episodes = await memory.addEpisodes(ada, [
      { text: 'We adopted a grey cat called Miso', session: 's1', at: '2024-04-01T10:00:00Z' },
      { text: 'She sleeps on the radiator all day', session: 's1', at: '2024-04-01T10:01:00Z' },
      { text: 'My brother plays the cello in an orchestra', session: 's2', at: '2024-04-02T10:00:00Z' },
      { text: 'The bakery on the corner sells sourdough', session: 's3', at: '2024-04-03T10:00:00Z' },
    ]);
    await memory.changeFacts(ada, [
      { op: 'add', fact: { text: 'Ada has a cat named Miso', provenance: [episodes[0]!.id] } },
    ]);
    await memory.addEpisodes(bob, [{ text: 'My cat Miso is orange' }]);
    await memory.addEpisodes(globalScope, [{ text: 'Cats sleep most of the day' }]);

    const hits = await memory.search([ada, globalScope], 'what is the name of my cat?', { k: 3, context: 1 });
    expect(hits.map((hit) => hit.memory.scope)).not.toContainEqual(bob);
    expect(['We adopted a grey cat called Miso', 'Ada has a cat named Miso']).toContain(hits[0]!.memory.text);
    const fact = hits.find((hit) => hit.memory.kind === 'fact');
    expect(fact?.memory.provenance).toEqual([episodes[0]!.id]);
    expect(fact?.parts.bm25).toBeLessThan(0);
    const episode = hits.find((hit) => hit.memory.id === episodes[0]!.id);
    expect(episode?.context.map((m) => m.text)).toEqual(['She sleeps on the radiator all day']);

    const cello = await memory.search([ada], 'cello orchestra', { k: 1 });
    expect(cello.map((hit) => hit.memory.text)).toEqual(['My brother plays the cello in an orchestra']);
    // Stems match as FTS5's porter does: "baking" and "bakery" are not the same word, "sells" and "selling" are.
    const selling = await memory.search([ada], 'selling', { k: 1, weights: { vector: 0, lateInteraction: 0 } });
    expect(selling[0]?.memory.text).toBe('The bakery on the corner sells sourdough');
    const facts = await memory.search([ada], 'cello', { kinds: ['fact'] });
    expect(facts.map((hit) => hit.memory.text)).toEqual(['Ada has a cat named Miso']);
  });

  it('supersedes and invalidates facts, refusing one no longer current', async () => {
    const memory = await open();
    const [lisbon] = await memory.changeFacts(ada, [{ op: 'add', fact: { text: 'Ada lives in Lisbon' } }]);
    clock = new Date('2024-07-01T12:00:00Z');
    const [porto] = await memory.changeFacts(ada, [
      { op: 'supersede', id: lisbon!.id, fact: { text: 'Ada lives in Porto', kind: 'fact' } },
    ]);
    expect(porto).toMatchObject({ text: 'Ada lives in Porto', supersedes: lisbon!.id, validTo: null });
    expect((await memory.get(ada, lisbon!.id))?.validTo).toEqual(clock);
    await expect(
      memory.changeFacts(ada, [{ op: 'supersede', id: lisbon!.id, fact: { text: 'Ada lives in Faro' } }]),
    ).rejects.toThrow(`fact ${lisbon!.id} is no longer current; change the fact that replaced it`);
    await expect(memory.changeFacts(bob, [{ op: 'invalidate', id: porto!.id }])).rejects.toThrow(
      `no fact ${porto!.id} for user bob`,
    );
    await memory.changeFacts(ada, [{ op: 'invalidate', id: porto!.id }]);
    expect(await memory.list(ada)).toEqual([]);
    expect((await memory.list(ada, { history: true })).map((m) => m.text)).toEqual([
      'Ada lives in Porto',
      'Ada lives in Lisbon',
    ]);
    const hits = await memory.search([ada], 'where does Ada live', { history: true });
    expect(hits).toHaveLength(2);
    expect(await memory.search([ada], 'where does Ada live')).toEqual([]);
  });

  it('forgets a user in one transaction with the modules, and rewrites the tables', async () => {
    const { module, calls, setups } = ratingsModule();
    const memory = await open({ modules: [module] });
    expect(setups).toEqual([1]);
    await memory.addEpisodes(ada, [{ text: 'my secret is swordfish' }]);
    await memory.addEpisodes(bob, [{ text: 'bob also knows swordfish' }]);
    await memory.setPersona(ada, 'night-owls');
    expect(await memory.personaMembers('night-owls')).toBe(1);
    const turn = await memory.beginTurn(ada, 'chat-1');
    const pool = memory.backend.pool;
    await pool.query('INSERT INTO ratings VALUES ($1, NULL, 5), ($2, $3, 4)', ['ada', 'x', turn.threadKey]);
    const filenode = async () =>
      (await pool.query<{ node: string }>("SELECT pg_relation_filenode('memories')::text AS node")).rows[0]!.node;
    const before = await filenode();

    const result = await memory.forget(ada);
    expect(result).toEqual({ deleted: 1, alsoDeleted: { ratings: 2 }, flushed: true });
    expect(calls).toEqual([
      {
        target: { userId: 'ada', threadPrefix: turn.threadKey.replace(/chat-1$/, '') },
        memoriesLeft: 0,
        namespaceStillThere: true,
      },
    ]);
    expect(await filenode()).not.toBe(before); // VACUUM FULL wrote a new file
    expect(await memory.list(ada)).toEqual([]);
    expect(await memory.search([ada], 'secret swordfish')).toEqual([]);
    expect(await memory.scopes('user')).toEqual([bob]);
    expect(await memory.personaOf(ada)).toBeUndefined();
    expect(await memory.personaMembers('night-owls')).toBe(0);
    expect((await memory.search([bob], 'swordfish')).length).toBe(1);
    const { rows } = await pool.query("SELECT count(*)::int AS n FROM memories WHERE text LIKE '%secret%'");
    expect(rows[0]).toEqual({ n: 0 });
  });

  it('forgets one memory, and refuses an unknown one', async () => {
    const memory = await open();
    const [keep, drop] = await memory.addEpisodes(ada, [{ text: 'keep this' }, { text: 'drop this' }]);
    expect(await memory.forget(ada, drop!.id)).toMatchObject({ deleted: 1, alsoDeleted: {} });
    expect((await memory.list(ada)).map((m) => m.id)).toEqual([keep!.id]);
    await expect(memory.forget(ada, drop!.id)).rejects.toThrow(`no memory ${drop!.id} for user ada`);
    await expect(memory.forget(bob, keep!.id)).rejects.toThrow(`no memory ${keep!.id} for user bob`);
  });

  it('ends a turn whose user was forgotten: its writes store nothing and its threads go again', async () => {
    const { module, calls } = ratingsModule();
    const memory = await open({ modules: [module] });
    const turn = await memory.beginTurn(ada, 'thread-1');
    const namespace = (await memory.backend.pool.query("SELECT id FROM namespaces WHERE key = 'ada'")).rows[0].id;
    expect(turn.threadKey).toBe(`${namespace}/thread-1`);
    expect(turn.user).toEqual(ada);
    expect(await turn.forgotten()).toBe(false);
    expect(await memory.addEpisodes(ada, [{ text: 'before forget' }], { turn })).toHaveLength(1);
    await memory.forget(ada);
    expect(await turn.forgotten()).toBe(true);
    expect(await memory.addEpisodes(ada, [{ text: 'after forget' }], { turn })).toEqual([]);
    expect(await memory.changeFacts(ada, [{ op: 'add', fact: { text: 'a fact' } }], { turn })).toEqual([]);
    expect(await memory.list(ada)).toEqual([]);
    await turn.end();
    // The forget ran the module for the user; the turn's end only for what it left under its own thread key.
    expect(calls.map((call) => call.target)).toEqual([
      { userId: 'ada', threadPrefix: `${namespace}/` },
      { userId: undefined, threadPrefix: `${namespace}/thread-1` },
    ]);
    // A new turn of the same user gets a new namespace, never the old id.
    const again = await memory.beginTurn(ada, 'thread-1');
    expect(again.threadKey).not.toBe(turn.threadKey);
  });

  it('restores an export into an empty scope with history, links and provenance', async () => {
    const memory = await open();
    const [said] = await memory.addEpisodes(ada, [
      { text: 'I just moved to Porto', role: 'ada', session: 's', at: '2024-03-01T00:00:00Z', sourceId: 'm1' },
    ]);
    const [old] = await memory.changeFacts(ada, [{ op: 'add', fact: { text: 'Ada lives in Lisbon' } }]);
    await memory.changeFacts(ada, [
      { op: 'supersede', id: old!.id, fact: { text: 'Ada lives in Porto', provenance: [said!.id] } },
    ]);
    const exported = await memory.export(ada);
    const carol = userScope('carol');
    const ids = await memory.restore(carol, exported.memories);
    const restored = (await memory.export(carol)).memories;
    const strip = (m: (typeof restored)[number]) => ({
      ...m,
      id: undefined,
      scope: undefined,
      supersedes: undefined,
      provenance: undefined,
    });
    expect(restored.map(strip)).toEqual(exported.memories.map(strip));
    for (const [index, original] of exported.memories.entries()) {
      const copy = restored[index]!;
      expect(copy.id).toBe(ids.get(original.id));
      expect(copy.supersedes).toBe(original.supersedes === null ? null : ids.get(original.supersedes));
      expect(copy.provenance).toEqual(original.provenance.map((id) => ids.get(id)));
    }
    expect((await memory.search([carol], 'Porto')).length).toBeGreaterThan(0);
    await expect(memory.restore(carol, exported.memories)).rejects.toThrow('user carol already holds memories');
  });

  it('reindexes with another embedder; stores follow the swap or refuse', async () => {
    const memory = await open();
    await memory.addEpisodes(ada, [{ text: 'the violin is in the attic' }, { text: 'the bicycle is in the shed' }]);
    const other = new FakeEmbedder({ dims: 48, id: 'other-48' });
    const progress: number[] = [];
    expect(await memory.reindex(other, { batchSize: 1, onProgress: ({ done }) => progress.push(done) })).toEqual({
      memories: 2,
    });
    expect(progress).toEqual([1, 2]);
    expect(await memory.vectorIndex().catch((error: Error) => error.message)).toMatch(/indexed with embedder other-48/);
    await expect(memory.search([ada], 'violin')).rejects.toMatchObject({ code: 'embedder_mismatch' });
    await expect(PostgresMemoryStore.open(server.url, { embedder })).rejects.toMatchObject({
      code: 'embedder_mismatch',
    });
    const reopened = await PostgresMemoryStore.open(server.url, { embedder: other, poolSize: 2 });
    try {
      expect(await reopened.vectorIndex()).toEqual({ embedderId: 'other-48', dims: 48, table: 'memory_vectors_2' });
      const hits = await reopened.search([ada], 'where is the violin', { k: 1 });
      expect(hits[0]?.memory.text).toBe('the violin is in the attic');
      expect(hits[0]?.parts.vectorRank).toBe(1);
      await reopened.addEpisodes(ada, [{ text: 'the piano is in the hall' }]);
      const { rows } = await reopened.backend.pool.query(
        "SELECT to_regclass('memory_vectors_1') AS old, (SELECT count(*)::int FROM memory_vectors_2) AS n",
      );
      expect(rows[0]).toEqual({ old: null, n: 3 });
    } finally {
      await reopened.close();
    }
  });

  // Concurrent opens are the real-server suite's: PGlite serves every connection from one session, so interleaved
  // statements of several pools clobber each other's unnamed prepared statement there.
  it('migrates once however many stores open the database, and refuses a newer schema', async () => {
    for (const _ of [1, 2, 3]) await (await PostgresMemoryStore.open(server.url, { embedder, poolSize: 2 })).close();
    const pool = new pg.Pool({ connectionString: server.url, max: 1 });
    try {
      expect((await pool.query('SELECT module, version FROM mnemo_schema')).rows).toEqual([
        { module: 'memory', version: 1 },
      ]);
      await pool.query("UPDATE mnemo_schema SET version = 99 WHERE module = 'memory'");
    } finally {
      await pool.end();
    }
    await expect(PostgresMemoryStore.open(server.url, { embedder })).rejects.toThrow(
      'the database has memory schema version 99, newer than this mnemo understands (1); upgrade mnemo',
    );
  });

  it('opens without an embedder to list, export and forget only', async () => {
    await (await open()).addEpisodes(ada, [{ text: 'hello' }]);
    await store!.close();
    const bare = await PostgresMemoryStore.open(server.url, {});
    store = bare;
    expect((await bare.list(ada)).map((m) => m.text)).toEqual(['hello']);
    await expect(bare.addEpisodes(ada, [{ text: 'more' }])).rejects.toThrow('opened without an embedder');
    expect((await bare.forget(ada)).deleted).toBe(1);
  });

  it('runs on a vector storage double, as on a server without pgvector', async () => {
    store = await openPostgresStore(server.url, { embedder, poolSize: 2 }, plainVectorStorage);
    await store.addEpisodes(ada, [{ text: 'the kettle is broken' }, { text: 'the garden needs water' }]);
    await store.setPersona(ada, 'gardeners', 'auto');
    expect(await store.personaOf(ada)).toEqual({ persona: 'gardeners', assignedBy: 'auto' });
    await store.addEpisodes(personaScope('gardeners'), [{ text: 'water gardens at dawn' }]);
    const hits = await store.search([ada, personaScope('gardeners')], 'garden water', { k: 2 });
    expect(hits.map((hit) => hit.memory.text)).toEqual(['the garden needs water', 'water gardens at dawn']);
    const { rows } = await store.backend.pool.query(
      "SELECT count(*)::int AS n FROM pg_extension WHERE extname = 'vector'",
    );
    expect(rows[0]).toEqual({ n: 0 });
  });

  it('scores full text as SQLite does: same words, same stems, same BM25', async () => {
    const texts = [
      'We went running along the river before breakfast',
      'The runner said the river was cold, colder than last year',
      "My sister's t-shirt says Café Lisboa",
      'Breakfast was eggs and coffee at the café by the river',
      'Nothing to see here',
    ];
    const postgres = await open();
    const sqlite = await SqliteMemoryStore.open(':memory:', { embedder, clock: () => clock });
    try {
      for (const memory of [postgres, sqlite]) {
        await memory.addEpisodes(bob, [{ text: 'the river again and again, river river' }]);
        await memory.addEpisodes(
          ada,
          texts.map((text) => ({ text })),
        );
      }
      const textOnly = { weights: { vector: 0, lateInteraction: 0, context: 0 }, k: 10 };
      for (const query of ['river run', 'cafe shirt', 'colder breakfast river', 'sister says']) {
        const [fromPostgres, fromSqlite] = await Promise.all([
          postgres.search([ada], query, textOnly),
          sqlite.search([ada], query, textOnly),
        ]);
        const shown = (hits: typeof fromPostgres) =>
          hits.filter((hit) => hit.parts.bm25 !== undefined).map((hit) => [hit.memory.text, hit.parts.bm25]);
        const expected = shown(fromSqlite);
        expect(expected.length).toBeGreaterThan(0);
        expect(shown(fromPostgres).map(([text]) => text)).toEqual(expected.map(([text]) => text));
        for (const [index, [, bm25]] of shown(fromPostgres).entries())
          expect(bm25 as number).toBeCloseTo(expected[index]![1] as number, 9);
        // And the whole ranking, vectors and context included, is the same pipeline's.
        const [all, allSqlite] = await Promise.all([
          postgres.search([ada], query, { context: 1 }),
          sqlite.search([ada], query, { context: 1 }),
        ]);
        expect(all.map((hit) => [hit.memory.id, hit.score.toFixed(5)])).toEqual(
          allSqlite.map((hit) => [hit.memory.id, hit.score.toFixed(5)]),
        );
      }
    } finally {
      await sqlite.close();
    }
  });
});
