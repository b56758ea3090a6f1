import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/main.js';
import { cliEnvironment, mnemo } from '../helpers/cli.js';
import { sharedGloveEmbedder } from '../helpers/glove.js';

const turns = [
  { text: 'I adopted a greyhound named Pixel', at: '2024-03-01T10:00:00Z', session: 's1', id: 'msg-1' },
  { text: 'How old is she?', role: 'assistant', at: '2024-03-01T10:00:05Z', session: 's1' },
  { text: 'Pixel is four and loves the beach', at: '2024-03-01T10:00:10Z', session: 's1', id: 'msg-3' },
];
const jsonl = turns.map((turn) => JSON.stringify(turn)).join('\n');

beforeAll(async () => {
  await sharedGloveEmbedder(); // build the shared word-vector cache before the first command needs it
});

describe('mnemo CLI', () => {
  it('prints help for itself and every command', async () => {
    const env = cliEnvironment();
    const main = await mnemo(env, ['--help']);
    expect(main.code).toBe(0);
    for (const command of COMMANDS) {
      expect(main.stdout).toContain(command.name);
      const help = await mnemo(env, [command.name, '--help']);
      expect(help.code, command.name).toBe(0);
      expect(help.stdout).toMatch(/^Usage: mnemo /);
    }
  });

  it('answers usage mistakes with exit 2 and one line', async () => {
    const env = cliEnvironment();
    const cases: Array<[string[], RegExp]> = [
      [['search', 'dogs'], /give exactly one of --user U, --persona NAME, --global/],
      [['search', '--user', 'ada', '--k', 'ten', 'dogs'], /--k must be an integer/],
      [['search', '--user', 'ada', '--k', '-3', 'dogs'], /--k must be an integer from 1 to 1000, not "-3"/],
      [['search', '--user', 'ada', '-k', '-3', 'dogs'], /--k must be an integer from 1 to 1000, not "-3"/],
      [['search', '--user', 'ada', ''], /the query must be a non-empty string/],
      [['search', '--user', 'x'.repeat(201), 'dogs'], /user id is longer than 200 characters/],
      [['search', '--user', ' ada', 'dogs'], /user id must not start or end with whitespace/],
      [['memories', '--persona', 'night-owls '], /persona id must not start or end with whitespace/],
      [['remember', '--user', 'ada', ''], /the fact must be a non-empty string/],
      [['remember', '--user', 'ada', '--supersedes', '2', 'x'], /not a memory id: "2"/],
      [['forget', '--user', 'ada', '--id', 'nope'], /not a memory id: "nope" \(ids look like e12 or f34\)/],
      [['memories', '--user', 'ada', '--db', ''], /--db needs a file path/],
      [['search', '--user', 'ada'], /needs an argument/],
      [['search', '--user', 'ada', '--frobnicate', 'x'], /Unknown option '--frobnicate'/],
      [['remember', '--user', 'ada', '--kind', 'opinion', 'x'], /--kind must be one of/],
      [['frob'], /unknown command "frob"/],
      [['bench', 'locomo'], /--data/],
    ];
    for (const [argv, message] of cases) {
      const result = await mnemo(env, argv);
      expect(result.code, argv.join(' ')).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it("says every command's default database and where the word-vector cache is", async () => {
    const env = cliEnvironment();
    expect((await mnemo(env, ['--help'])).stdout).toMatch(
      /XDG_DATA_HOME +the data directory .*\n.*in cache\/, the word-vector cache/,
    );
    for (const name of ['ingest', 'search', 'remember', 'memories', 'forget', 'export', 'reindex']) {
      // Help wraps at its own column per command: compare with the line breaks taken out.
      expect((await mnemo(env, [name, '--help'])).stdout.replace(/\s+/g, ' '), name).toContain(
        '(default: $MNEMO_DB, else $XDG_DATA_HOME/mnemo/mnemo.db,',
      );
    }
  });

  it('refuses an explicit database in a directory that does not exist, and creates nothing', async () => {
    const env = cliEnvironment();
    const missing = join(env.HOME!, 'no', 'such', 'dir');
    const flag = await mnemo(env, ['memories', '--user', 'ada', '--db', join(missing, 'x.db')]);
    expect(flag).toMatchObject({
      code: 2,
      stderr: `mnemo memories: --db ${join(missing, 'x.db')}: directory ${missing} does not exist\n`,
    });
    const variable = await mnemo({ ...env, MNEMO_DB: join(missing, 'x.db') }, ['memories', '--user', 'ada']);
    expect(variable.code).toBe(1);
    expect(variable.stderr).toMatch(/^mnemo memories: MNEMO_DB .*: directory .* does not exist\n$/);
    expect(existsSync(join(env.HOME!, 'no'))).toBe(false);
    // The default location is still created on first use.
    const defaults = { ...env, MNEMO_DB: undefined, XDG_DATA_HOME: join(env.HOME!, 'fresh') };
    expect((await mnemo(defaults, ['memories', '--user', 'ada'])).code).toBe(0);
    expect(existsSync(join(env.HOME!, 'fresh', 'mnemo', 'mnemo.db'))).toBe(true);
  });

  it('ingests JSONL and searches it, as text and as JSON', async () => {
    const env = cliEnvironment();
    const file = join(env.HOME!, 'turns.jsonl');
    writeFileSync(file, jsonl);
    const ingested = await mnemo(env, ['ingest', '--user', 'ada', file]);
    expect(ingested).toMatchObject({ code: 0, stdout: 'ingested 3 episodes for ada\n' });

    const found = await mnemo(env, ['search', '--user', 'ada', '--json', '--k', '2', 'greyhound Pixel']);
    expect(found.code).toBe(0);
    const hits = JSON.parse(found.stdout) as Array<Record<string, unknown>>;
    expect(hits).toHaveLength(2);
    expect(hits[0]).toMatchObject({
      kind: 'episode',
      text: turns[0]!.text,
      role: 'user',
      session: 's1',
      source: { id: 'msg-1' },
      at: '2024-03-01T10:00:00.000Z',
    });
    expect(typeof hits[0]!.id).toBe('string');
    expect(typeof hits[0]!.score).toBe('number');

    const other = await mnemo(env, ['search', '--user', 'bob', '--json', 'greyhound']);
    expect(JSON.parse(other.stdout)).toEqual([]);

    const piped = await mnemo(env, ['ingest', '--user', 'bob', '-'], '{"text":"bob likes sailing"}\n');
    expect(piped.code).toBe(0);
    expect((await mnemo(env, ['search', '--user', 'bob', 'sailing'])).stdout).toContain('bob likes sailing');
  });

  it('rejects a file with bad lines, naming each, and writes nothing', async () => {
    const env = cliEnvironment();
    const file = join(env.HOME!, 'bad.jsonl');
    writeFileSync(file, `${jsonl}\n{"role":"user"}\nnot json\n{"text":"ok","at":"soon"}\n`);
    const result = await mnemo(env, ['ingest', '--user', 'ada', file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/3 bad lines, nothing was written/);
    expect(result.stderr).toMatch(/line 4: "text" is required/);
    expect(result.stderr).toMatch(/line 5: not valid JSON/);
    expect(result.stderr).toMatch(/line 6: "at" must be an ISO-8601 date/);
    expect((await mnemo(env, ['memories', '--user', 'ada', '--all', '--json'])).stdout).toBe('[]\n');
    const missing = await mnemo(env, ['ingest', '--user', 'ada', join(env.HOME!, 'absent.jsonl')]);
    expect(missing).toMatchObject({ code: 1 });
    expect(missing.stderr).toMatch(/no such file/);
  });

  it('remembers, supersedes, lists, exports and forgets', async () => {
    const env = cliEnvironment();
    const first = JSON.parse(
      (await mnemo(env, ['remember', '--user', 'ada', '--kind', 'profile', '--json', 'lives in Lisbon'])).stdout,
    );
    const second = await mnemo(env, [
      'remember',
      '--user',
      'ada',
      '--kind',
      'profile',
      '--supersedes',
      first.id,
      'lives in Porto',
    ]);
    expect(second.code).toBe(0);
    const current = JSON.parse((await mnemo(env, ['memories', '--user', 'ada', '--json'])).stdout);
    expect(current.map((memory: { text: string }) => memory.text)).toEqual(['lives in Porto']);
    const all = JSON.parse((await mnemo(env, ['memories', '--user', 'ada', '--all', '--json'])).stdout);
    expect(all).toHaveLength(2);
    expect(all.find((memory: { id: string }) => memory.id === first.id).validTo).not.toBeNull();

    const exported = JSON.parse((await mnemo(env, ['export', '--user', 'ada'])).stdout);
    expect(exported.user).toBe('ada');
    expect(exported.memories).toHaveLength(2);

    expect((await mnemo(env, ['forget', '--user', 'ada', '--id', 'f999'])).code).toBe(1);
    expect((await mnemo(env, ['forget', '--user', 'ada'])).stdout).toBe('forgot ada: 2 memories deleted\n');
    expect((await mnemo(env, ['memories', '--user', 'ada', '--all', '--json'])).stdout).toBe('[]\n');
  });

  it('the installed binary exits 2 with one line, never a stack trace', () => {
    const binary = join(import.meta.dirname, '../../dist/bin/mnemo.js');
    const result = spawnSync(process.execPath, [binary, 'search', '--user', 'ada', '--k', '0', 'x'], {
      env: { ...process.env, ...cliEnvironment() },
      encoding: 'utf8',
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toBe('mnemo search: --k must be an integer from 1 to 1000, not "0"\n');
    const help = spawnSync(process.execPath, [binary, '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^mnemo — /);
  });
});
