import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it, vi } from 'vitest';
import { FakeEmbedder } from '../../memory/embedders/fake.js';
import { InputError, StoreError } from '../../memory/errors.js';
import { SqliteMemoryStore } from '../../memory/sqlite/store.js';
import { globalScope, personaScope, userScope } from '../../memory/types.js';

const embedder = () => new FakeEmbedder({ dims: 64 });
const memoryStore = () => SqliteMemoryStore.open(':memory:', { embedder: embedder() });
const ada = userScope('ada@example.com');
const bob = userScope('T012:U345');

describe('SqliteMemoryStore episodes', () => {
  it('stores turns with role, time, session and source id, and finds them', async () => {
    const store = memoryStore();
    const [first] = await store.addEpisodes(ada, [
      {
        text: 'I adopted a greyhound called Pixel',
        role: 'user',
        at: '2024-03-01T10:00:00Z',
        session: 's1',
        sourceId: 'msg-1',
      },
      { text: 'What a lovely name!', role: 'assistant', at: '2024-03-01T10:00:05Z', session: 's1' },
    ]);
    expect(first).toMatchObject({ kind: 'episode', role: 'user', session: 's1', sourceId: 'msg-1' });
    expect(first!.at.toISOString()).toBe('2024-03-01T10:00:00.000Z');
    const [hit] = await store.search([ada], 'greyhound Pixel');
    expect(hit!.memory.id).toBe(first!.id);
    expect(hit!.memory.sourceId).toBe('msg-1');
    expect(hit!.parts.textRank).toBe(1);
    await store.close();
  });

  it('attaches neighbouring turns of the same session as context', async () => {
    const store = memoryStore();
    await store.addEpisodes(ada, [
      {
        text: 'Which colour did you pick for the kitchen?',
        role: 'assistant',
        session: 's1',
        at: '2024-01-01T00:00:00Z',
      },
      { text: 'Terracotta, finally', session: 's1', at: '2024-01-01T00:00:01Z' },
      { text: 'Nice choice', role: 'assistant', session: 's1', at: '2024-01-01T00:00:02Z' },
      { text: 'Terracotta pots in the garden', session: 's2', at: '2024-02-01T00:00:00Z' },
    ]);
    const hits = await store.search([ada], 'terracotta', { context: 1 });
    const kitchen = hits.find((hit) => hit.memory.text === 'Terracotta, finally')!;
    expect(kitchen.context.map((turn) => turn.text)).toEqual([
      'Which colour did you pick for the kitchen?',
      'Nice choice',
    ]);
    const garden = hits.find((hit) => hit.memory.session === 's2')!;
    expect(garden.context).toEqual([]);
    await store.close();
  });

  it('ranks memories in the period the query names above others', async () => {
    const store = SqliteMemoryStore.open(':memory:', {
      embedder: embedder(),
      clock: () => new Date('2024-06-15T12:00:00Z'),
    });
    await store.addEpisodes(ada, [
      { text: 'went hiking in the mountains', at: '2023-08-10T10:00:00Z' },
      { text: 'went hiking by the lake', at: '2024-05-10T10:00:00Z' },
    ]);
    const [hit] = await store.search([ada], 'where did I go hiking last month?');
    expect(hit!.memory.text).toBe('went hiking by the lake');
    expect(hit!.parts.time).toBeGreaterThan(0);
    await store.close();
  });

  it('validates input before writing anything', async () => {
    const store = memoryStore();
    await expect(store.addEpisodes(ada, [{ text: 'fine' }, { text: '  ' }])).rejects.toThrow(
      /text \(item 2\) must be a non-empty string/,
    );
    await expect(store.addEpisodes(ada, [{ text: 'fine', at: 'yesterday-ish' }])).rejects.toThrow(InputError);
    await expect(store.addEpisodes(userScope(''), [{ text: 'x' }])).rejects.toThrow(
      /user id must be a non-empty string/,
    );
    await expect(store.addEpisodes(userScope('x'.repeat(201)), [{ text: 'x' }])).rejects.toThrow(/longer than 200/);
    await expect(store.search([ada], 'q', { k: 0 })).rejects.toThrow(/k must be an integer/);
    expect(await store.list(ada, { history: true })).toEqual([]);
    await store.close();
  });
});

