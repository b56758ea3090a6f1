import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeEmbedder } from '../../memory/embedders/fake.js';
import { SqliteMemoryStore } from '../../memory/sqlite/store.js';
import { userScope } from '../../memory/types.js';
import { tempDir } from '../helpers/tmp.js';

describe('crash safety', () => {
  it('a process killed with SIGKILL mid-ingest leaves a file with every committed ingest intact', async () => {
    const path = join(tempDir(), 'crash.db');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, '../fixtures/ingest-until-killed.ts'), path],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let committed = -1;
    await new Promise<void>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code) => reject(new Error(`child exited early with ${code}`)));
      child.stdout.on('data', (chunk: Buffer) => {
        for (const match of chunk.toString().matchAll(/committed (\d+)/g)) committed = Number(match[1]);
        // Kill while later batches are being written.
        if (committed >= 5) {
          child.removeAllListeners('exit');
          child.kill('SIGKILL');
          child.on('exit', () => resolve());
        }
      });
    });
    expect(committed).toBeGreaterThanOrEqual(5);

    const store = SqliteMemoryStore.open(path, { embedder: new FakeEmbedder({ dims: 64 }) });
    expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
    const episodes = await store.list(userScope('crash-user'));
    // Every reported batch is whole; a batch cut off by the kill is absent, never partial.
    expect(episodes.length % 200).toBe(0);
    expect(episodes.length / 200).toBeGreaterThanOrEqual(committed + 1);
    for (let batch = 0; batch <= committed; batch++) {
      expect(episodes.filter((episode) => episode.session === `b${batch}`)).toHaveLength(200);
    }
    const [hit] = await store.search([userScope('crash-user')], `batch ${committed} turn 7`);
    expect(hit).toBeDefined();
    await store.close();
  });
});
