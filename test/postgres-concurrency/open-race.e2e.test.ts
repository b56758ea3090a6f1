import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { describeWithConcurrencyServer, dropFreshDatabases, freshDatabase } from '../helpers/postgres.js';
import { openReplica } from './open.js';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'open-replica.ts');

/** Runs the replica fixture in its own node process (end-to-end: it spawns, see vitest.config.ts). */
function startReplica(url: string, name: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, url, name], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

// Replicas deployed together start at once on a new database. Concurrent CREATE TABLE / PostgresSaver.setup() fail
// with 23505 on PostgreSQL unless serialized: every one of them must come up.
describeWithConcurrencyServer('four processes opening a fresh PostgreSQL database at once', (server) => {
  afterAll(async () => {
    await dropFreshDatabases(server);
  });

  it('all four migrate, set up the checkpointer and write', async () => {
    const url = await freshDatabase(server);
    const names = ['r1', 'r2', 'r3', 'r4'];
    const exits = await Promise.all(names.map((name) => startReplica(url, name)));
    for (const [i, exit] of exits.entries()) expect(exit, `${names[i]}: ${exit.stderr}`).toMatchObject({ code: 0 });
    const reports = exits.map((exit) => JSON.parse(exit.stdout) as { name: string; id: string; table: string });
    expect(reports.map((report) => report.name)).toEqual(names);
    expect(new Set(reports.map((report) => report.table)).size).toBe(1);

    const store = await openReplica(url);
    try {
      expect((await store.scopes('user')).map((scope) => (scope.kind === 'user' ? scope.id : '')).sort()).toEqual(
        names,
      );
      const { rows } = await store.backend.pool.query<{ n: number }>('SELECT count(*) AS n FROM checkpoint_migrations');
      expect(rows[0]!.n).toBeGreaterThan(0);
    } finally {
      await store.close();
    }
  });
});
