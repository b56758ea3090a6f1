import { afterEach, describe, expect, it } from 'vitest';
import { FakeEmbedder } from '../../memory/embedders/fake.js';
import type { Embedder } from '../../memory/embedders/types.js';
import type { ForgetTarget, MemoryStore, StorageModule } from '../../memory/port.js';
import { globalScope, type Memory, personaScope, type Scope, userScope } from '../../memory/types.js';
import { SEARCH_QUESTIONS, SEARCH_TURNS } from './search-set.js';

/** What the contract hands the backend's factory: the store it opens must use both. */
export interface ContractOpenOptions {
  readonly embedder: Embedder;
  readonly modules: readonly StorageModule[];
}

/** Opens a new, empty store of the backend under test (closing it is the suite's job). */
export type OpenContractStore = (options: ContractOpenOptions) => Promise<MemoryStore>;

/**
 * A storage module with no tables that records every forget step the store runs, as its own module's step would
 * see it, and reports one `recorded` row per call.
 */
export function recordingModule(): { module: StorageModule; calls: ForgetTarget[] } {
  const calls: ForgetTarget[] = [];
  const record = (target: ForgetTarget): Record<string, number> => {
    calls.push({ userId: target.userId, threadPrefix: target.threadPrefix });
    return { recorded: 1 };
  };
  return {
    calls,
    module: {
      name: 'contract-recorder',
      sqlite: { migrations: [], forget: (_db, target) => record(target) },
      postgres: { migrations: [], forget: async (_client, target) => record(target) },
    },
  };
}

const ada = userScope('ada');
const bob = userScope('bob');
const carol = userScope('carol');
const owls = personaScope('night-owls');
const day = (n: number): Date => new Date(Date.UTC(2024, 4, n, 9, 0, 0));
const texts = (memories: readonly Memory[]): string[] => memories.map((memory) => memory.text).sort();
const scopeName = (scope: Scope): string => (scope.kind === 'global' ? 'global' : `${scope.kind}:${scope.id}`);

/**
 * The behaviour every {@link MemoryStore} must have, whatever holds the data, written only against the port (as
 * LangGraph's checkpointer validation suite is for its savers). A backend runs it with its own factory:
 *
 * @example
 * memoryStoreContract('SqliteMemoryStore', (options) => openStore(':memory:', options));
 */
