import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cliEnvironment, mnemo } from '../helpers/cli.js';
import { sharedGloveEmbedder } from '../helpers/glove.js';

const line = (value: unknown): string => `${JSON.stringify(value)}\n`;

beforeAll(async () => {
  await sharedGloveEmbedder();
});

/** Writes `content` to a file in the test's data directory and returns its path. */
function file(env: NodeJS.ProcessEnv, name: string, content: string): string {
  const path = join(env.HOME!, name);
  writeFileSync(path, content);
  return path;
}

const texts = async (env: NodeJS.ProcessEnv, user: string): Promise<string[]> =>
  (JSON.parse((await mnemo(env, ['memories', '--user', user, '--all', '--json'])).stdout) as Array<{ text: string }>)
    .map((memory) => memory.text)
    .sort();

describe('mnemo ingest', () => {
  it('reports every bad line in one pass, whatever is wrong with it', async () => {
    const env = cliEnvironment();
    const bad = file(
      env,
      'bad.jsonl',
      line({ text: 'fine' }) +
        line({ text: 'x'.repeat(100_001) }) +
        'not json\n' +
        line({ text: 'leap', at: '2024-02-30T00:00:00Z' }) +
        line({ text: 'long session', session: 's'.repeat(501) }) +
        line({ text: 'a long speaker', role: 'r'.repeat(201) }),
    );
    const result = await mnemo(env, ['ingest', '--user', 'ada', bad]);
    expect(result.code).toBe(1);
    // One line (scripts read the first line of stderr), every bad line listed in it.
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stderr.split(/: (?=line \d)|; /)).toEqual([
      `mnemo ingest: ${bad}: 5 bad lines, nothing was written`,
      'line 2: "text" is longer than 100000 characters',
      expect.stringMatching(/^line 3: not valid JSON/),
      'line 4: "at" must be an ISO-8601 date that exists, e.g. 2024-05-08T13:56:00Z',
      'line 5: "session" is longer than 500 characters',
      'line 6: "role" is longer than 200 characters\n',
    ]);
    expect(await texts(env, 'ada')).toEqual([]);
  });

  it('stores a real leap day and refuses an impossible date instead of moving it', async () => {
    const env = cliEnvironment();
    const leap = file(env, 'leap.jsonl', line({ text: 'leap day', at: '2024-02-29T12:00:00Z' }));
    expect((await mnemo(env, ['ingest', '--user', 'ada', leap])).code).toBe(0);
    const impossible = file(env, 'impossible.jsonl', line({ text: 'no such day', at: '2023-02-29T12:00:00Z' }));
    expect((await mnemo(env, ['ingest', '--user', 'ada', impossible])).stderr).toMatch(
      /line 1: "at" must be an ISO-8601 date that exists/,
    );
    const [stored] = JSON.parse((await mnemo(env, ['memories', '--user', 'ada', '--all', '--json'])).stdout) as Array<{
      at: string;
    }>;
    expect(stored!.at).toBe('2024-02-29T12:00:00.000Z');
  });

  it('reads a file that starts with a UTF-8 byte-order mark', async () => {
    const env = cliEnvironment();
    const bom = file(env, 'bom.jsonl', `\uFEFF${line({ text: 'written on Windows' })}`);
    expect(await mnemo(env, ['ingest', '--user', 'ada', bom])).toMatchObject({
      code: 0,
      stdout: 'ingested 1 episode for ada\n',
    });
  });

  it('ingests an empty file as zero turns', async () => {
    const env = cliEnvironment();
    expect(await mnemo(env, ['ingest', '--user', 'ada', file(env, 'empty.jsonl', '')])).toMatchObject({
      code: 0,
      stdout: 'ingested 0 episodes for ada\n',
      stderr: '',
    });
    expect(await mnemo(env, ['ingest', '--user', 'ada', '-'], '\n\n')).toMatchObject({
      code: 0,
      stdout: 'ingested 0 episodes for ada\n',
    });
  });

  it('skips lines whose id the user already has, so ingesting a file twice stores it once', async () => {
    const env = cliEnvironment();
    const turns = file(
      env,
      'turns.jsonl',
      line({ text: 'one', id: 'm1' }) + line({ text: 'two', id: 2 }) + line({ text: 'no id' }),
    );
    expect((await mnemo(env, ['ingest', '--user', 'ada', turns])).stdout).toBe('ingested 3 episodes for ada\n');
    expect((await mnemo(env, ['ingest', '--user', 'ada', turns])).stdout).toBe(
      'ingested 1 episode for ada (2 already stored, skipped)\n',
    );
    expect(await texts(env, 'ada')).toEqual(['no id', 'no id', 'one', 'two']);
    // Ids are per user: another user's turn with the same id is stored.
    expect((await mnemo(env, ['ingest', '--user', 'bob', turns])).stdout).toBe('ingested 3 episodes for bob\n');
  });

  it('waits for another process writing to the file; a command that gives up says the database is busy', async () => {
    const env = cliEnvironment();
    expect((await mnemo(env, ['remember', '--user', 'ada', 'creates the file'])).code).toBe(0);
    const turns = file(env, 'turns.jsonl', line({ text: 'written after the lock is released' }));

    // Longer than the default 5 s busy timeout: ingest waits, an ordinary write gives up.
    const released = holdWriteLock(env.MNEMO_DB!, 6_500);
    await released.locked;
    expect(await mnemo(env, ['ingest', '--user', 'ada', turns])).toMatchObject({
      code: 0,
      stdout: 'ingested 1 episode for ada\n',
    });
    await released.exited;

    const held = holdWriteLock(env.MNEMO_DB!, 60_000);
    await held.locked;
    try {
      expect(await mnemo(env, ['remember', '--user', 'ada', 'too late'])).toMatchObject({
        code: 1,
        stderr: 'mnemo remember: the database is busy (another mnemo process is writing); try again\n',
      });
    } finally {
      held.kill();
    }
  });
});

/** Another process that takes the database's write lock and keeps it for `milliseconds`. */
function holdWriteLock(
  path: string,
  milliseconds: number,
): { locked: Promise<void>; exited: Promise<void>; kill(): void } {
  const script = `const db = new (require('better-sqlite3'))(process.argv[1]); db.exec('BEGIN IMMEDIATE'); console.log('locked');
    setTimeout(() => { db.exec('COMMIT'); db.close(); }, ${milliseconds});`;
  const child = spawn(process.execPath, ['-e', script, path], {
    cwd: join(import.meta.dirname, '../..'),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return {
    locked: new Promise((resolve, reject) => {
      child.on('error', reject);
      child.stdout.on('data', () => resolve());
    }),
    exited: new Promise((resolve) => child.on('exit', () => resolve())),
    kill: () => child.kill(),
  };
}