describe('SqliteMemoryStore facts', () => {
  it('a superseding fact wins in search while history keeps both', async () => {
    const store = memoryStore();
    const [episode] = await store.addEpisodes(ada, [{ text: 'I just moved to Porto from Lisbon' }]);
    const [old] = await store.changeFacts(ada, [
      { op: 'add', fact: { text: 'lives in Lisbon', kind: 'profile', validFrom: '2020-01-01T00:00:00Z' } },
    ]);
    const [current] = await store.changeFacts(ada, [
      {
        op: 'supersede',
        id: old!.id,
        fact: { text: 'lives in Porto', kind: 'profile', provenance: [episode!.id], validFrom: '2024-05-01T00:00:00Z' },
      },
    ]);
    expect(current).toMatchObject({ supersedes: old!.id, provenance: [episode!.id], validTo: null });

    const hits = await store.search([ada], 'lives in', { kinds: ['profile'] });
    expect(hits.map((hit) => hit.memory.text)).toEqual(['lives in Porto']);

    const history = await store.list(ada, { kinds: ['profile'], history: true });
    expect(history.map((fact) => fact.text)).toEqual(['lives in Porto', 'lives in Lisbon']);
    expect(history[1]!.validTo!.toISOString()).toBe('2024-05-01T00:00:00.000Z');
    const withHistory = await store.search([ada], 'lives in', { kinds: ['profile'], history: true });
    expect(withHistory).toHaveLength(2);

    await expect(
      store.changeFacts(ada, [{ op: 'supersede', id: old!.id, fact: { text: 'lives in Faro' } }]),
    ).rejects.toThrow(/no longer current/);
    await store.close();
  });

  it('invalidates a fact without a replacement and refuses unknown ids', async () => {
    const store = memoryStore();
    const [fact] = await store.changeFacts(ada, [{ op: 'add', fact: { text: 'likes jazz', kind: 'preference' } }]);
    await store.changeFacts(ada, [{ op: 'invalidate', id: fact!.id }]);
    expect(await store.list(ada)).toEqual([]);
    expect((await store.list(ada, { history: true }))[0]!.validTo).not.toBeNull();
    await expect(store.changeFacts(ada, [{ op: 'invalidate', id: 'f999' }])).rejects.toThrow(/no fact f999/);
    await expect(
      store.changeFacts(ada, [{ op: 'add', fact: { text: 'x', kind: 'opinion' as never } }]),
    ).rejects.toThrow(/kind must be one of/);
  });

  it('merges user, persona and global scopes with the user first', async () => {
    const store = memoryStore();
    await store.changeFacts(personaScope('jazz-fans'), [
      { op: 'add', fact: { text: 'enjoys jazz concerts', kind: 'preference' } },
    ]);
    await store.changeFacts(globalScope, [{ op: 'add', fact: { text: 'jazz concerts happen on fridays' } }]);
    await store.changeFacts(ada, [{ op: 'add', fact: { text: 'hates jazz concerts', kind: 'preference' } }]);
    const hits = await store.search([ada, personaScope('jazz-fans'), globalScope], 'jazz concerts');
    expect(hits.map((hit) => hit.memory.scope.kind)).toEqual(['user', 'persona', 'global']);
    expect(await store.search([bob], 'jazz concerts')).toEqual([]);
  });
});

