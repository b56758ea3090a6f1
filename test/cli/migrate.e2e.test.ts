import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnvironment, mnemo } from '../helpers/cli.js';
import { type PgliteServer, startPglite } from '../helpers/pglite.js';

let server: PgliteServer;
beforeAll(async () => {
  server = await startPglite();
}, 60_000);
afterAll(() => server?.stop());

describe('mnemo migrate', () => {
  it('moves a file to PostgreSQL with counts, resumes, and serves every command from there', async () => {
    const env = cliEnvironment();
    expect((await mnemo(env, ['remember', '--user', 'ada', 'her passport is in the blue drawer'])).code).toBe(0);
    expect((await mnemo(env, ['remember', '--user', 'bob', 'bob takes the 7:40 train'])).code).toBe(0);

    const moved = await mnemo(env, ['migrate', '--from', env.MNEMO_DB!, '--to', server.url]);
    expect(moved).toMatchObject({ code: 0, stderr: '' });
    expect(moved.stdout).toMatch(/^memories\s+2\s+2$/m);
    expect(moved.stdout).toMatch(/^scopes\s+2\s+2$/m);
    expect(moved.stdout).toContain('verified: every scope copied');

    const postgres = { ...env, MNEMO_DB: server.url };
    const found = await mnemo(postgres, ['search', '--user', 'ada', '--json', 'where is my passport?']);
    expect(found.code).toBe(0);
    expect((JSON.parse(found.stdout) as Array<{ text: string }>).map((hit) => hit.text)).toEqual([
      'her passport is in the blue drawer',
    ]);

    const again = await mnemo(env, ['migrate', '--from', env.MNEMO_DB!, '--to', server.url, '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ skippedScopes: 2, verified: true });
  }, 60_000);

  it('says what is missing, without touching either database', async () => {
    const env = cliEnvironment();
    const missing = await mnemo(env, ['migrate', '--from', env.MNEMO_DB!]);
    expect(missing).toMatchObject({ code: 2, stdout: '' });
    expect(missing.stderr).toBe('mnemo migrate: --to is required\n');
  });
});
