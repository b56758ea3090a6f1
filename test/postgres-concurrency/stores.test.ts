import { afterAll, afterEach, expect, it } from 'vitest';
import type { Embedder } from '../../memory/embedders/types.js';
import type { PostgresMemoryStore } from '../../memory/postgres/store.js';
import { userScope } from '../../memory/types.js';
import { describeWithConcurrencyServer, dropFreshDatabases, freshDatabase } from '../helpers/postgres.js';
import { openReplica, type ReplicaOptions, replicaEmbedder } from './open.js';

// Two or more replicas (each its own pg.Pool, so its own server backends) on one database of the real PostgreSQL 15
// that .ci/run starts: what PGlite can't check, since it runs every connection in one backend.
describeWithConcurrencyServer('replicas racing on one PostgreSQL database', (server) => {
  let opened: PostgresMemoryStore[] = [];
  const replicas = async (count: number, options: ReplicaOptions = {}): Promise<PostgresMemoryStore[]> => {
    const url = await freshDatabase(server);
    // One after the other: the first creates the schema; starting at once is open-race's subject.
    const stores: PostgresMemoryStore[] = [];
    for (let i = 0; i < count; i++) stores.push(await openReplica(url, options));
    opened.push(...stores);
    return stores;
  };

  afterEach(async () => {
    await Promise.all(opened.map((store) => store.close()));
    opened = [];
  });
  afterAll(async () => {
    await dropFreshDatabases(server);
  });

  it('four pools opening a fresh database at once all succeed (migrations and PostgresSaver.setup())', async () => {
    for (let round = 0; round < 3; round++) {
      const url = await freshDatabase(server);
      const stores = await Promise.all([0, 1, 2, 3].map(() => openReplica(url)));
      opened.push(...stores);
      const { rows } = await stores[0]!.backend.pool.query<{ module: string; version: number }>(
        'SELECT module, version FROM mnemo_schema ORDER BY module',
      );
      expect(rows.map((row) => row.module)).toContain('memory');
      const { rows: saver } = await stores[0]!.backend.pool.query<{ n: number }>(
        'SELECT count(*) AS n FROM checkpoint_migrations',
      );
      expect(saver[0]!.n).toBeGreaterThan(0);
      const written = await Promise.all(
        stores.map((store, i) => store.addEpisodes(userScope(`u${i}`), [{ text: `replica ${i} is up` }])),
      );
      expect(written.map((memories) => memories.length)).toEqual([1, 1, 1, 1]);
    }
  });

  it('two pools superseding the same fact leave one current fact; the loser is told it is no longer current', async () => {
    const [a, b] = await replicas(2);
    const ada = userScope('ada');
    for (let round = 0; round < 20; round++) {
      const [fact] = await a!.changeFacts(ada, [{ op: 'add', fact: { text: `Ada's number ${round} is 0` } }]);
      const outcomes = await Promise.allSettled(
        [a!, b!].map((store, i) =>
          store.changeFacts(ada, [
            { op: 'supersede', id: fact!.id, fact: { text: `Ada's number ${round} is ${i + 1}` } },
          ]),
        ),
      );
      const won = outcomes.filter((outcome) => outcome.status === 'fulfilled');
      const lost = outcomes.filter((outcome) => outcome.status === 'rejected');
      expect(won, `round ${round}`).toHaveLength(1);
      expect(String((lost[0] as PromiseRejectedResult).reason)).toMatch(/no longer current/);
      const lineage = (await b!.list(ada, { history: true })).filter((memory) =>
        memory.text.startsWith(`Ada's number ${round} `),
      );
      expect(
        lineage.filter((memory) => memory.validTo === null),
        `round ${round}`,
      ).toHaveLength(1);
      expect(lineage).toHaveLength(2); // the original, closed, and the winner: the loser wrote nothing
    }
    expect((await a!.count(ada)).fact).toBe(20);
  });

  it('two pools invalidating and superseding at once: exactly one change applies', async () => {
    const [a, b] = await replicas(2);
    const ada = userScope('ada');
    for (let round = 0; round < 10; round++) {
      const [fact] = await a!.changeFacts(ada, [{ op: 'add', fact: { text: `Ada's city ${round} is Paris` } }]);
      const outcomes = await Promise.allSettled([
        a!.changeFacts(ada, [{ op: 'invalidate', id: fact!.id }]),
        b!.changeFacts(ada, [{ op: 'supersede', id: fact!.id, fact: { text: `Ada's city ${round} is Lyon` } }]),
      ]);
      expect(
        outcomes.filter((outcome) => outcome.status === 'fulfilled'),
        `round ${round}`,
      ).toHaveLength(1);
      const current = (await a!.list(ada)).filter((memory) => memory.text.startsWith(`Ada's city ${round} `));
      expect(current.length).toBeLessThanOrEqual(1);
    }
  });

  it('a forget on one pool while another has a turn in flight stores nothing more for that user', async () => {
    const [a, b] = await replicas(2);
    const ada = userScope('ada');
    await a!.addEpisodes(ada, [{ text: 'my passport number is X1234567' }]);
    const turn = await a!.beginTurn(ada, 'chat');
    expect(await turn.forgotten()).toBe(false);

    await b!.forget(ada);
    expect(await turn.forgotten()).toBe(true);
    expect(await a!.addEpisodes(ada, [{ text: 'written after the forget' }], { turn })).toEqual([]);
    expect(await a!.changeFacts(ada, [{ op: 'add', fact: { text: 'Ada has a passport' } }], { turn })).toEqual([]);
    await turn.end();
    expect(await a!.list(ada, { history: true })).toEqual([]);
    expect(await b!.list(ada, { history: true })).toEqual([]);
    expect((await b!.scopes('user')).map((scope) => (scope.kind === 'user' ? scope.id : ''))).not.toContain('ada');
  });

  it('a turn writing while another pool forgets its user leaves nothing behind, whichever commits first', async () => {
    const [a, b] = await replicas(2);
    for (let round = 0; round < 10; round++) {
      const user = userScope(`user-${round}`);
      await a!.addEpisodes(user, [{ text: `round ${round} secret` }]);
      const turn = await a!.beginTurn(user, 'chat');
      const [written, forgotten] = await Promise.allSettled([
        (async () => {
          const episodes = await a!.addEpisodes(user, [{ text: `round ${round} more secrets` }], { turn });
          const facts = await a!.changeFacts(user, [{ op: 'add', fact: { text: `round ${round} fact` } }], { turn });
          return [...episodes, ...facts];
        })(),
        b!.forget(user),
      ]);
      expect(written.status, `round ${round}`).toBe('fulfilled');
      expect(forgotten.status, `round ${round}`).toBe('fulfilled');
      expect(await turn.forgotten()).toBe(true);
      await turn.end();
      expect(await a!.list(user, { history: true }), `round ${round}`).toEqual([]);
      expect(await b!.list(user, { history: true }), `round ${round}`).toEqual([]);
      expect(await a!.addEpisodes(user, [{ text: 'too late' }], { turn })).toEqual([]);
    }
  });

  it('a turn ending while another pool forgets its user waits for the forget, then drops its late checkpoint', async () => {
    const [a, b] = await replicas(2);
    const ada = userScope('ada');
    await a!.addEpisodes(ada, [{ text: 'ada said something' }]);
    const turn = await a!.beginTurn(ada, 'chat');
    const namespace = Number(turn.threadKey.slice(0, turn.threadKey.indexOf('/')));
    // Another pool's forget, held open: it has locked the user and deleted their threads, and not committed yet.
    const forget = await b!.backend.pool.connect();
    try {
      await forget.query('BEGIN');
      await forget.query('SELECT 1 FROM namespaces WHERE id = $1 FOR UPDATE', [namespace]);
      await forget.query('DELETE FROM checkpoints WHERE starts_with(thread_id, $1)', [`${namespace}/`]);
      // The turn's checkpoint commits after that delete ran, so the delete never saw it.
      await a!.backend.pool.query(
        `INSERT INTO checkpoints (thread_id, checkpoint_id, checkpoint) VALUES ($1, 'late', '{}')`,
        [turn.threadKey],
      );
      await forget.query('DELETE FROM memories WHERE namespace_id = $1', [namespace]);
      await forget.query('DELETE FROM namespaces WHERE id = $1', [namespace]);
      const ending = turn.end();
      await new Promise((resolve) => setTimeout(resolve, 200));
      await forget.query('COMMIT');
      await ending;
    } finally {
      forget.release();
    }
    const { rows } = await a!.backend.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM checkpoints WHERE starts_with(thread_id, $1)',
      [`${namespace}/`],
    );
    expect(rows[0]!.n).toBe(0);
  });

  it('a reindex on one pool is followed by a store on another: its next search uses the new index', async () => {
    /** The replicas' embedder, slowed down so the other pool writes while the reindex runs. */
    const slow = (): Embedder => {
      const inner = replicaEmbedder();
      return {
        id: inner.id,
        dims: inner.dims,
        embed: async (texts, options) => {
          await new Promise((resolve) => setTimeout(resolve, 20));
          return inner.embed(texts, options);
        },
      };
    };
    const [a, b] = await replicas(2);
    const ada = userScope('ada');
    for (let i = 0; i < 10; i++)
      await b!.addEpisodes(
        ada,
        Array.from({ length: 10 }, (_, j) => ({ text: `old turn ${i}-${j} about gardening` })),
      );
    const before = await b!.vectorIndex();
    expect((await b!.search([ada], 'gardening', { k: 3 })).length).toBe(3);

    // The other pool writes meanwhile, at a person's pace: a writer that never pauses keeps the catch-up loop of
    // reindex.ts busy for as long as it writes (it embeds what is missing until nothing is).
    const during: string[] = [];
    const writer = (async () => {
      for (let i = 0; i < 15; i++) {
        const [memory] = await b!.addEpisodes(ada, [{ text: `turn ${i} written during the reindex about kayaks` }]);
        during.push(memory!.id);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    })();
    const [result] = await Promise.all([a!.reindex(slow(), { batchSize: 7 }), writer]);

    const after = await b!.vectorIndex();
    expect(after?.table).not.toBe(before?.table);
    expect(await a!.vectorIndex()).toEqual(after);
    expect(result.memories).toBeGreaterThanOrEqual(100);
    // Every memory, those written during the rebuild included, has its vector in the new table.
    const pool = b!.backend.pool;
    const { rows } = await pool.query<{ missing: number; memories: number }>(
      `SELECT (SELECT count(*) FROM memories m WHERE NOT EXISTS (SELECT 1 FROM "${after!.table}" v WHERE v.id = m.id))
                AS missing, (SELECT count(*) FROM memories) AS memories`,
    );
    expect(rows[0]).toEqual({ missing: 0, memories: 100 + during.length });
    const { rows: old } = await pool.query('SELECT 1 FROM pg_class WHERE relname = $1', [before!.table]);
    expect(old).toEqual([]); // the old table is gone, so a store still reading it would fail

    const hits = await b!.search([ada], 'kayaks during the reindex', { k: 50 });
    expect(hits.map((hit) => hit.memory.id).sort()).toEqual(expect.arrayContaining([...during].sort()));
    expect(hits.every((hit) => hit.parts.cosine !== undefined)).toBe(true);
    await b!.addEpisodes(ada, [{ text: 'written after the reindex' }]);
    expect((await a!.search([ada], 'written after the reindex', { k: 1 }))[0]?.memory.text).toBe(
      'written after the reindex',
    );
  });

  it('two replicas writing different users at once never leak rows between them', async () => {
    const [a, b] = await replicas(2);
    const users = Array.from({ length: 8 }, (_, i) => `user-${i}`);
    await Promise.all(
      users.map(async (user, i) => {
        const store = i % 2 === 0 ? a! : b!;
        const other = i % 2 === 0 ? b! : a!;
        for (let turn = 0; turn < 5; turn++) {
          const [episode] = await store.addEpisodes(userScope(user), [
            { text: `${user} says shared words number ${turn}`, session: 'same-session' },
          ]);
          await other.changeFacts(userScope(user), [
            { op: 'add', fact: { text: `${user} fact ${turn} shared words`, provenance: [episode!.id] } },
          ]);
        }
      }),
    );
    for (const user of users) {
      for (const store of [a!, b!]) {
        const memories = await store.list(userScope(user), { history: true });
        expect(memories).toHaveLength(10);
        expect(memories.every((memory) => memory.text.startsWith(`${user} `))).toBe(true);
        const hits = await store.search([userScope(user)], 'shared words number', { k: 20, context: 2 });
        expect(hits.length).toBeGreaterThan(0);
        for (const hit of hits) {
          expect(hit.memory.text.startsWith(`${user} `)).toBe(true);
          for (const around of hit.context) expect(around.text.startsWith(`${user} `)).toBe(true);
        }
      }
    }
    // In the tables themselves: every row's text names the user whose namespace holds it.
    const { rows } = await a!.backend.pool.query<{ leaked: number }>(
      `SELECT count(*) AS leaked FROM memories m JOIN namespaces n ON n.id = m.namespace_id
       WHERE NOT starts_with(m.text, n.key || ' ')`,
    );
    expect(rows[0]!.leaked).toBe(0);
  });
});
