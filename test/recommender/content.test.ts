import { describe, expect, it } from 'vitest';
import { FakeEmbedder } from '../../memory/embedders/fake.js';
import { SqliteMemoryStore } from '../../memory/sqlite/store.js';
import type { Item } from '../../recommender/types.js';
import { STORAGE_MODULES } from '../../src/storage.js';
import { serviceOver } from '../helpers/recommender.js';

const item = (id: string, title: string, description: string, tags: string[]): Item => ({
  id,
  title,
  description,
  tags,
  year: 2000,
  metadata: {},
});

describe('content similarity', () => {
  it("predicts unseen items from the user's ratings of items with similar text, and says which", async () => {
    const memory = SqliteMemoryStore.open(':memory:', {
      embedder: new FakeEmbedder({ dims: 256 }),
      modules: STORAGE_MODULES,
    });
    const { service: recommender } = serviceOver(memory, { embedder: new FakeEmbedder({ dims: 256 }) });
    await recommender.importItems([
      item('a1', 'Alien', 'a crew in deep space hunted by a creature', ['sci-fi', 'horror']),
      item('a2', 'Aliens', 'marines in deep space fight creatures', ['sci-fi', 'action']),
      item('r1', 'Notting Hill', 'a bookseller in london falls in love', ['romance', 'comedy']),
      item('r2', 'Love Actually', 'london couples fall in love at christmas', ['romance', 'comedy']),
    ]);
    await recommender.rate('kim', 'a1', 5);
    await recommender.rate('kim', 'r1', 1);
    const space = await recommender.predict('kim', 'Aliens');
    const romance = await recommender.predict('kim', 'Love Actually');
    expect(space.predicted).toBeGreaterThan(3);
    expect(romance.predicted).toBeLessThan(3);
    expect(space.why.map((reason) => reason.text)).toContain('similar to Alien, which you rated 5');
    expect(romance.why.map((reason) => reason.text)).toContain('similar to Notting Hill, which you rated 1');
    const [first, second] = await recommender.recommend('kim', { k: 2 });
    expect(first!.itemId).toBe('a2');
    // Recommended, yet most like a film they disliked: that is no reason to recommend it.
    expect(second!.itemId).toBe('r2');
    expect(second!.why.map((reason) => reason.text)).toEqual(['nobody has rated it yet']);
  });
});
