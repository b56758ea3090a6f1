import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeEmbedder, userScope } from '../../memory/index.js';
import { SqliteMemoryStore } from '../../memory/sqlite/store.js';
import { runScaleBench } from '../../src/bench/scale.js';
import { tempDir } from '../helpers/tmp.js';

describe('mnemo bench scale', () => {
  it('fills the file with the user and others, times searches, and forgets one memory of the user', async () => {
    const path = join(tempDir(), 'scale.db');
    const phases = new Set<string>();
    const report = await runScaleBench({
      embedder: new FakeEmbedder({ dims: 16 }),
      episodes: 3000,
      userEpisodes: 1200,
      queries: 5,
      path,
      onProgress: ({ phase }) => phases.add(phase),
    });
    expect(report).toMatchObject({ episodes: 3000, userEpisodes: 1200, queries: 5 });
    expect(report.searchLatencyMs.p50).toBeLessThanOrEqual(report.searchLatencyMs.p95);
    expect(report.forgetSeconds).toBeGreaterThanOrEqual(0);
    expect([...phases]).toEqual(['ingest', 'search']);
    const store = SqliteMemoryStore.open(path, { embedder: new FakeEmbedder({ dims: 16 }) });
    expect(await store.list(userScope('measured-user'), { limit: 5000 })).toHaveLength(1199);
    expect(await store.list(userScope('user-0'), { limit: 5000 })).toHaveLength(1000);
    await store.close();
  });

  it('a second run on a kept file replaces the first run’s users', async () => {
    const path = join(tempDir(), 'scale.db');
    const run = () =>
      runScaleBench({ embedder: new FakeEmbedder({ dims: 16 }), episodes: 1500, userEpisodes: 500, queries: 2, path });
    await run();
    await run();
    const store = SqliteMemoryStore.open(path, { embedder: new FakeEmbedder({ dims: 16 }) });
    expect(await store.list(userScope('measured-user'), { limit: 5000 })).toHaveLength(499);
    expect(await store.list(userScope('user-0'), { limit: 5000 })).toHaveLength(1000);
    await store.close();
  });
});
