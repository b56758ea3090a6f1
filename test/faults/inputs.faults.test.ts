import {
  chmodSync,
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/main.js';
import { cliEnvironment, mnemo } from '../helpers/cli.js';
import { FULL_FAULTS } from '../helpers/faults.js';
import { sharedGloveEmbedder } from '../helpers/glove.js';

// Malformed input for every command: each must exit non-zero with one line on stderr that names the cause (and the
// file, when there is one), never "unexpected error", and write nothing. MNEMO_FAULTS=full also corrupts every page of
// a small database in turn. Run with `npx vitest run --project faults` (or by path until that project exists).

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

interface Tally {
  tried: number;
  accepted: string[];
  unexpected: string[];
  multiLine: string[];
}
const tally: Tally = { tried: 0, accepted: [], unexpected: [], multiLine: [] };

/** A fault case: what it runs, what stderr must say, and the file it must name. */
interface Case {
  name: string;
  argv: string[];
  stdin?: Buffer | string;
  says: RegExp;
  names?: string;
}

/** Runs one case and checks it; the database at env.MNEMO_DB must be byte-for-byte what it was, or still absent. */
async function check(env: NodeJS.ProcessEnv, fault: Case): Promise<void> {
  const db = env.MNEMO_DB!;
  const before = existsSync(db) ? readFileSync(db) : undefined;
  const result: Outcome = await mnemo(env, fault.argv, fault.stdin ?? '');
  tally.tried++;
  const label = `${fault.name}: ${fault.argv.map((arg) => (arg.length > 40 ? `${arg.slice(0, 20)}…` : arg)).join(' ')}`;
  if (result.code === 0) tally.accepted.push(label);
  if (result.stderr.includes('unexpected error')) tally.unexpected.push(`${label} -> ${result.stderr}`);
  if (result.stderr.trimEnd().split('\n').length !== 1) tally.multiLine.push(`${label} -> ${result.stderr}`);
  expect.soft(result.code, label).not.toBe(0);
  expect.soft(result.stderr, label).not.toContain('unexpected error');
  expect.soft(result.stderr.trimEnd().split('\n'), label).toHaveLength(1);
  expect.soft(result.stderr, label).toMatch(fault.says);
  if (fault.names) expect.soft(result.stderr, label).toContain(fault.names);
  if (before) expect.soft(readFileSync(db).equals(before), `${label}: database unchanged`).toBe(true);
  else expect.soft(existsSync(db), `${label}: no database created`).toBe(false);
}

const USAGE = /.+/; // any one line: the cases check that parsing refuses them, the wording is the parser's

/** Command lines that would succeed on a good database; the faults are applied to them. */
function goodLines(files: { jsonl: string; csv: string; movielens: string }): Record<string, string[]> {
  return {
    ingest: ['ingest', '--user', 'ada', files.jsonl],
    search: ['search', '--user', 'ada', 'films'],
    remember: ['remember', '--user', 'ada', 'likes tea'],
    memories: ['memories', '--user', 'ada'],
    forget: ['forget', '--user', 'ada'],
    export: ['export', '--user', 'ada'],
    reindex: ['reindex'],
    catalog: ['catalog', 'import', files.csv],
    import: ['import', 'movielens', files.movielens],
    rate: ['rate', '--user', 'ada', '--item', 'm1', '--stars', '4'],
    predict: ['predict', '--user', 'ada', '--item', 'm1'],
    recommend: ['recommend', '--user', 'ada'],
    persona: ['persona', '--user', 'ada'],
    train: ['train'],
  };
}

/** Commands that only read: on a read-only file they work (the read-only cases skip them). */
const READERS = new Set(['search', 'memories', 'export', 'persona']);

/** Commands the database cases leave out: they need a chat model or a network, or read no database. */
const NO_DATABASE_CASES = new Set(['chat', 'ask', 'slack', 'bench']);

let home: string;
let files: { jsonl: string; csv: string; movielens: string };
let goodDb: string;

beforeAll(async () => {
  await sharedGloveEmbedder();
  const env = cliEnvironment();
  home = env.HOME!;
  const jsonl = join(home, 'good.jsonl');
  writeFileSync(
    jsonl,
    Array.from({ length: 40 }, (_, index) => JSON.stringify({ text: `turn ${index} about films ${'x'.repeat(300)}` }))
      .map((line) => `${line}\n`)
      .join(''),
  );
  const csv = join(home, 'good.csv');
  writeFileSync(csv, 'id,title,tags\nm1,Alien (1979),Horror|Sci-Fi\nm2,Heat (1995),Crime\n');
  const movielens = join(home, 'ml');
  mkdirSync(movielens);
  writeFileSync(join(movielens, 'u.item'), `1|Alien (1979)|01-Jan-1979||http://x|${'0|'.repeat(18)}1\n`);
  writeFileSync(join(movielens, 'u.user'), '1|24|M|technician|85711\n');
  writeFileSync(join(movielens, 'u.data'), '1\t1\t5\t881250949\n');
  files = { jsonl, csv, movielens };
  for (const argv of [
    goodLines(files).ingest!,
    goodLines(files).remember!,
    goodLines(files).catalog!,
    goodLines(files).rate!,
  ])
    expect((await mnemo(env, argv)).code, argv.join(' ')).toBe(0);
  goodDb = env.MNEMO_DB!;
}, 120_000);

afterAll(() => {
  const rows = [
    ['cases tried', tally.tried],
    ['accepted with exit 0', tally.accepted.length],
    ['"unexpected error"', tally.unexpected.length],
    ['more than one line', tally.multiLine.length],
  ];
  console.log(
    `malformed-input faults${FULL_FAULTS ? ' (full)' : ''}\n${rows.map(([name, count]) => `  ${String(name).padEnd(22)} ${count}`).join('\n')}` +
      [...tally.accepted, ...tally.unexpected, ...tally.multiLine].map((line) => `\n  ! ${line}`).join(''),
  );
});

/** A fresh environment with no database (bad arguments and bad input files must not create one). */
const emptyEnvironment = (): NodeJS.ProcessEnv => cliEnvironment();

/** A fresh environment holding a copy of the good database, then `damage` applied to it. */
function damagedEnvironment(damage: (path: string) => void): NodeJS.ProcessEnv {
  const env = cliEnvironment();
  copyFileSync(goodDb, env.MNEMO_DB!);
  damage(env.MNEMO_DB!);
  return env;
}

function overwritePage(path: string, page: number): void {
  const descriptor = openSync(path, 'r+');
  writeSync(descriptor, Buffer.alloc(4096, 0x5a), 0, 4096, page * 4096);
  closeSync(descriptor);
}

describe('bad arguments', () => {
  it('every command refuses unknown flags, missing values and bad numbers or strings, creating no database', async () => {
    for (const command of COMMANDS) {
      const env = emptyEnvironment();
      await check(env, { name: 'unknown flag', argv: [command.name, '--no-such-flag'], says: /no-such-flag/ });
      for (const [option, spec] of Object.entries(command.options)) {
        if (spec.type === 'boolean') continue;
        await check(env, { name: 'missing value', argv: [command.name, `--${option}`], says: new RegExp(option) });
        if (spec.type === 'integer')
          for (const value of ['-3', '1e999', 'abc', '', '99999999999999999999'])
            await check(env, { name: 'bad number', argv: [command.name, `--${option}=${value}`], says: USAGE });
      }
    }
  });

  it('data commands refuse empty, NUL-bearing and huge ids and texts, creating no database', async () => {
    const env = emptyEnvironment();
    const lines = goodLines({
      jsonl: join(home, 'good.jsonl'),
      csv: join(home, 'good.csv'),
      movielens: join(home, 'ml'),
    });
    // No NUL: execve passes C strings, so an argument cannot hold one (NUL bytes in files are below).
    const bad = { empty: '', blank: '   ', huge: 'x'.repeat(1_000_000) };
    for (const [name, argv] of Object.entries(lines)) {
      for (const [what, value] of Object.entries(bad)) {
        const userAt = argv.indexOf('--user');
        if (userAt >= 0) {
          const changed = [...argv];
          changed[userAt + 1] = value;
          await check(env, { name: `${what} --user`, argv: changed, says: /user/ });
        }
        if (name === 'remember' || name === 'search') {
          await check(env, { name: `${what} text`, argv: [...argv.slice(0, -1), value], says: /.+/ });
        }
        if (['rate', 'predict'].includes(name) && what !== 'huge') {
          const changed = [...argv];
          changed[argv.indexOf('--item') + 1] = value;
          await check(env, { name: `${what} --item`, argv: changed, says: /item/ });
        }
      }
    }
  });
});

describe('malformed files', () => {
  const latin1 = Buffer.from('{"text":"caf\xe9"}\n', 'latin1');
  const jsonlCases: Array<[string, Buffer | string, RegExp]> = [
    ['invalid JSON', '{"text":"fine"}\n{"text": fine}\n', /line 2: not valid JSON/],
    ['wrong type', '{"text":5}\n', /line 1: "text" must be a string/],
    ['not an object', '[1,2]\n"text"\n', /line 1: must be a JSON object/],
    ['invalid UTF-8', latin1, /not valid UTF-8 at byte 13 \(line 1\)/],
    ['blank lines around a bad line', '\n\n{"text":""}\n\n', /line 3: "text" must be a non-empty string/],
    ['huge line', `{"text":"${'x'.repeat(3_000_000)}"}\n`, /line 1: "text" is longer than/],
    ['NUL bytes', '{"text":"a"}\0\n', /line 1: not valid JSON/],
    ['bad date', '{"text":"a","at":"yesterday"}\n', /"at" must be an ISO-8601 date/],
    ['truncated', '{"text":"a"}\n{"text":"b', /line 2: not valid JSON/],
  ];

  it('ingest refuses malformed JSONL files and stdin, naming the file', async () => {
    const env = emptyEnvironment();
    for (const [name, content, says] of jsonlCases) {
      const file = join(env.HOME!, `${name.replace(/\W+/g, '-')}.jsonl`);
      writeFileSync(file, content);
      await check(env, { name: `JSONL ${name}`, argv: ['ingest', '--user', 'ada', file], says, names: file });
      await check(env, {
        name: `stdin ${name}`,
        argv: ['ingest', '--user', 'ada', '-'],
        stdin: Buffer.from(content),
        says,
        names: 'stdin',
      });
    }
    await check(env, {
      name: 'missing file',
      argv: ['ingest', '--user', 'ada', join(env.HOME!, 'absent.jsonl')],
      says: /no such file/,
      names: 'absent.jsonl',
    });
  });

  it('catalog import refuses malformed CSV and JSONL, naming the file', async () => {
    const env = emptyEnvironment();
    const cases: Array<[string, string, Buffer | string, RegExp]> = [
      ['no header', 'csv', 'm1,Alien\n', /the CSV header must name at least id and title/],
      ['too few fields', 'csv', 'id,title,year\nm1,Alien\n', /line 2: 2 fields, the header has 3/],
      ['unterminated quote', 'csv', 'id,title\nm1,"Alien\n', /line 2: unterminated quoted field/],
      ['bad year', 'csv', 'id,title,year\nm1,Alien,nineteen\n', /"year" must be a whole number/],
      ['duplicate id', 'csv', 'id,title\nm1,A\nm1,B\n', /duplicate id "m1"/],
      ['invalid UTF-8', 'csv', Buffer.from('id,title\nm1,Am\xe9lie\n', 'latin1'), /not valid UTF-8 at byte 15/],
      ['missing title', 'jsonl', '{"id":"m1"}\n', /"title" is required/],
      ['invalid JSON', 'jsonl', '{"id":"m1",\n', /not valid JSON/],
    ];
    for (const [name, format, content, says] of cases) {
      const file = join(env.HOME!, `${name.replace(/\W+/g, '-')}.${format}`);
      writeFileSync(file, content);
      await check(env, { name: `catalog ${name}`, argv: ['catalog', 'import', file], says, names: file });
    }
    await check(env, {
      name: 'catalog unknown format',
      argv: ['catalog', 'import', join(env.HOME!, 'no-header.csv'), '--format', 'xml'],
      says: /--format must be csv or jsonl/,
    });
  });

  it('import refuses malformed MovieLens directories, naming the file', async () => {
    const env = emptyEnvironment();
    const directory = (name: string, contents: Record<string, string>): string => {
      const path = join(env.HOME!, name);
      mkdirSync(path);
      for (const [file, text] of Object.entries(contents)) writeFileSync(join(path, file), text);
      return path;
    };
    const item = `1|Alien (1979)|01-Jan-1979||http://x|${'0|'.repeat(18)}1\n`;
    const user = '1|24|M|technician|85711\n';
    const cases: Array<[string, string, RegExp, string]> = [
      ['no such directory', join(env.HOME!, 'absent'), /cannot read MovieLens/, 'absent'],
      ['missing u.data', directory('no-data', { 'u.item': item, 'u.user': user }), /u\.data/, 'u.data'],
      ['missing u.item', directory('no-item', { 'u.user': user, 'u.data': '1\t1\t5\t1\n' }), /u\.item/, 'u.item'],
      [
        'truncated u.data',
        directory('short-data', { 'u.item': item, 'u.user': user, 'u.data': '1\t1\t5\t881250949\n1\t1' }),
        /line 2: expected 4 tab-separated fields/,
        'u.data',
      ],
      [
        'truncated u.item',
        directory('short-item', { 'u.item': `${item}2|Heat`, 'u.user': user, 'u.data': '1\t1\t5\t1\n' }),
        /u\.item: 1 bad line, .*line 2: 2 "\|"-separated fields, expected 24/,
        'u.item',
      ],
      [
        'ids out of order',
        directory('bad-user', { 'u.item': item, 'u.user': `2${user.slice(1)}`, 'u.data': '1\t1\t5\t1\n' }),
        /ids count up from 1/,
        'u.user',
      ],
    ];
    for (const [name, path, says, names] of cases)
      await check(env, { name: `MovieLens ${name}`, argv: ['import', 'movielens', path], says, names });
  });
});

describe('damaged and unusable database files', () => {
  const damages: Array<[string, (path: string) => void, RegExp, (command: string) => boolean]> = [
    [
      'corrupt middle page',
      (path) => overwritePage(path, Math.floor(statSync(path).size / 4096 / 2)),
      /is damaged \(.+\); restore it/,
      () => true,
    ],
    [
      'random bytes',
      (path) =>
        writeFileSync(path, Buffer.from(Array.from({ length: 65536 }, (_, index) => (index * 2654435761) >>> 24))),
      /is not a mnemo database/,
      () => true,
    ],
    ['a text file', (path) => writeFileSync(path, 'my notes\n'.repeat(1000)), /is not a mnemo database/, () => true],
    [
      'newer schema',
      (path) => {
        const db = new Database(path);
        db.pragma('user_version = 99');
        db.close();
      },
      /schema version 99, newer than this mnemo/,
      () => true,
    ],
    ['read-only file', (path) => chmodSync(path, 0o444), /is read-only; /, (command) => !READERS.has(command)],
    [
      'read-only directory',
      (path) => chmodSync(join(path, '..'), 0o555),
      /is in a read-only directory/,
      (command) => !READERS.has(command),
    ],
  ];

  it('every command that opens the database refuses it, naming the file, and leaves it byte-for-byte', async () => {
    for (const [name, damage, says, applies] of damages) {
      for (const [command, argv] of Object.entries(goodLines(files))) {
        if (NO_DATABASE_CASES.has(command) || !applies(command)) continue;
        const env = damagedEnvironment(damage);
        try {
          await check(env, { name, argv, says, names: env.MNEMO_DB! });
        } finally {
          chmodSync(env.HOME!, 0o755);
          chmodSync(env.MNEMO_DB!, 0o644);
        }
      }
    }
  }, 120_000);

  it.runIf(FULL_FAULTS)(
    'corrupting any page of a small database is refused by every memory command',
    async () => {
      const pages = statSync(goodDb).size / 4096;
      for (let page = 0; page < pages; page++) {
        for (const command of ['memories', 'export', 'search', 'remember']) {
          const env = damagedEnvironment((path) => overwritePage(path, page));
          await check(env, {
            name: `page ${page + 1} of ${pages}`,
            argv: goodLines(files)[command]!,
            says: /.+/,
            names: env.MNEMO_DB!,
          });
        }
      }
    },
    600_000,
  );

  it('the whole table holds: no case accepted, no "unexpected error", no second line', () => {
    expect(tally.tried).toBeGreaterThan(100);
    expect({ accepted: tally.accepted, unexpected: tally.unexpected, multiLine: tally.multiLine }).toEqual({
      accepted: [],
      unexpected: [],
      multiLine: [],
    });
  });
});
