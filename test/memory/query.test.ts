import { describe, expect, it } from 'vitest';
import { FakeEmbedder, ruleQueryGenerator, userScope } from '../../memory/index.js';
import { SqliteMemoryStore } from '../../memory/sqlite/store.js';

const now = new Date('2026-06-01T12:00:00Z');

describe('the offline query rules', () => {
  it('search for the content words, never a clitic that would match every possessive', async () => {
    const plan = await ruleQueryGenerator({ text: "When is my mother's birthday? We're planning it", now });
    expect(plan.terms).toEqual(expect.arrayContaining(['mother', 'birthday', 'planning']));
    expect(plan.terms.filter((term) => /^['’]/.test(term))).toEqual([]);
    expect(plan.embedText).not.toMatch(/'s|'re/);
  });
});

describe('the session-context boost', () => {
  it('treats a memory without neighbours as its own context, so a long conversation does not bury it', async () => {
    const store = SqliteMemoryStore.open(':memory:', { embedder: new FakeEmbedder({ dims: 32 }) });
    const ada = userScope('ada');
    await store.addEpisodes(ada, [
      { text: 'We talked about the trip for hours', session: 'long' },
      { text: 'The flight seats on that trip were cramped', session: 'long' },
      { text: 'Anyway the trip was fine', session: 'long' },
      { text: 'I always book an aisle seat on flights', session: 'said-once' },
    ]);
    const [fact] = await store.changeFacts(ada, [{ op: 'add', fact: { text: 'prefers aisle seats on flights' } }]);
    // The hand-weighted sum, where the boost is visible as a share of the score (the learned stage replaces it).
    const hits = await store.search([ada], 'aisle seat flights', { k: 10, weights: { learned: 0 } });
    const lone = hits.find((hit) => hit.memory.session === 'said-once')!;
    const factHit = hits.find((hit) => hit.memory.id === fact!.id)!;
    for (const hit of [lone, factHit]) {
      expect(hit.parts.context).toBeGreaterThan(0);
      // Half of its own score before the boost (the default context weight is 0.5).
      expect(hit.parts.context! / (hit.score - hit.parts.context!)).toBeCloseTo(0.5, 5);
    }
    await store.close();
  });
});
