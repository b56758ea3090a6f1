import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeEmbedder } from '../../memory/embedders/fake.js';
import type { Embedder } from '../../memory/embedders/types.js';
import { openDatabase } from '../../memory/sqlite/database.js';
import { reindex } from '../../memory/sqlite/reindex.js';
import { SqliteMemoryStore } from '../../memory/sqlite/store.js';
import { readVectorIndexInfo } from '../../memory/sqlite/vectors.js';
import { userScope } from '../../memory/types.js';
import { tempDir } from '../helpers/tmp.js';

const ada = userScope('ada');

describe('reindex', () => {
  it('misses nothing another process adds or deletes while it runs', async () => {
    const path = join(tempDir(), 'm.db');
    const old = new FakeEmbedder({ dims: 16 });
    const store = SqliteMemoryStore.open(path, { embedder: old });
    const stored = await store.addEpisodes(
      ada,
      Array.from({ length: 600 }, (_, index) => ({ text: `turn ${index} about tea` })),
    );
    await store.close();

    const next = new FakeEmbedder({ dims: 32 });
    let calls = 0;
    const meanwhile: Embedder = {
      id: 'fake-next',
      dims: 32,
      async embed(texts, options) {
        if (++calls === 2) {
          // Another process writes between two pages of the reindex.
          const other = SqliteMemoryStore.open(path, { embedder: old });
          await other.forget(ada, stored[5]!.id);
          await other.addEpisodes(ada, [{ text: 'added during the reindex' }]);
          await other.close();
        }
        return next.embed(texts, options);
      },
    };
    const db = openDatabase(path);
    expect(await reindex(db, meanwhile, { batchSize: 256 })).toEqual({ memories: 600 });
    const { table } = readVectorIndexInfo(db)!;
    expect(
      db
        .prepare(`SELECT count(*) FROM ${table} v WHERE NOT EXISTS (SELECT 1 FROM memories m WHERE m.id = v.rowid)`)
        .pluck()
        .get(),
    ).toBe(0);
    expect(
      db
        .prepare(`SELECT count(*) FROM memories m WHERE NOT EXISTS (SELECT 1 FROM ${table} v WHERE v.rowid = m.id)`)
        .pluck()
        .get(),
    ).toBe(0);
    expect(
      db
        .prepare("SELECT count(*) FROM sqlite_master WHERE name LIKE 'reindex_%' OR name = 'memory_vectors_1'")
        .pluck()
        .get(),
    ).toBe(0);
    db.close();
    const reopened = SqliteMemoryStore.open(path, { embedder: meanwhile });
    expect((await reopened.search([ada], 'added during the reindex'))[0]?.memory.text).toBe('added during the reindex');
    await reopened.close();
  });

  it('lets another open store follow the swap: on with the same embedder, a clear refusal with another', async () => {
    const path = join(tempDir(), 'm.db');
    const embedder = new FakeEmbedder({ dims: 16 });
    const reindexing = SqliteMemoryStore.open(path, { embedder });
    const running = SqliteMemoryStore.open(path, { embedder });
    await reindexing.addEpisodes(ada, [{ text: 'I adopted a greyhound' }]);
    await reindex(reindexing.db, embedder);
    await running.addEpisodes(ada, [{ text: 'she is four years old' }]);
    expect((await running.search([ada], 'greyhound')).map((hit) => hit.memory.text)).toContain('I adopted a greyhound');
    await reindex(reindexing.db, new FakeEmbedder({ dims: 32, id: 'fake-other' }));
    await expect(running.search([ada], 'greyhound')).rejects.toThrow(
      /indexed with embedder fake-other .*mnemo reindex/,
    );
    await reindexing.close();
    await running.close();
  });
});