describe('SqliteMemoryStore ids and input', () => {
  it('an id names a memory only with the letter of its kind, and never without one', async () => {
    const store = memoryStore();
    const [fact] = await store.changeFacts(ada, [{ op: 'add', fact: { text: 'likes tea' } }]);
    const [episode] = await store.addEpisodes(ada, [{ text: 'I had tea' }]);
    const row = (id: string) => id.slice(1);
    const asEpisode = `e${row(fact!.id)}`;
    expect((await store.get(ada, fact!.id))?.text).toBe('likes tea');
    expect(await store.get(ada, asEpisode)).toBeUndefined();
    await expect(store.get(ada, row(fact!.id))).rejects.toThrow(/not a memory id/);
    await expect(store.forget(ada, asEpisode)).rejects.toThrow(/^no memory e\d+ for user ada@example.com$/);
    await expect(store.forget(ada, ` ${fact!.id}`)).rejects.toThrow(/not a memory id/);
    await expect(store.changeFacts(ada, [{ op: 'invalidate', id: `f${row(episode!.id)}` }])).rejects.toThrow(
      /no fact f\d+ for user ada@example.com/,
    );
    await expect(store.changeFacts(ada, [{ op: 'add', fact: { text: 'x', provenance: [fact!.id] } }])).rejects.toThrow(
      /is a fact, not an episode/,
    );
    expect(await store.list(ada, { history: true })).toHaveLength(2);
    expect(await store.forget(ada, episode!.id)).toEqual({ deleted: 1, alsoDeleted: {}, flushed: true });
    await store.close();
  });

  it('never gives a new memory or user the id of a deleted one', async () => {
    const store = memoryStore();
    const [old] = await store
      .addEpisodes(ada, [{ text: 'first' }, { text: 'newest, then forgotten' }])
      .then((stored) => stored.slice(-1));
    const [fact] = await store.changeFacts(ada, [{ op: 'add', fact: { text: 'a fact, then forgotten' } }]);
    await store.forget(ada, fact!.id);
    await store.forget(ada, old!.id);
    const [episode] = await store.addEpisodes(ada, [{ text: 'later' }]);
    const [later] = await store.changeFacts(ada, [{ op: 'add', fact: { text: 'a later fact' } }]);
    expect([episode!.id, later!.id]).not.toContain(old!.id);
    expect([episode!.id, later!.id].map((id) => id.slice(1))).not.toContain(fact!.id.slice(1));
    const { threadKey } = await store.beginTurn(bob, 't');
    await store.forget(bob);
    expect((await store.beginTurn(userScope('carol'), 't')).threadKey).not.toBe(threadKey);
    await store.close();
  });

  it('refuses user ids with surrounding whitespace and dates that do not exist', async () => {
    const store = memoryStore();
    await expect(store.addEpisodes(userScope(' ada'), [{ text: 'x' }])).rejects.toThrow(
      /^user id must not start or end with whitespace$/,
    );
    await expect(store.list(userScope('ada\t'))).rejects.toThrow(/must not start or end with whitespace/);
    await expect(store.addEpisodes(ada, [{ text: 'x', at: '2024-02-30T00:00:00Z' }])).rejects.toThrow(
      /at is not a valid date: "2024-02-30T00:00:00Z"/,
    );
    await expect(store.addEpisodes(ada, [{ text: 'x', at: '2023-02-29' }])).rejects.toThrow(InputError);
    await expect(
      store.changeFacts(ada, [{ op: 'add', fact: { text: 'x', validFrom: '2024-04-31T10:00:00+02:00' } }]),
    ).rejects.toThrow(/validFrom is not a valid date/);
    const [leap] = await store.addEpisodes(ada, [{ text: 'leap day', at: '2024-02-29T23:30:00-05:00' }]);
    expect(leap!.at.toISOString()).toBe('2024-03-01T04:30:00.000Z');
    await store.close();
  });

  it('skips turns whose source id the scope already holds, when asked', async () => {
    const store = memoryStore();
    const turns = [
      { text: 'one', sourceId: 'm1' },
      { text: 'two', sourceId: 'm2' },
      { text: 'no id' },
      { text: 'one again', sourceId: 'm1' },
    ];
    expect((await store.addEpisodes(ada, turns, { skipKnownSourceIds: true })).map((turn) => turn.text)).toEqual([
      'one',
      'two',
      'no id',
    ]);
    expect((await store.addEpisodes(ada, turns, { skipKnownSourceIds: true })).map((turn) => turn.text)).toEqual([
      'no id',
    ]);
    expect(
      (await store.addEpisodes(bob, turns.slice(0, 1), { skipKnownSourceIds: true })).map((turn) => turn.text),
    ).toEqual(['one']);
    // Without the option every turn is appended, as before.
    expect(await store.addEpisodes(ada, turns)).toHaveLength(4);
    await store.close();
  });
});

