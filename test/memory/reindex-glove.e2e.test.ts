import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeEmbedder } from '../../memory/embedders/fake.js';
import type { Embedder } from '../../memory/embedders/types.js';
import { reindex } from '../../memory/sqlite/reindex.js';
import { SqliteMemoryStore } from '../../memory/sqlite/store.js';
import { readVectorIndexInfo } from '../../memory/sqlite/vectors.js';
import { userScope } from '../../memory/types.js';
import { sharedGloveEmbedder } from '../helpers/glove.js';
import { tempDir } from '../helpers/tmp.js';

const ada = userScope('ada');

// End-to-end: the real GloVe embedder, whose per-memory word ids a reindex rewrites.
describe('reindex with GloVe', () => {
  it('leaves the file as it was when it fails halfway', { timeout: 60_000 }, async () => {
    const path = join(tempDir(), 'm.db');
    // GloVe keeps word ids per memory, which a reindex rewrites.
    const old = await sharedGloveEmbedder();
    const store = SqliteMemoryStore.open(path, { embedder: old });
    await store.addEpisodes(
      ada,
      Array.from({ length: 300 }, (_, index) => ({ text: `turn ${index} about tea` })),
    );
    const wordIds = () => store.db.prepare('SELECT group_concat(hex(word_ids)) FROM memories').pluck().get();
    const before = wordIds();
    expect(before).toBeTruthy();
    let calls = 0;
    const failing: Embedder = {
      id: 'fake-failing',
      dims: 32,
      async embed(texts) {
        if (++calls === 2) throw new Error('the embedding server went away');
        return new FakeEmbedder({ dims: 32 }).embed(texts);
      },
    };
    await expect(reindex(store.db, failing, { batchSize: 100 })).rejects.toThrow('went away');
    expect(readVectorIndexInfo(store.db)?.embedderId).toBe(old.id);
    expect(wordIds()).toBe(before);
    expect(
      store.db
        .prepare("SELECT count(*) FROM sqlite_master WHERE name LIKE 'reindex_%' OR name = 'memory_vectors_2'")
        .pluck()
        .get(),
    ).toBe(0);
    expect((await store.search([ada], 'turn 7 about tea')).length).toBeGreaterThan(0);
    await store.close();
  });
});
