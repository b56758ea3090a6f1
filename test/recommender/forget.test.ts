import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeEmbedder } from '../../memory/embedders/fake.js';
import { SqliteMemoryStore } from '../../memory/sqlite/store.js';
import { userScope } from '../../memory/types.js';
import { createRandom } from '../../recommender/model/random.js';
import type { Item, Rating } from '../../recommender/types.js';
import { STORAGE_MODULES } from '../../src/storage.js';
import { serviceOver } from '../helpers/recommender.js';

const fileBytes = (path: string): Buffer[] =>
  ['', '-wal'].map((suffix) => (existsSync(path + suffix) ? readFileSync(path + suffix) : Buffer.alloc(0)));

describe('forgetting one user among many', () => {
  it('leaves no byte of their id, words or unique demographics anywhere in the file: memories, namespaces, ratings, demographics, the trained model', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'mnemo-forget-'));
    const path = join(directory, 'mnemo.db');
    try {
      const memory = SqliteMemoryStore.open(path, { embedder: new FakeEmbedder(), modules: STORAGE_MODULES });
      const { service: recommender } = serviceOver(memory);
      const random = createRandom(3);
      const items: Item[] = Array.from({ length: 300 }, (_, index) => ({
        id: `item-${index}`,
        title: `Film ${index}`,
        description: null,
        tags: [],
        year: null,
        metadata: {},
      }));
      await recommender.storage.upsertItems(items);
      // Enough users and ratings that every b-tree has interior pages, whose divider keys copy ids of live rows.
      const users = Array.from(
        { length: 400 },
        (_, index) => `user-${String(index).padStart(3, '0')}-${index === 200 ? 'zyxwvutsrq' : 'ordinary'}@example.org`,
      );
      const target = users[200]!;
      const ratings: Rating[] = users.flatMap((userId) =>
        items
          .filter(() => random.next() < 0.1)
          .map((item) => ({
            userId,
            itemId: item.id,
            stars: 1 + Math.floor(random.next() * 5),
            at: new Date(1_700_000_000_000),
            source: 'explicit' as const,
          })),
      );
      await recommender.storage.addRatings(ratings);
      // The target's occupation is theirs alone, and four others share one: neither may reach the trained model.
      const occupation = (index: number): string =>
        index === 200 ? 'qoppadiver' : index >= 300 && index < 304 ? 'fourfoldsmith' : 'writer';
      await recommender.storage.setDemographics(
        users.map((userId, index) => ({ userId, demographics: { occupation: occupation(index) } })),
      );
      for (const userId of users) {
        await memory.addEpisodes(userScope(userId), [
          { text: userId === target ? 'my cat is called qoppaxenon' : 'my cat is called tom' },
        ]);
      }
      await recommender.train({ factors: 4, personas: 3 });
      const model = (await recommender.storage.latestModel())!.model;
      expect(model.includes('writer')).toBe(true);
      expect(model.includes('fourfoldsmith')).toBe(false);
      const unique = [target, 'qoppaxenon', 'qoppadiver'].map((text) => Buffer.from(text));
      expect(fileBytes(path).some((bytes) => unique.some((text) => bytes.includes(text)))).toBe(true);

      await memory.forget(userScope(target));

      for (const bytes of fileBytes(path))
        for (const text of unique) expect(bytes.includes(text), `${text.toString()} survives`).toBe(false);
      // Everyone else is intact, and the model still serves.
      expect((await recommender.storage.ratingsOf(users[201]!)).length).toBeGreaterThan(0);
      expect((await memory.list(userScope(users[199]!))).map((entry) => entry.text)).toEqual(['my cat is called tom']);
      expect(await recommender.recommend(users[201]!, { k: 3 })).toHaveLength(3);
      await memory.close();
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
