import { describe, expect, it } from 'vitest';
import type { SqliteMemoryStore } from '../../memory/sqlite/store.js';
import { personaScope, userScope } from '../../memory/types.js';
import { RecommenderService } from '../../recommender/service.js';
import { GENRES, generated, likedGenres, serviceOver, sqliteStorage, trainedService } from '../helpers/recommender.js';

const service = () => trainedService(generated(), { factors: 8, personas: 3 });
const tagsOf = async (
  recommender: RecommenderService,
  entries: ReadonlyArray<{ itemId: string }>,
): Promise<string[]> => {
  const items = await recommender.storage.items();
  return entries.flatMap((entry) => items.find((item) => item.id === entry.itemId)!.tags);
};

describe('hard constraints read from memory', () => {
  it('removes a hyphenated genre the user cannot stand and cites the statement for it', async () => {
    const { service: recommender, memory } = await service();
    // u4 rates Sci-Fi and Westerns 5 stars, so Sci-Fi leads their recommendations until they say otherwise.
    expect(await tagsOf(recommender, await recommender.recommend('u4', { k: 15 }))).toContain('Sci-Fi');
    await memory.changeFacts(userScope('u4'), [
      { op: 'add', fact: { kind: 'preference', text: "I can't stand Sci-Fi" } },
    ]);
    const recommendations = await recommender.recommend('u4', { k: 15 });
    expect(recommendations).toHaveLength(15);
    expect(await tagsOf(recommender, recommendations)).not.toContain('Sci-Fi');
    const [said] = await memory.list(userScope('u4'), { kinds: ['preference'] });
    const sciFi = await recommender.predict('u4', 'm4');
    expect(sciFi.predicted).toBeLessThanOrEqual(1.5);
    expect(sciFi.why).toContainEqual({ kind: 'memory', memoryId: said!.id, text: `you said: "I can't stand Sci-Fi"` });
  });

  it('reads "I like movies, just not horror" as avoiding horror, never as a reason to recommend it', async () => {
    const { service: recommender, memory } = await service();
    // u0 rates Horror and Comedy 5 stars.
    expect(await tagsOf(recommender, await recommender.recommend('u0', { k: 15 }))).toContain('Horror');
    await memory.changeFacts(userScope('u0'), [
      { op: 'add', fact: { kind: 'preference', text: 'I like movies, just not horror' } },
    ]);
    const recommendations = await recommender.recommend('u0', { k: 15 });
    expect(await tagsOf(recommender, recommendations)).not.toContain('Horror');
    expect(recommendations.flatMap((entry) => entry.why).filter((why) => why.kind === 'memory')).toEqual([]);
  });
});