describe('SqliteMemoryStore isolation', () => {
  it("never returns another user's rows under randomized operations", async () => {
    const store = memoryStore();
    const users = Array.from({ length: 12 }, (_, index) => userScope(`user-${index}`));
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const owned = new Map<string, Set<string>>(users.map((user) => [user.kind === 'user' ? user.id : '', new Set()]));
    for (let step = 0; step < 300; step++) {
      const user = users[Math.floor(next() * users.length)]!;
      const id = user.kind === 'user' ? user.id : '';
      const roll = next();
      if (roll < 0.5) {
        const [episode] = await store.addEpisodes(user, [{ text: `shared words pizza garden ${id} note ${step}` }]);
        owned.get(id)!.add(episode!.id);
      } else if (roll < 0.7) {
        const [fact] = await store.changeFacts(user, [
          { op: 'add', fact: { text: `shared fact pizza ${id} ${step}` } },
        ]);
        owned.get(id)!.add(fact!.id);
      } else if (roll < 0.8 && owned.get(id)!.size > 0) {
        const victim = [...owned.get(id)!][0]!;
        await store.forget(user, victim);
        owned.get(id)!.delete(victim);
      } else if (roll < 0.85) {
        // Another user's id must look like "not found" rather than deleting it.
        const other = users.find(
          (candidate) => candidate !== user && owned.get((candidate as { id: string }).id)!.size > 0,
        );
        if (other)
          await expect(store.forget(user, [...owned.get((other as { id: string }).id)!][0]!)).rejects.toThrow(
            /no memory/,
          );
      } else {
        const hits = await store.search([user], 'shared words pizza garden', { k: 50 });
        for (const hit of hits) expect(owned.get(id)!.has(hit.memory.id)).toBe(true);
        const listed = await store.list(user, { history: true });
        expect(new Set(listed.map((memory) => memory.id))).toEqual(owned.get(id));
        for (const memory of listed)
          expect(await store.get(users.find((candidate) => candidate !== user)!, memory.id)).toBeUndefined();
      }
    }
    await store.close();
  });
});

