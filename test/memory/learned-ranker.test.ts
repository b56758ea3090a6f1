import { describe, expect, it } from 'vitest';
import {
  FakeEmbedder,
  parseLearnedRanker,
  RANKING_FEATURES,
  recordRankingFeatures,
  ruleQueryGenerator,
  type SearchHit,
  shippedRanker,
  userScope,
} from '../../memory/index.js';
import { SqliteMemoryStore } from '../../memory/sqlite/store.js';

const handWeighted = (hit: SearchHit): number =>
  hit.parts.fused + (hit.parts.speaker ?? 0) + (hit.parts.time ?? 0) + (hit.parts.context ?? 0);

async function storeWithTurns(): Promise<SqliteMemoryStore> {
  const store = SqliteMemoryStore.open(':memory:', { embedder: new FakeEmbedder({ dims: 32 }) });
  await store.addEpisodes(userScope('ada'), [
    { text: 'My dog Pixel is a border collie', role: 'user', session: 'walks' },
    { text: 'What a lovely dog! How old is Pixel?', role: 'assistant', session: 'walks' },
    { text: 'Pixel turned four last week', role: 'user', session: 'walks' },
    { text: 'My sister has a dog too, a beagle', role: 'Maya', session: 'group' },
    { text: 'We walked the dogs by the river', role: 'Maya', session: 'group' },
    { text: 'I work night shifts as a nurse', role: 'user', session: 'work' },
  ]);
  return store;
}

describe('the learned ranker', () => {
  it('ships a model that matches the features the pipeline computes, with its protocol', () => {
    const ranker = shippedRanker();
    expect(ranker).toBeDefined();
    expect(ranker!.features).toEqual([...RANKING_FEATURES]);
    expect(ranker!.model.trees.length).toBeGreaterThan(0);
    const protocol = ranker!.protocol as { prefevalTrainingTopics: string[]; prefevalHeldOutTopics: string[] };
    expect(protocol.prefevalTrainingTopics.length).toBeGreaterThan(0);
    expect(protocol.prefevalHeldOutTopics.filter((topic) => protocol.prefevalTrainingTopics.includes(topic))).toEqual(
      [],
    );
    expect(() => parseLearnedRanker({ ...ranker, features: ['bm25'] })).toThrow(/does not match/);
    const broken = { ...ranker!.model, trees: [{ feature: [0], threshold: [0], left: [0], right: [0], value: [0] }] };
    expect(() => parseLearnedRanker({ ...ranker, model: broken })).toThrow(/malformed/);
  });

  it("re-ranks the user's own turns for a question about them, however others' turns score", async () => {
    const store = SqliteMemoryStore.open(':memory:', { embedder: new FakeEmbedder({ dims: 32 }) });
    const talk = Array.from({ length: 12 }, (_, index) => ({
      text: `Cooking dinner tonight ideas number ${index}: cooking pasta, cooking curry, cooking dinner for friends`,
      role: 'assistant',
    }));
    await store.addEpisodes(userScope('ada'), [{ text: 'I am vegan since May', role: 'user' }, ...talk]);
    const search = (own: number) =>
      store.search([userScope('ada')], 'what should I cook for dinner tonight?', {
        k: 5,
        weights: { learned: 0, context: 0 },
        depth: { text: 20, vector: 20, rerank: 3, own },
      });
    expect((await search(0)).map((hit) => hit.memory.role)).not.toContain('user');
    expect((await search(5)).map((hit) => hit.memory.role)).toContain('user');
    await store.close();
  });

  it('explains every hit with its learned score when it ranks', async () => {
    const store = await storeWithTurns();
    const hits = await store.search([userScope('ada')], 'what is my dog called?', { k: 5, weights: { learned: 1 } });
    expect(hits.length).toBeGreaterThan(0);
    for (const hit of hits) {
      expect(hit.parts.learned).toBeGreaterThan(0);
      expect(hit.parts.learned).toBeLessThan(1);
      expect(hit.score).toBeCloseTo(hit.parts.learned!, 9);
    }
    await store.close();
  });

  it('ranks by default, rewritten queries included', async () => {
    const rewrites: string[] = [];
    const store = SqliteMemoryStore.open(':memory:', {
      embedder: new FakeEmbedder({ dims: 32 }),
      queryGenerator: async (input) => {
        rewrites.push(input.text);
        return ruleQueryGenerator({ ...input, text: 'dog Pixel border collie' });
      },
    });
    await store.addEpisodes(userScope('ada'), [
      { text: 'My dog Pixel is a border collie', role: 'user' },
      { text: 'I work night shifts as a nurse', role: 'user' },
    ]);
    const hits = await store.search([userScope('ada')], "what's my pup's name?", { k: 2 });
    expect(rewrites).toEqual(["what's my pup's name?"]);
    expect(hits[0]!.memory.text).toBe('My dog Pixel is a border collie');
    for (const hit of hits) expect(hit.score).toBeCloseTo(hit.parts.learned!, 9);
    await store.close();
  });

  it('leaves the hand-weighted ranking exactly as it was when turned off', async () => {
    const store = await storeWithTurns();
    const search = () => store.search([userScope('ada')], 'what is my dog called?', { k: 6, weights: { learned: 0 } });
    const plain = await search();
    for (const hit of plain) {
      expect(hit.parts.learned).toBeUndefined();
      expect(hit.score).toBeCloseTo(handWeighted(hit), 12);
    }
    expect(plain.map(handWeighted)).toEqual(plain.map(handWeighted).sort((a, b) => b - a));
    // Recording features for training changes nothing either.
    const records: unknown[] = [];
    const stop = recordRankingFeatures((record) => records.push(record));
    const recorded = await search().finally(stop);
    expect(records).toHaveLength(1);
    expect(recorded.map((hit) => [hit.memory.id, hit.score])).toEqual(plain.map((hit) => [hit.memory.id, hit.score]));
    await store.close();
  });
});