describe('RecommenderService', () => {
  it('never recommends rated items or items violating a stated constraint, and explains with real ratings and memories', async () => {
    const { service: recommender, memory } = await service();
    await memory.changeFacts(userScope('u0'), [
      { op: 'add', fact: { kind: 'preference', text: "I can't stand horror" } },
    ]);
    const stated = await memory.list(userScope('u0'), { kinds: ['preference'] });
    expect(stated.length).toBe(1);
    const rated = new Set((await recommender.storage.ratingsOf('u0')).map((rating) => rating.itemId));
    const recommendations = await recommender.recommend('u0', { k: 15 });
    expect(recommendations).toHaveLength(15);
    for (const recommendation of recommendations) {
      expect(rated.has(recommendation.itemId)).toBe(false);
      expect((await recommender.storage.item(recommendation.itemId))!.tags).not.toContain('Horror');
      expect(recommendation.predicted).toBeGreaterThanOrEqual(1);
      expect(recommendation.predicted).toBeLessThanOrEqual(5);
      for (const why of recommendation.why) {
        if (why.kind === 'rating')
          expect(
            (await recommender.storage.ratingsOf('u0')).find((rating) => rating.itemId === why.itemId)?.stars,
          ).toBe(why.stars);
      }
    }
    expect(recommendations.some((recommendation) => recommendation.why.some((why) => why.kind === 'rating'))).toBe(
      true,
    );
    const horror = await recommender.predict('u0', 'm0');
    expect(horror.why.some((why) => why.kind === 'memory' && why.memoryId === stated[0]!.id)).toBe(true);
    expect(horror.predicted).toBeLessThanOrEqual(1.5);
  });

  it('ranks the genres a user likes first', async () => {
    const { service: recommender } = await service();
    let hits = 0;
    for (let user = 0; user < 12; user++) {
      const liked = new Set([...likedGenres(user)].map((genre) => GENRES[genre]!));
      const recommendations = await recommender.recommend(`u${user}`, { k: 5 });
      const tags = await tagsOf(recommender, recommendations);
      hits += tags.filter((tag) => liked.has(tag)).length;
    }
    // A third of the catalog is in a user's two genres; their co-raters' picks fill far more of the top 5 than that.
    expect(hits / 60).toBeGreaterThanOrEqual(0.6);
  });

  it('gives a user with no data persona or global recommendations, not an error', async () => {
    const { service: recommender } = await service();
    const recommendations = await recommender.recommend('stranger', { k: 5 });
    expect(recommendations).toHaveLength(5);
    expect(
      recommendations.every(
        (recommendation) => recommendation.level === 'persona' || recommendation.level === 'global',
      ),
    ).toBe(true);
  });

  it('rates by fuzzy title, lists ambiguous candidates and writes nothing on bad input', async () => {
    const { service: recommender } = await service();
    const before = (await recommender.storage.ratingsOf('newcomer')).length;
    await expect(recommender.rate('newcomer', 'Film number', 4)).rejects.toThrow(/ambiguous: m\d+ "Film number/);
    await expect(recommender.rate('newcomer', 'no such film at all', 4)).rejects.toThrow(/no catalog item/);
    await expect(recommender.rate('newcomer', 'm1', 6)).rejects.toThrow(/1 to 5/);
    expect(await recommender.storage.ratingsOf('newcomer')).toHaveLength(before);
    const rating = await recommender.rate('newcomer', 'film number 12', 5);
    expect(rating.itemId).toBe('m12');
  });

  it('folds in a new rating at once: the prediction moves toward it without retraining', async () => {
    const { service: recommender } = await service();
    const before = await recommender.predict('fresh', 'm4');
    for (const id of ['m4', 'm10', 'm16', 'm22']) await recommender.rate('fresh', id, 5);
    const after = await recommender.predict('fresh', 'm28');
    expect(after.predicted).toBeGreaterThan(before.predicted);
  });
});

it('keeps the test database free of half-written items when a transaction fails', async () => {
  const recommender = new RecommenderService({ storage: sqliteStorage() });
  await expect(
    recommender.storage.addRatings([{ userId: 'a', itemId: 'missing', stars: 3, at: new Date(), source: 'explicit' }]),
  ).rejects.toThrow();
  expect(await recommender.storage.allRatings()).toHaveLength(0);
});

describe('user ids', () => {
  it('refuses an id that memory refuses at every entry point, so nothing is stored that forgetting cannot reach', async () => {
    const { service: recommender } = await service();
    const long = 'x'.repeat(201);
    const refused = 'user id is longer than 200 characters';
    await expect(recommender.rate(long, 'm1', 4)).rejects.toThrow(refused);
    await expect(recommender.predict(long, 'm1')).rejects.toThrow(refused);
    await expect(recommender.recommend(long)).rejects.toThrow(refused);
    await expect(recommender.persona(long)).rejects.toThrow(refused);
    await expect(
      recommender.storage.addRatings([{ userId: long, itemId: 'm1', stars: 4, at: new Date(), source: 'explicit' }]),
    ).rejects.toThrow(refused);
    await expect(recommender.storage.setDemographics([{ userId: long, demographics: {} }])).rejects.toThrow(refused);
    expect(await recommender.storage.ratingsOf(long)).toEqual([]);
    expect(await recommender.storage.demographicsOf(long)).toBeUndefined();
    expect((await recommender.train({ factors: 4, personas: 2 })).users).toBe(40);
  });
});

describe('personas', () => {
  const counts = (memory: SqliteMemoryStore): unknown[] =>
    ['namespaces', 'persona_members'].map((table) => memory.db.prepare(`SELECT count(*) FROM ${table}`).pluck().get());

  it('shows a persona without writing anything, also for a user with no data', async () => {
    const { service: recommender, memory } = await service();
    const before = counts(memory);
    expect(await recommender.persona('nobody')).toMatchObject({
      persona: expect.stringMatching(/^persona \d$/),
      assignedBy: 'auto',
      ratings: 0,
    });
    expect(await recommender.automaticPersona('nobody')).toBe((await recommender.persona('nobody')).persona);
    await recommender.persona('u3');
    expect(counts(memory)).toEqual(before);
    expect(await memory.personaOf(userScope('nobody'))).toBeUndefined();
  });

  it('lets a hand placement win when shown and in the persona backoff, until it is cleared', async () => {
    const { service: recommender, memory } = await service();
    const automatic = (await recommender.persona('stranger')).persona;
    const placed = automatic === 'persona 1' ? 'persona 2' : 'persona 1';
    const personasNamed = async (): Promise<string[]> => [
      ...new Set(
        (await recommender.recommend('stranger', { k: 10 })).flatMap((entry) =>
          entry.why.flatMap((why) => (why.kind === 'persona' ? [why.persona] : [])),
        ),
      ),
    ];
    // Nothing is known about a stranger: their "persona" is everyone's prior, and no reason claims otherwise.
    expect(await personasNamed()).toEqual([]);

    await memory.setPersona(userScope('stranger'), placed);
    expect(await recommender.persona('stranger')).toMatchObject({
      persona: placed,
      assignedBy: 'hand',
      members: expect.any(Number),
    });
    expect((await recommender.persona('stranger')).likes.length).toBeGreaterThan(0);
    expect(await personasNamed()).toEqual([placed]);

    await memory.setPersona(userScope('stranger'), null);
    expect(await recommender.persona('stranger')).toMatchObject({ persona: automatic, assignedBy: 'auto' });
    expect(await personasNamed()).toEqual([]);
  });

  it('shows a hand-placed persona before any training: its name, members and shared memories', async () => {
    const { service: recommender, memory } = serviceOver();
    await expect(recommender.persona('ada')).rejects.toThrow('no trained model yet');
    await memory.setPersona(userScope('ada'), 'owls');
    await memory.setPersona(userScope('bo'), 'owls');
    await memory.changeFacts(personaScope('owls'), [
      { op: 'add', fact: { text: 'owls like late screenings', kind: 'preference' } },
    ]);
    expect(await recommender.persona('ada')).toEqual({
      persona: 'owls',
      assignedBy: 'hand',
      members: 2,
      sharedMemories: 1,
      weights: [],
      level: 'global',
      ratings: 0,
      statements: 0,
      likes: [],
    });
  });
});

describe('explanations', () => {
  it('give only reasons that argue for a recommendation', async () => {
    const { service: recommender } = await service();
    for (const user of ['stranger', 'u0']) {
      for (const entry of await recommender.recommend(user, { k: 40 })) {
        for (const why of entry.why) {
          if (why.kind === 'persona') expect(why.text).toMatch(/above average/);
          if (why.kind === 'rating') expect(why.stars).toBeGreaterThan(3);
        }
      }
    }
  });

  it('give only reasons that argue for a prediction, whichever way it goes', async () => {
    const { service: recommender } = await service();
    for (let item = 0; item < 12; item++) {
      const prediction = await recommender.predict('stranger', `m${item}`);
      for (const why of prediction.why)
        if (why.kind === 'persona')
          expect(why.text).toMatch(prediction.predicted >= 3 ? /above average/ : /below average/);
    }
  });

  it('invent nothing when nobody has rated anything', async () => {
    const recommender = new RecommenderService({ storage: sqliteStorage() });
    const { items } = generated();
    await recommender.storage.upsertItems(items.slice(0, 5));
    const texts = (await recommender.recommend('x', { k: 5 })).flatMap((entry) => entry.why.map((why) => why.text));
    expect(new Set(texts)).toEqual(new Set(['nobody has rated anything yet']));
    await recommender.storage.addRatings([
      { userId: 'bo', itemId: 'm0', stars: 5, at: new Date(), source: 'explicit' },
    ]);
    expect((await recommender.predict('x', 'm0')).why.map((why) => why.text)).toEqual([
      'fewer than 5 people have rated it, so this is near the average of all ratings',
    ]);
    expect((await recommender.predict('x', 'm1')).why.map((why) => why.text)).toEqual(['nobody has rated it yet']);
  });
});
