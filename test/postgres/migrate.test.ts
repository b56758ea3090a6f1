import { AIMessage } from '@langchain/core/messages';
import { fakeModel } from '@langchain/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeEmbedder } from '../../memory/embedders/fake.js';
import type { Memory, MemoryStore, Scope } from '../../memory/index.js';
import { personaScope, userScope } from '../../memory/types.js';
import { RecommenderService, recommenderStorage } from '../../recommender/index.js';
import { createAgent } from '../../src/agent.js';
import { checkpointerFor } from '../../src/graph/threads.js';
import { migrateStore } from '../../src/migrate.js';
import { openStore } from '../../src/storage.js';
import { type PgliteServer, startPglite } from '../helpers/pglite.js';
import { generated } from '../helpers/recommender.js';
import { tempDir } from '../helpers/tmp.js';

let server: PgliteServer;
beforeAll(async () => {
  server = await startPglite();
}, 60_000);
afterAll(() => server?.stop());

const embedder = () => new FakeEmbedder({ dims: 32 });

/** A scope's memories without ids: what must survive a move, with links written as the texts they point at. */
async function portable(store: MemoryStore, scope: Scope) {
  const { memories } = await store.export(scope);
  const text = new Map(memories.map((memory) => [memory.id, memory.text]));
  return memories.map((memory: Memory) => ({
    kind: memory.kind,
    text: memory.text,
    role: memory.role,
    session: memory.session,
    at: memory.at.toISOString(),
    validTo: memory.validTo?.toISOString() ?? null,
    supersedes: memory.supersedes && text.get(memory.supersedes),
    sourceId: memory.sourceId,
    provenance: memory.provenance.map((id) => text.get(id)).sort(),
    createdAt: memory.createdAt.toISOString(),
  }));
}

async function threadMessages(store: MemoryStore, user: string, thread: string): Promise<string[]> {
  const { threadKey } = await store.beginTurn(userScope(user), thread);
  const tuple = await checkpointerFor(store.backend).getTuple({ configurable: { thread_id: threadKey } });
  const messages = (tuple?.checkpoint.channel_values.messages ?? []) as Array<{ content: unknown }>;
  return messages.map((message) => String(message.content));
}

/** A file with every kind of data: turns, facts with history and provenance, personas, ratings, a model, a thread. */
async function seededFile(): Promise<MemoryStore> {
  const store = await openStore(`${tempDir()}/source.db`, { embedder: embedder() });
  const ada = userScope('ada');
  const [moved] = await store.addEpisodes(ada, [
    { text: 'I moved to Lisbon last spring', session: 's1', sourceId: 'D1:1', at: '2024-04-02T10:00:00Z' },
    { text: 'The tiles there are beautiful', session: 's1', sourceId: 'D1:2', at: '2024-04-02T10:01:00Z' },
  ]);
  const [lives] = await store.changeFacts(ada, [
    { op: 'add', fact: { text: 'lives in Berlin', kind: 'profile', validFrom: '2020-01-01T00:00:00Z' } },
  ]);
  await store.changeFacts(ada, [
    { op: 'supersede', id: lives!.id, fact: { text: 'lives in Lisbon', kind: 'profile', provenance: [moved!.id] } },
  ]);
  const [tea] = await store.changeFacts(ada, [{ op: 'add', fact: { text: 'likes green tea', kind: 'preference' } }]);
  await store.changeFacts(ada, [{ op: 'invalidate', id: tea!.id, at: '2024-05-01T00:00:00Z' }]);
  await store.addEpisodes(userScope('bob'), [{ text: 'my dog Pixel is a border collie' }]);
  await store.addEpisodes(personaScope('night-owls'), [{ text: 'night owls like late screenings' }]);
  await store.setPersona(userScope('bob'), 'night-owls');

  const recommender = new RecommenderService({ storage: recommenderStorage(store.backend), memory: store });
  const data = generated();
  await recommender.importItems(data.items.slice(0, 20));
  await recommender.storage.addRatings(data.ratings.filter((rating) => Number(rating.itemId.slice(1)) < 20));
  await recommender.storage.setDemographics([{ userId: 'u1', demographics: { occupation: 'pilot' } }]);
  await recommender.train({ factors: 4, personas: 2 });

  const agent = createAgent({
    store,
    model: fakeModel().respond(new AIMessage('Lisbon, noted.')).respond(new AIMessage('{"changes": []}')),
  });
  await agent.chat('remember that I like trams', { userId: 'ada', threadId: 'trip' });
  return store;
}

describe('migrating between SQLite and PostgreSQL', () => {
  it('copies everything there and back, verifies it, and resumes without copying twice', async () => {
    await server.reset();
    const source = await seededFile();
    const postgres = await openStore(server.url, { embedder: embedder() });
    const back = await openStore(`${tempDir()}/back.db`, { embedder: embedder() });
    try {
      const there = await migrateStore(source, postgres);
      expect(there.verified).toBe(true);
      expect(there.target).toEqual(there.source);
      // Training placed every rater in a persona: they have namespaces without memories.
      expect(there.source).toMatchObject({ memories: 9, models: 1, demographics: 1 });
      expect(there.source.personaMembers).toBeGreaterThan(1);
      expect(there.source.checkpoints).toBeGreaterThan(0);
      const home = await migrateStore(postgres, back);
      expect(home.verified).toBe(true);
      expect(home.target).toEqual(there.source);

      for (const scope of await source.scopes()) {
        const original = await portable(source, scope);
        expect(await portable(postgres, scope)).toEqual(original);
        expect(await portable(back, scope)).toEqual(original);
      }
      expect(await back.personaOf(userScope('bob'))).toEqual({ persona: 'night-owls', assignedBy: 'hand' });
      const ratings = async (store: MemoryStore) => (await recommenderStorage(store.backend).allRatings()).length;
      expect(await ratings(back)).toBe(await ratings(source));
      // The thread continues where it was, under the user's own key in each store.
      const said = await threadMessages(source, 'ada', 'trip');
      expect(said).toContain('Lisbon, noted.');
      expect(await threadMessages(postgres, 'ada', 'trip')).toEqual(said);
      expect(await threadMessages(back, 'ada', 'trip')).toEqual(said);
      // Searches find the same memory in every copy.
      for (const store of [source, postgres, back]) {
        const [best] = await store.search([userScope('ada')], 'where does she live now?', { k: 1, kinds: ['profile'] });
        expect(best?.memory.text).toBe('lives in Lisbon');
      }

      const again = await migrateStore(source, postgres);
      expect(again).toMatchObject({ verified: true, skippedScopes: 3 }); // the scopes that hold memories
      expect(again.target).toEqual(there.target);
    } finally {
      await Promise.all([source.close(), postgres.close(), back.close()]);
    }
  }, 60_000);

  it('refuses a target opened with another embedder, and a scope the target holds only in part', async () => {
    await server.reset();
    const source = await openStore(':memory:', { embedder: embedder() });
    await source.addEpisodes(userScope('ada'), [{ text: 'one' }, { text: 'two' }]);
    const other = await openStore(':memory:', { embedder: new FakeEmbedder({ dims: 16, id: 'fake-other' }) });
    await expect(migrateStore(source, other)).rejects.toThrow(
      /indexed with embedder .* configure the source's embedder/,
    );
    const partial = await openStore(server.url, { embedder: embedder() });
    await partial.addEpisodes(userScope('ada'), [{ text: 'one' }]);
    await expect(migrateStore(source, partial)).rejects.toThrow(
      /already holds 1 memories of user ada and the source 2/,
    );
    await Promise.all([source.close(), other.close(), partial.close()]);
  });
});