describe('SqliteMemoryStore files', () => {
  const directory = () => mkdtempSync(join(tmpdir(), 'mnemo-store-'));

  it('refuses a file indexed by another embedder and names mnemo reindex', async () => {
    const path = join(directory(), 'm.db');
    await SqliteMemoryStore.open(path, { embedder: new FakeEmbedder({ dims: 16 }) }).close();
    expect(() => SqliteMemoryStore.open(path, { embedder: new FakeEmbedder({ dims: 32 }) })).toThrow(StoreError);
    expect(() => SqliteMemoryStore.open(path, { embedder: new FakeEmbedder({ dims: 32 }) })).toThrow(/mnemo reindex/);
  });

  it('forgetting a user leaves none of their text in the database files', async () => {
    const path = join(directory(), 'm.db');
    const store = SqliteMemoryStore.open(path, { embedder: embedder() });
    const secrets = ['zanzibarquokka', 'plumbobcitadel', 'xylophonemarmalade'];
    const episodes = Array.from({ length: 400 }, (_, index) => ({
      text: `turn ${index} about ${secrets[index % 3]} and the weather`,
      session: `s${index % 7}`,
    }));
    const [episode] = await store.addEpisodes(ada, episodes);
    await store.changeFacts(ada, [
      { op: 'add', fact: { text: `loves ${secrets[0]} ice cream`, provenance: [episode!.id] } },
    ]);
    await store.addEpisodes(bob, [{ text: 'bob keeps his own memories about the weather' }]);
    const contains = (needle: string) =>
      ['', '-wal'].some(
        (suffix) => existsSync(path + suffix) && readFileSync(path + suffix).includes(Buffer.from(needle)),
      );
    expect(contains(secrets[0]!)).toBe(true);

    expect((await store.forget(ada)).deleted).toBe(401);
    for (const secret of [...secrets, 'ada@example.com'])
      expect(
        contains(secret),
        secret +
          ' main:' +
          readFileSync(path).includes(Buffer.from(secret)) +
          ' fts rows:' +
          store.db.prepare('select count(*) from memories_fts').pluck().get(),
      ).toBe(false);
    expect(await store.list(ada, { history: true })).toEqual([]);
    expect((await store.search([bob], 'weather')).length).toBe(1);
    await store.close();
  });

  it('after a forget rewrites the file, the same connection still finds the kept memories by words and vector', async () => {
    const path = join(directory(), 'm.db');
    const store = SqliteMemoryStore.open(path, { embedder: embedder() });
    const text = (index: number) => `ada note ${index} about plumbob${index}citadel and the garden`;
    const episodes = await store.addEpisodes(
      ada,
      Array.from({ length: 30 }, (_, index) => ({ text: text(index) })),
    );
    for (const episode of episodes.filter((_, index) => index % 3 !== 0)) await store.forget(ada, episode.id);
    expect(await store.list(ada)).toHaveLength(10);
    const [hit] = await store.search([ada], text(15));
    expect(hit!.memory.text).toBe(text(15));
    expect(hit!.parts).toMatchObject({ textRank: 1, vectorRank: 1 });
    await store.close();
  });

  it('says when the file could not be rewritten, and the next checkpoint rewrites it', async () => {
    const path = join(directory(), 'm.db');
    const store = SqliteMemoryStore.open(path, { embedder: embedder() });
    const [episode] = await store.addEpisodes(ada, [{ text: 'forgotten' }, { text: 'kept' }]);
    const exec = vi.spyOn(store.db, 'exec').mockImplementationOnce(() => {
      throw Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
    });
    expect(await store.forget(ada, episode!.id)).toMatchObject({ deleted: 1, flushed: false });
    expect(store.checkpoint()).toBe(true);
    expect(exec.mock.calls).toEqual([['VACUUM'], ['VACUUM']]);
    // Done once, the rewrite is not repeated.
    expect(store.checkpoint()).toBe(true);
    expect(exec).toHaveBeenCalledTimes(2);
    expect((await store.list(ada)).map((memory) => memory.text)).toEqual(['kept']);
    await store.close();
  });

  it('with rewriteOnForget off, forgets only mark the file, and one checkpoint rewrites it', async () => {
    const path = join(directory(), 'm.db');
    const store = SqliteMemoryStore.open(path, { embedder: embedder(), rewriteOnForget: false });
    await store.addEpisodes(ada, [{ text: 'ada one' }]);
    await store.addEpisodes(bob, [{ text: 'bob one' }]);
    const exec = vi.spyOn(store.db, 'exec');
    expect(await store.forget(ada)).toMatchObject({ deleted: 1, flushed: false });
    expect(await store.forget(bob)).toMatchObject({ deleted: 1, flushed: false });
    expect(exec).not.toHaveBeenCalled();
    expect(store.checkpoint()).toBe(true);
    expect(exec.mock.calls).toEqual([['VACUUM']]);
    // Nothing left to rewrite: a forget that deletes nothing is flushed at once.
    expect(await store.forget(ada)).toEqual({ deleted: 0, alsoDeleted: {}, flushed: true });
    await store.close();
  });

  it('opens and searches while another process keeps changing the schema', async () => {
    const path = join(directory(), 'm.db');
    const setup = SqliteMemoryStore.open(path, { embedder: embedder() });
    await setup.addEpisodes(ada, [{ text: 'ada likes quiet cafes' }]);
    await setup.close();
    // As a forget's VACUUM or another process's migrations do: every commit changes the schema.
    const churn = spawn(
      process.execPath,
      [
        '-e',
        `const db = new (require('better-sqlite3'))(process.env.DB); db.pragma('busy_timeout = 5000');
         console.log('ready'); for (;;) { db.exec('CREATE TABLE churn (a)'); db.exec('DROP TABLE churn'); }`,
      ],
      { env: { ...process.env, DB: path }, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise((resolve) => churn.stdout.once('data', resolve));
      let rounds = 0;
      for (const started = Date.now(); Date.now() - started < 1500; rounds++) {
        const store = SqliteMemoryStore.open(path, { embedder: embedder() });
        expect((await store.search([ada], 'quiet cafes')).map((hit) => hit.memory.text)).toEqual([
          'ada likes quiet cafes',
        ]);
        await store.close();
      }
      expect(rounds).toBeGreaterThan(10);
    } finally {
      churn.kill();
    }
  });

  it("says when another process's open read keeps the deleted text in the write-ahead log, and forgetting again clears it", async () => {
    const path = join(directory(), 'm.db');
    const store = SqliteMemoryStore.open(path, { embedder: embedder(), busyTimeoutMs: 50 });
    await store.addEpisodes(bob, [{ text: 'bob filler' }]);
    store.checkpoint();
    await store.addEpisodes(ada, [{ text: 'walsecretsplendid' }]);
    const reader = new Database(path, { readonly: true });
    reader.prepare('BEGIN').run();
    reader.prepare('SELECT count(*) FROM memories').get();
    expect(await store.forget(ada)).toMatchObject({ deleted: 1, flushed: false });
    expect(readFileSync(`${path}-wal`).includes(Buffer.from('walsecretsplendid'))).toBe(true);
    reader.prepare('COMMIT').run();
    reader.close();
    expect(await store.forget(ada)).toEqual({ deleted: 0, alsoDeleted: {}, flushed: true });
    for (const suffix of ['', '-wal'])
      expect(readFileSync(path + suffix).includes(Buffer.from('walsecretsplendid'))).toBe(false);
    await store.close();
  });
});
