import { chmodSync, closeSync, existsSync, openSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { cliEnvironment, mnemo } from '../helpers/cli.js';
import { sharedGloveEmbedder } from '../helpers/glove.js';

// Issue 11: bad files passed silently. Each command must refuse them with exit 1 and one line naming the file and
// the cause, and write nothing.

beforeAll(async () => {
  await sharedGloveEmbedder();
});

const restore: string[] = [];
afterEach(() => {
  for (const path of restore.splice(0)) chmodSync(path, 0o755);
});

/** Exit 1, one line on stderr that says `pattern`, never "unexpected error". */
function refused(result: { code: number; stderr: string }, pattern: RegExp): void {
  expect(result.stderr).not.toContain('unexpected error');
  expect(result.stderr).toMatch(pattern);
  expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(result.code).toBe(1);
}

/** A database with one fact and enough episodes for a few dozen pages. */
async function database(env: NodeJS.ProcessEnv): Promise<string> {
  const turns = Array.from({ length: 60 }, (_, index) =>
    JSON.stringify({ text: `turn ${index} about films ${'x'.repeat(400)}` }),
  );
  expect((await mnemo(env, ['ingest', '--user', 'ada', '-'], `${turns.join('\n')}\n`)).code).toBe(0);
  expect((await mnemo(env, ['remember', '--user', 'ada', 'likes films'])).code).toBe(0);
  return env.MNEMO_DB!;
}

// Latin-1 "café": 0xe9 followed by a quote is not UTF-8.
const latin1Line = Buffer.concat([
  Buffer.from('{"text":"fine"}\n{"text":"caf'),
  Buffer.from([0xe9]),
  Buffer.from('"}\n'),
]);

describe('text files that are not UTF-8', () => {
  it('ingest refuses a file naming its byte and line, and creates no database', async () => {
    const env = cliEnvironment();
    const file = join(env.HOME!, 'data.jsonl');
    writeFileSync(file, latin1Line);
    refused(
      await mnemo(env, ['ingest', '--user', 'ada', file]),
      new RegExp(`^mnemo ingest: ${file}: not valid UTF-8 at byte 29 \\(line 2\\)\\n$`),
    );
    expect(existsSync(env.MNEMO_DB!)).toBe(false);
  });

  it('ingest refuses stdin too', async () => {
    const env = cliEnvironment();
    // Raw bytes: the helper's string stdin would reach the command re-encoded as UTF-8.
    let stderr = '';
    const code = await runCli(['ingest', '--user', 'bob', '-'], {
      stdout: { write: () => true },
      stderr: { write: (text: string) => (stderr += text) },
      stdin: Readable.from([latin1Line]),
      env,
    });
    refused({ code, stderr }, /^mnemo ingest: stdin: not valid UTF-8 at byte 29 \(line 2\)\n$/);
    expect(JSON.parse((await mnemo(env, ['memories', '--user', 'bob', '--all', '--json'])).stdout)).toEqual([]);
  });

  it('catalog import refuses a CSV file', async () => {
    const env = cliEnvironment();
    const file = join(env.HOME!, 'items.csv');
    writeFileSync(
      file,
      Buffer.concat([Buffer.from('id,title\nm1,Am'), Buffer.from([0xe9, 0x6c]), Buffer.from('ie\n')]),
    );
    refused(
      await mnemo(env, ['catalog', 'import', file]),
      new RegExp(`^mnemo catalog: ${file}: not valid UTF-8 at byte 15 \\(line 2\\)\\n$`),
    );
    expect(existsSync(env.MNEMO_DB!)).toBe(false);
  });
});

describe('damaged database files', () => {
  it('refuses a file with a corrupted middle page in remember, export and search, writing nothing', async () => {
    const env = cliEnvironment();
    const path = await database(env);
    const pages = statSync(path).size / 4096;
    const descriptor = openSync(path, 'r+');
    writeSync(descriptor, Buffer.alloc(4096, 0x5a), 0, 4096, Math.floor(pages / 2) * 4096);
    closeSync(descriptor);
    const before = readFileSync(path);
    for (const argv of [
      ['remember', '--user', 'ada', 'likes tea'],
      ['export', '--user', 'ada'],
      ['search', '--user', 'ada', 'films'],
    ]) {
      const result = await mnemo(env, argv);
      refused(
        result,
        new RegExp(`^mnemo ${argv[0]}: ${path} is damaged \\(.+\\); restore it from a backup or an export\\n$`),
      );
      expect(result.stdout).toBe('');
    }
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it('names a file that is not a database and one of a newer schema, and takes an empty one as new', async () => {
    const env = cliEnvironment();
    const path = env.MNEMO_DB!;
    writeFileSync(path, 'these are my notes, not a database\n'.repeat(100));
    refused(await mnemo(env, ['memories', '--user', 'ada']), /is not a mnemo database \(file is not a database\)/);
    // An empty file is a new database (SQLite's reading, and what concurrent first users of a new file meet).
    writeFileSync(path, '');
    expect(await mnemo(env, ['remember', '--user', 'ada', 'x'])).toMatchObject({ code: 0, stderr: '' });
    const newer = cliEnvironment();
    await database(newer);
    const Database = (await import('better-sqlite3')).default;
    const raw = new Database(newer.MNEMO_DB!);
    raw.pragma('user_version = 99');
    raw.close();
    refused(await mnemo(newer, ['memories', '--user', 'ada']), /schema version 99, newer than this mnemo understands/);
  });
});

describe('read-only database files', () => {
  it('remember refuses a read-only file before writing; reading commands still work', async () => {
    const env = cliEnvironment();
    const path = await database(env);
    chmodSync(path, 0o444);
    restore.push(path);
    const before = readFileSync(path);
    refused(
      await mnemo(env, ['remember', '--user', 'ada', 'likes tea']),
      new RegExp(`^mnemo remember: ${path} is read-only; `),
    );
    expect(readFileSync(path).equals(before)).toBe(true);
    expect((await mnemo(env, ['memories', '--user', 'ada'])).stdout).toContain('likes films');
    expect((await mnemo(env, ['search', '--user', 'ada', 'films'])).code).toBe(0);
    expect((await mnemo(env, ['export', '--user', 'ada'])).code).toBe(0);
  });

  it('remember refuses a database in a read-only directory; reading commands still work', async () => {
    const env = cliEnvironment();
    const path = await database(env);
    chmodSync(env.HOME!, 0o555);
    restore.push(env.HOME!);
    const before = readFileSync(path);
    refused(await mnemo(env, ['remember', '--user', 'ada', 'likes tea']), /is in a read-only directory .*-wal/);
    expect(readFileSync(path).equals(before)).toBe(true);
    expect((await mnemo(env, ['memories', '--user', 'ada'])).stdout).toContain('likes films');
  });
});