export function memoryStoreContract(name: string, open: OpenContractStore): void {
  describe(`MemoryStore contract: ${name}`, () => {
    let opened: MemoryStore[] = [];
    let recorder = recordingModule();

    /** A new, empty store with the recording module. */
    const fresh = async (embedder: Embedder = new FakeEmbedder({ dims: 64 })): Promise<MemoryStore> => {
      recorder = recordingModule();
      const store = await open({ embedder, modules: [recorder.module] });
      opened.push(store);
      return store;
    };

    afterEach(async () => {
      for (const store of opened) await store.close();
      opened = [];
    });

    describe('scopes and isolation', () => {
      /** Ada and Bob say the same things in the same session name; each must only ever see their own. */
      async function twoUsers(store: MemoryStore) {
        const said = (who: string) => [
          { text: `I keep a secret recipe for lemon cake (${who})`, session: 's1', at: day(1) },
          { text: `The lemon cake needs three eggs (${who})`, session: 's1', at: day(2) },
          { text: `Nobody else knows the lemon cake recipe (${who})`, session: 's1', at: day(3) },
        ];
        const adaTurns = await store.addEpisodes(ada, said('ada'));
        const bobTurns = await store.addEpisodes(bob, said('bob'));
        const [adaFact] = await store.changeFacts(ada, [
          { op: 'add', fact: { text: 'Ada bakes lemon cake', provenance: [adaTurns[0]!.id] } },
        ]);
        const [bobFact] = await store.changeFacts(bob, [{ op: 'add', fact: { text: 'Bob bakes lemon cake' } }]);
        return { adaTurns, bobTurns, adaFact: adaFact!, bobFact: bobFact! };
      }

      it('get, list, export and count see only the scope asked for', async () => {
        const store = await fresh();
        const { adaTurns, bobTurns, adaFact, bobFact } = await twoUsers(store);
        for (const memory of [...adaTurns, adaFact]) {
          expect(await store.get(ada, memory.id)).toMatchObject({ id: memory.id, text: memory.text, scope: ada });
          expect(await store.get(bob, memory.id)).toBeUndefined();
        }
        expect(await store.get(bob, bobFact.id)).toMatchObject({ text: 'Bob bakes lemon cake' });

        const bobList = await store.list(bob, { history: true });
        expect(texts(bobList)).toEqual(texts([...bobTurns, bobFact]));
        expect(bobList.every((memory) => memory.scope.kind === 'user' && memory.scope.id === 'bob')).toBe(true);
        const bobExport = await store.export(bob);
        expect(texts(bobExport.memories)).toEqual(texts([...bobTurns, bobFact]));
        expect(bobExport.memories.every((memory) => !memory.text.includes('ada'))).toBe(true);
        expect(await store.count(ada)).toEqual({ episode: 3, fact: 1, preference: 0, profile: 0 });
        expect(await store.count(carol)).toEqual({ episode: 0, fact: 0, preference: 0, profile: 0 });
        expect(await store.list(carol)).toEqual([]);
      });

      it('search and neighbours never cross users, even with the same words and session name', async () => {
        const store = await fresh();
        const { adaTurns, bobTurns } = await twoUsers(store);
        const hits = await store.search([bob], 'secret lemon cake recipe eggs', { k: 20, context: 2 });
        expect(hits.length).toBeGreaterThan(0);
        for (const hit of hits) {
          expect(hit.memory.scope).toEqual(bob);
          expect(hit.memory.text).not.toContain('(ada)');
          for (const around of hit.context) expect(around.text).not.toContain('(ada)');
        }
        const around = await store.neighbours(bob, bobTurns[1]!.id, 5);
        expect(texts(around)).toEqual(texts([bobTurns[0]!, bobTurns[2]!]));
        // Ada's episode id asked for in Bob's scope: nothing of Ada's comes back.
        expect(await store.neighbours(bob, adaTurns[1]!.id, 5).catch(() => [])).not.toContainEqual(
          expect.objectContaining({ scope: ada }),
        );
        expect(await store.search([carol], 'lemon cake')).toEqual([]);
      });

      it('user, persona and global scopes of the same name are separate', async () => {
        const store = await fresh();
        await store.addEpisodes(userScope('night-owls'), [{ text: 'the user called night-owls likes kites' }]);
        await store.addEpisodes(owls, [{ text: 'the persona night-owls likes kites' }]);
        await store.addEpisodes(globalScope, [{ text: 'everybody likes kites' }]);
        expect(texts(await store.list(owls))).toEqual(['the persona night-owls likes kites']);
        expect(texts(await store.list(globalScope))).toEqual(['everybody likes kites']);
        const hits = await store.search([userScope('night-owls')], 'kites');
        expect(hits.map((hit) => hit.memory.text)).toEqual(['the user called night-owls likes kites']);
        const merged = await store.search([userScope('night-owls'), owls, globalScope], 'likes kites');
        expect(merged.map((hit) => scopeName(hit.memory.scope)).sort()).toEqual([
          'global',
          'persona:night-owls',
          'user:night-owls',
        ]);
      });

      it('a change to another scope’s fact is refused and changes nothing', async () => {
        const store = await fresh();
        const { adaFact } = await twoUsers(store);
        await expect(
          store.changeFacts(bob, [{ op: 'supersede', id: adaFact.id, fact: { text: 'hijacked' } }]),
        ).rejects.toMatchObject({ code: 'not_found' });
        await expect(store.changeFacts(bob, [{ op: 'invalidate', id: adaFact.id }])).rejects.toMatchObject({
          code: 'not_found',
        });
        expect(await store.get(ada, adaFact.id)).toMatchObject({ validTo: null });
        expect(texts(await store.list(bob))).not.toContain('hijacked');
      });
    });

    describe('supersede and invalidate', () => {
      it('keeps the history, searches only the current fact and refuses a fact no longer current', async () => {
        const store = await fresh();
        const [paris] = await store.changeFacts(ada, [
          { op: 'add', fact: { text: 'Ada lives in Paris', validFrom: day(1) } },
        ]);
        const [lisbon] = await store.changeFacts(ada, [
          { op: 'supersede', id: paris!.id, fact: { text: 'Ada lives in Lisbon', validFrom: day(10) } },
        ]);
        expect(lisbon).toMatchObject({ supersedes: paris!.id, validTo: null, kind: 'fact' });
        expect(lisbon!.id).not.toBe(paris!.id);
        expect((await store.get(ada, paris!.id))?.validTo?.getTime()).toBe(day(10).getTime());

        expect(texts(await store.list(ada))).toEqual(['Ada lives in Lisbon']);
        expect(texts(await store.list(ada, { history: true }))).toEqual(['Ada lives in Lisbon', 'Ada lives in Paris']);
        expect((await store.count(ada)).fact).toBe(1);
        const found = await store.search([ada], 'where does Ada live, Paris or Lisbon?');
        expect(found.map((hit) => hit.memory.id)).toEqual([lisbon!.id]);
        const withHistory = await store.search([ada], 'where does Ada live, Paris or Lisbon?', { history: true });
        expect(withHistory.map((hit) => hit.memory.id).sort()).toEqual([lisbon!.id, paris!.id].sort());

        await expect(
          store.changeFacts(ada, [{ op: 'supersede', id: paris!.id, fact: { text: 'Ada lives in Rome' } }]),
        ).rejects.toThrow(/no longer current/);
        await expect(store.changeFacts(ada, [{ op: 'invalidate', id: paris!.id }])).rejects.toThrow(
          /no longer current/,
        );
        expect(texts(await store.list(ada, { history: true }))).toEqual(['Ada lives in Lisbon', 'Ada lives in Paris']);

        await store.changeFacts(ada, [{ op: 'invalidate', id: lisbon!.id, at: day(20) }]);
        expect((await store.get(ada, lisbon!.id))?.validTo?.getTime()).toBe(day(20).getTime());
        expect((await store.count(ada)).fact).toBe(0);
        expect(await store.list(ada)).toEqual([]);
        expect(await store.search([ada], 'Lisbon')).toEqual([]);
        expect(await store.list(ada, { history: true })).toHaveLength(2);
      });

      it('a batch that fails part-way writes nothing', async () => {
        const store = await fresh();
        const [tea] = await store.changeFacts(ada, [{ op: 'add', fact: { text: 'Ada drinks tea' } }]);
        await store.changeFacts(ada, [{ op: 'invalidate', id: tea!.id }]);
        await expect(
          store.changeFacts(ada, [
            { op: 'add', fact: { text: 'Ada drinks coffee' } },
            { op: 'supersede', id: tea!.id, fact: { text: 'Ada drinks mate' } },
          ]),
        ).rejects.toThrow(/no longer current/);
        expect(texts(await store.list(ada, { history: true }))).toEqual(['Ada drinks tea']);
      });
    });

    describe('search quality on a fixed set (30 turns, 3 users)', () => {
      it('puts the right turn in the top 3 for questions worded unlike the turns, within the asker’s scope', async () => {
        const store = await fresh();
        const ids = new Map<string, string>();
        for (const [user, turns] of Object.entries(SEARCH_TURNS)) {
          const stored = await store.addEpisodes(
            userScope(user),
            turns.map((text, index) => ({ text, session: `${user}-chat`, at: day(index + 1) })),
          );
          for (const memory of stored) ids.set(memory.text, memory.id);
        }
        const misses: string[] = [];
        for (const question of SEARCH_QUESTIONS) {
          const hits = await store.search([userScope(question.user)], question.ask, { k: 3 });
          for (const hit of hits) expect(hit.memory.scope).toEqual(userScope(question.user));
          if (!hits.some((hit) => hit.memory.id === ids.get(question.expect)))
            misses.push(
              `${question.user}: "${question.ask}" got ${hits.map((hit) => `"${hit.memory.text}"`).join(', ')}`,
            );
        }
        expect(misses).toEqual([]);
      });
    });

    describe('forget', () => {
      it('leaves nothing any read returns after forgetting a user, and runs the modules’ forget step once', async () => {
        const store = await fresh();
        const turns = await store.addEpisodes(ada, [
          { text: 'my locker code is 4417', session: 'gym', sourceId: 'm1' },
          { text: 'and the spare key is under the mat', session: 'gym', sourceId: 'm2' },
        ]);
        const [fact] = await store.changeFacts(ada, [
          { op: 'add', fact: { text: 'Ada’s locker code is 4417', provenance: [turns[0]!.id] } },
        ]);
        await store.changeFacts(ada, [{ op: 'supersede', id: fact!.id, fact: { text: 'Ada’s locker code is 9902' } }]);
        await store.setPersona(ada, 'night-owls');
        const turn = await store.beginTurn(ada, 'thread-1');
        await store.addEpisodes(bob, [{ text: 'my locker code is 1234', session: 'gym' }]);
        await store.setPersona(bob, 'night-owls');

        const result = await store.forget(ada);
        expect(result.deleted).toBe(4);
        expect(result.alsoDeleted).toMatchObject({ recorded: 1 });
        expect(recorder.calls).toEqual([{ userId: 'ada', threadPrefix: turn.threadKey.slice(0, -'thread-1'.length) }]);

        for (const memory of [...turns, fact!]) expect(await store.get(ada, memory.id)).toBeUndefined();
        expect(await store.list(ada, { history: true })).toEqual([]);
        expect((await store.export(ada)).memories).toEqual([]);
        expect(await store.count(ada)).toEqual({ episode: 0, fact: 0, preference: 0, profile: 0 });
        expect(await store.search([ada], 'locker code key mat', { history: true })).toEqual([]);
        expect(await store.neighbours(ada, turns[0]!.id, 3).catch(() => [])).toEqual([]);
        expect(await store.personaOf(ada)).toBeUndefined();
        expect(await store.personaMembers('night-owls')).toBe(1);
        expect((await store.scopes('user')).map(scopeName)).toEqual(['user:bob']);
        expect(await turn.forgotten()).toBe(true);

        // Bob is untouched.
        expect(texts(await store.list(bob))).toEqual(['my locker code is 1234']);
        expect(await store.personaOf(bob)).toMatchObject({ persona: 'night-owls' });
      });

      it('runs the modules’ forget step for a user who has no memories', async () => {
        const store = await fresh();
        const result = await store.forget(userScope('stranger'));
        expect(result.deleted).toBe(0);
        expect(result.alsoDeleted).toMatchObject({ recorded: 1 });
        expect(recorder.calls).toEqual([{ userId: 'stranger', threadPrefix: undefined }]);
      });

      it('forgets one memory by id, and only in its own scope', async () => {
        const store = await fresh();
        const [keep, drop] = await store.addEpisodes(ada, [
          { text: 'I like green tea', session: 's' },
          { text: 'my bank pin is 8086', session: 's' },
        ]);
        const [bobs] = await store.addEpisodes(bob, [{ text: 'my bank pin is 1111' }]);
        await expect(store.forget(bob, drop!.id)).rejects.toMatchObject({ code: 'not_found' });
        expect(await store.get(ada, drop!.id)).toBeDefined();

        const result = await store.forget(ada, drop!.id);
        expect(result.deleted).toBe(1);
        expect(recorder.calls).toEqual([]); // one memory is not the user: threads and ratings stay
        expect(await store.get(ada, drop!.id)).toBeUndefined();
        expect(texts(await store.list(ada))).toEqual([keep!.text]);
        const hits = await store.search([ada], 'bank pin', { k: 10 });
        expect(hits.map((hit) => hit.memory.id)).not.toContain(drop!.id);
        expect(await store.neighbours(ada, keep!.id, 2)).toEqual([]);
        expect(await store.get(bob, bobs!.id)).toBeDefined();
        await expect(store.forget(ada, drop!.id)).rejects.toMatchObject({ code: 'not_found' });
      });

      it('forgets a persona’s memories without running the users’ forget step', async () => {
        const store = await fresh();
        await store.addEpisodes(owls, [{ text: 'night owls like late films' }]);
        expect((await store.forget(owls)).deleted).toBe(1);
        expect(await store.list(owls)).toEqual([]);
        expect(recorder.calls).toEqual([]);
      });
    });

    describe('export and restore', () => {
      it('restores an export with new ids, keeping times, history, supersede links and provenance', async () => {
        const store = await fresh();
        const turns = await store.addEpisodes(ada, [
          { text: 'I moved to Lisbon in May', role: 'user', session: 'move', at: day(1), sourceId: 'msg-1' },
          { text: 'Lisbon is lovely in spring', role: 'assistant', session: 'move', at: day(2) },
          { text: 'I now work from a café in Alfama', role: 'user', session: 'move', at: day(3) },
        ]);
        const [city] = await store.changeFacts(ada, [
          { op: 'add', fact: { text: 'Ada lives in Lisbon', validFrom: day(1), provenance: [turns[0]!.id] } },
        ]);
        const [area] = await store.changeFacts(ada, [
          {
            op: 'supersede',
            id: city!.id,
            fact: {
              text: 'Ada lives in Alfama, Lisbon',
              kind: 'profile',
              validFrom: day(3),
              provenance: [turns[2]!.id],
            },
          },
        ]);
        const [coffee] = await store.changeFacts(ada, [
          { op: 'add', fact: { text: 'Ada likes strong coffee', kind: 'preference' } },
        ]);
        await store.changeFacts(ada, [{ op: 'invalidate', id: coffee!.id, at: day(4) }]);

        const exported = await store.export(ada);
        expect(exported.memories).toHaveLength(6);
        const ids = await store.restore(carol, exported.memories);
        expect([...ids.keys()].sort()).toEqual(exported.memories.map((memory) => memory.id).sort());
        for (const [from, to] of ids) expect(to).not.toBe(from);

        const restored = (await store.export(carol)).memories;
        expect(restored).toHaveLength(6);
        const byOld = new Map(restored.map((memory) => [memory.id, memory]));
        for (const old of exported.memories) {
          const copy = byOld.get(ids.get(old.id)!);
          expect(copy, old.id).toBeDefined();
          expect(copy).toMatchObject({
            kind: old.kind,
            scope: carol,
            text: old.text,
            role: old.role,
            session: old.session,
            sourceId: old.sourceId,
            supersedes: old.supersedes === null ? null : ids.get(old.supersedes),
          });
          expect(copy!.at.getTime()).toBe(old.at.getTime());
          expect(copy!.validTo?.getTime()).toBe(old.validTo?.getTime());
          expect(copy!.createdAt.getTime()).toBe(old.createdAt.getTime());
          expect([...copy!.provenance].sort()).toEqual(old.provenance.map((id) => ids.get(id)).sort());
        }
        expect(byOld.get(ids.get(area!.id)!)?.provenance).toEqual([ids.get(turns[2]!.id)]);

        // The restored scope behaves like the original: current facts only in search, neighbours in order.
        expect(texts(await store.list(carol, { kinds: ['fact', 'profile', 'preference'] }))).toEqual([
          'Ada lives in Alfama, Lisbon',
        ]);
        const hits = await store.search([carol], 'where does Ada live?', { kinds: ['fact', 'profile'] });
        expect(hits.map((hit) => hit.memory.id)).toEqual([ids.get(area!.id)]);
        expect(texts(await store.neighbours(carol, ids.get(turns[1]!.id)!))).toEqual(texts([turns[0]!, turns[2]!]));
        // A fact superseded before the export is still not current after it.
        await expect(store.changeFacts(carol, [{ op: 'invalidate', id: ids.get(city!.id)! }])).rejects.toThrow(
          /no longer current/,
        );
        // The original is untouched, and a scope that holds memories is refused.
        expect(texts((await store.export(ada)).memories)).toEqual(texts(exported.memories));
        await expect(store.restore(carol, exported.memories)).rejects.toThrow(/already holds memories/);
      });
    });

    describe('personas', () => {
      it('places, moves and removes users, and counts members', async () => {
        const store = await fresh();
        expect(await store.personaOf(ada)).toBeUndefined();
        await store.setPersona(ada, 'night-owls');
        await store.setPersona(bob, 'night-owls', 'auto');
        expect(await store.personaOf(ada)).toEqual({ persona: 'night-owls', assignedBy: 'hand' });
        expect(await store.personaOf(bob)).toEqual({ persona: 'night-owls', assignedBy: 'auto' });
        expect(await store.personaMembers('night-owls')).toBe(2);

        await store.setPersona(ada, 'early-birds', 'auto');
        expect(await store.personaOf(ada)).toEqual({ persona: 'early-birds', assignedBy: 'auto' });
        expect(await store.personaMembers('night-owls')).toBe(1);
        expect(await store.personaMembers('early-birds')).toBe(1);

        await store.setPersona(ada, null);
        await store.setPersona(carol, null); // never placed: nothing to do
        expect(await store.personaOf(ada)).toBeUndefined();
        expect(await store.personaMembers('early-birds')).toBe(0);
        expect(await store.personaMembers('nobody')).toBe(0);
      });
    });

    describe('turns', () => {
      it('gives each user their own thread key for the same thread id', async () => {
        const store = await fresh();
        const adaTurn = await store.beginTurn(ada, 'general');
        const bobTurn = await store.beginTurn(bob, 'general');
        expect(adaTurn.user).toEqual(ada);
        expect(adaTurn.threadKey.endsWith('/general')).toBe(true);
        expect(bobTurn.threadKey.endsWith('/general')).toBe(true);
        expect(adaTurn.threadKey).not.toBe(bobTurn.threadKey);
        expect((await store.beginTurn(ada, 'general')).threadKey).toBe(adaTurn.threadKey);
        expect(await adaTurn.forgotten()).toBe(false);
      });

      it('stores the writes of a live turn, and end() then forgets nothing', async () => {
        const store = await fresh();
        const turn = await store.beginTurn(ada, 't1');
        expect(await store.addEpisodes(ada, [{ text: 'hello there' }], { turn })).toHaveLength(1);
        expect(await store.changeFacts(ada, [{ op: 'add', fact: { text: 'Ada says hello' } }], { turn })).toHaveLength(
          1,
        );
        await turn.end();
        expect(recorder.calls).toEqual([]);
        expect(await store.list(ada)).toHaveLength(2);
      });

      it('stores nothing for a turn whose user was forgotten, and end() clears what it left', async () => {
        const store = await fresh();
        await store.addEpisodes(ada, [{ text: 'before the turn' }]);
        const turn = await store.beginTurn(ada, 't1');
        await store.forget(ada);
        recorder.calls.length = 0;
        expect(await turn.forgotten()).toBe(true);

        expect(await store.addEpisodes(ada, [{ text: 'written after the forget' }], { turn })).toEqual([]);
        expect(
          await store.changeFacts(ada, [{ op: 'add', fact: { text: 'a fact after the forget' } }], { turn }),
        ).toEqual([]);
        expect(await store.list(ada, { history: true })).toEqual([]);
        expect((await store.scopes('user')).map(scopeName)).not.toContain('user:ada');

        await turn.end();
        expect(recorder.calls).toEqual([{ userId: undefined, threadPrefix: turn.threadKey }]);

        // Ada comes back as a new user: the old turn stays forgotten, and her new turn has a new key.
        await store.addEpisodes(ada, [{ text: 'hello again' }]);
        expect(await turn.forgotten()).toBe(true);
        expect(await store.addEpisodes(ada, [{ text: 'late write of the old turn' }], { turn })).toEqual([]);
        const next = await store.beginTurn(ada, 't1');
        expect(next.threadKey).not.toBe(turn.threadKey);
        expect(texts(await store.list(ada))).toEqual(['hello again']);
      });
    });

    describe('scopes()', () => {
      it('lists every scope that holds memories, by kind, and drops a forgotten one', async () => {
        const store = await fresh();
        expect(await store.scopes()).toEqual([]);
        await store.addEpisodes(ada, [{ text: 'a' }]);
        await store.addEpisodes(bob, [{ text: 'b' }]);
        await store.addEpisodes(owls, [{ text: 'c' }]);
        await store.addEpisodes(globalScope, [{ text: 'd' }]);
        expect((await store.scopes()).map(scopeName).sort()).toEqual([
          'global',
          'persona:night-owls',
          'user:ada',
          'user:bob',
        ]);
        expect((await store.scopes('user')).map(scopeName).sort()).toEqual(['user:ada', 'user:bob']);
        expect((await store.scopes('persona')).map(scopeName)).toEqual(['persona:night-owls']);
        expect((await store.scopes('global')).map(scopeName)).toEqual(['global']);
        await store.forget(bob);
        await store.forget(owls);
        expect((await store.scopes()).map(scopeName).sort()).toEqual(['global', 'user:ada']);
      });
    });
  });
}
