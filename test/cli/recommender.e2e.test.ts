import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SqliteMemoryStore } from '../../memory/sqlite/store.js';
import { userScope } from '../../memory/types.js';
import { STORAGE_MODULES } from '../../src/storage.js';
import { cliEnvironment, mnemo } from '../helpers/cli.js';
import { sharedGloveEmbedder } from '../helpers/glove.js';

beforeAll(async () => {
  await sharedGloveEmbedder();
});

// A small generated catalog: two taste groups (space and romance) and a horror title.
const catalog = [
  { id: 's1', title: 'Star Voyage', tags: ['Sci-Fi'] },
  { id: 's2', title: 'Star Voyage II', tags: ['Sci-Fi'] },
  { id: 's3', title: 'Moon Base', tags: ['Sci-Fi'] },
  { id: 'r1', title: 'Paris Love', tags: ['Romance'] },
  { id: 'r2', title: 'Paris Love Again', tags: ['Romance'] },
  { id: 'h1', title: 'Night Terror', tags: ['Horror'] },
];

async function seeded() {
  const env = cliEnvironment();
  const file = join(env.HOME!, 'catalog.jsonl');
  writeFileSync(file, catalog.map((item) => JSON.stringify(item)).join('\n'));
  expect((await mnemo(env, ['catalog', 'import', file])).code).toBe(0);
  for (let user = 0; user < 12; user++) {
    const space = user % 2 === 0;
    for (const item of catalog) {
      const likes = item.id.startsWith(space ? 's' : 'r');
      if (item.id === 'h1' && user % 3 !== 0) continue;
      expect(
        (await mnemo(env, ['rate', '--user', `u${user}`, '--item', item.id, '--stars', String(likes ? 5 : 2)])).code,
      ).toBe(0);
    }
  }
  return env;
}

describe('recommender CLI', () => {
  it('imports a catalog, rates, trains, predicts and recommends with reasons', { timeout: 60_000 }, async () => {
    const env = await seeded();
    expect((await mnemo(env, ['rate', '--user', 'ada', '--item', 'Moon Base', '--stars', '5'])).code).toBe(0);
    const trained = await mnemo(env, ['train']);
    expect(trained.code).toBe(0);

    const recommended = await mnemo(env, ['recommend', '--user', 'ada', '--k', '3', '--json']);
    expect(recommended.code).toBe(0);
    const items = JSON.parse(recommended.stdout) as Array<{
      itemId: string;
      title: string;
      score: number;
      predicted: number;
      why: unknown[];
    }>;
    expect(items.length).toBeGreaterThan(0);
    for (const entry of items) {
      expect(Object.keys(entry)).toEqual(expect.arrayContaining(['itemId', 'title', 'score', 'predicted', 'why']));
      expect(entry.itemId).not.toBe('s3');
      expect(entry.predicted).toBeGreaterThanOrEqual(1);
      expect(entry.predicted).toBeLessThanOrEqual(5);
    }

    // A stated dislike is a hard constraint.
    expect(
      (await mnemo(env, ['remember', '--user', 'ada', '--kind', 'preference', "I can't stand horror movies"])).code,
    ).toBe(0);
    const constrained = JSON.parse(
      (await mnemo(env, ['recommend', '--user', 'ada', '--k', '5', '--json'])).stdout,
    ) as Array<{ itemId: string }>;
    expect(constrained.map((entry) => entry.itemId)).not.toContain('h1');

    const predicted = JSON.parse(
      (await mnemo(env, ['predict', '--user', 'ada', '--item', 'Star Voyage', '--json'])).stdout,
    ) as { predicted: number };
    expect(predicted.predicted).toBeGreaterThan(3);
    expect((await mnemo(env, ['persona', '--user', 'newcomer'])).code).toBe(0);

    // Training recorded each rated user's persona in memory; a hand placement wins over the next training.
    const store = SqliteMemoryStore.open(env.MNEMO_DB!, { modules: STORAGE_MODULES });
    expect(await store.personaOf(userScope('u0'))).toMatchObject({
      assignedBy: 'auto',
      persona: expect.stringMatching(/^persona \d+$/),
    });
    await store.close();
    expect((await mnemo(env, ['persona', '--user', 'u0', '--set', 'night-owls'])).stdout).toBe(
      'u0 is now in persona "night-owls"\n',
    );
    expect((await mnemo(env, ['train'])).code).toBe(0);
    const again = SqliteMemoryStore.open(env.MNEMO_DB!, { modules: STORAGE_MODULES });
    expect(await again.personaOf(userScope('u0'))).toEqual({ persona: 'night-owls', assignedBy: 'hand' });
    await again.close();
    expect((await mnemo(env, ['remember', '--persona', 'night-owls', 'night owls like late screenings'])).code).toBe(0);
    expect((await mnemo(env, ['remember', '--persona', 'x', '--user', 'u0', 'both'])).code).toBe(2);
  });

  it('refuses bad input with clear errors and writes nothing', async () => {
    const env = await seeded();
    const ambiguous = await mnemo(env, ['rate', '--user', 'ada', '--item', 'Star Voyage', '--stars', '4']);
    // "Star Voyage" is exact for s1; "Paris" is ambiguous between two titles.
    expect(ambiguous.code).toBe(0);
    const unclear = await mnemo(env, ['rate', '--user', 'bo', '--item', 'Paris', '--stars', '4']);
    expect(unclear.code).toBe(1);
    expect(unclear.stderr).toMatch(/ambiguous.*r1.*r2|ambiguous.*r2.*r1/);
    expect((await mnemo(env, ['rate', '--user', 'bo', '--item', 'Nope Movie', '--stars', '4'])).stderr).toMatch(
      /no catalog item matches/,
    );
    const stars = await mnemo(env, ['rate', '--user', 'bo', '--item', 's1', '--stars', '9']);
    expect(stars.code).toBe(2);
    expect(stars.stderr.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse((await mnemo(env, ['recommend', '--user', 'bo', '--json'])).stdout).length).toBeGreaterThan(0);

    const bad = join(env.HOME!, 'bad.jsonl');
    writeFileSync(bad, '{"id":"x1","title":"Fine"}\n{"id":"x2"}\nnot json\n');
    const rejected = await mnemo(env, ['catalog', 'import', bad]);
    expect(rejected.code).toBe(1);
    // Every bad line is named, each with what is wrong.
    expect(rejected.stderr).toContain('2 bad lines, nothing was written');
    expect(rejected.stderr).toMatch(/line 2: "title" is required/);
    expect(rejected.stderr).toMatch(/line 3: not valid JSON/);
    expect((await mnemo(env, ['rate', '--user', 'bo', '--item', 'x1', '--stars', '3'])).stderr).toMatch(
      /no catalog item matches/,
    );
  });
});

describe('mnemo import movielens', () => {
  it('reads the MovieLens 100K format (ISO-8859-1 titles, genre flags, demographics) into catalog and ratings', {
    timeout: 60_000,
  }, async () => {
    const env = cliEnvironment();
    const directory = join(env.HOME!, 'ml-tiny');
    mkdirSync(directory);
    const flags = (...genres: number[]): string =>
      Array.from({ length: 19 }, (_, genre) => (genres.includes(genre) ? '1' : '0')).join('|');
    // Genre columns: 0 unknown, 11 Horror, 14 Romance, 15 Sci-Fi. "Amélie" in Latin-1 bytes, as u.item ships.
    const items = [
      `1|Am\xe9lie (2001)|01-Jan-2001||http://example.org/1|${flags(14)}`,
      `2|Star Voyage (1995)|01-Jan-1995||http://example.org/2|${flags(15)}`,
      `3|Night Terror (1990)|01-Jan-1990||http://example.org/3|${flags(0, 11)}`,
    ];
    writeFileSync(join(directory, 'u.item'), Buffer.from(`${items.join('\n')}\n`, 'latin1'));
    writeFileSync(join(directory, 'u.user'), '1|24|F|writer|12345\n2|61|M|engineer|54321\n');
    writeFileSync(
      join(directory, 'u.data'),
      '1\t1\t5\t881250949\n1\t2\t2\t881250950\n2\t2\t4\t881250951\n2\t3\t1\t881250952\n',
    );

    const imported = await mnemo(env, ['import', 'movielens', directory]);
    expect(imported.stderr).toBe('');
    expect(imported.stdout.trim()).toBe('imported 3 items, 4 ratings, 2 users');
    const rated = await mnemo(env, ['recommend', '--user', 'ml1', '--json']);
    expect(JSON.parse(rated.stdout)).toEqual([
      expect.objectContaining({ itemId: 'ml3', title: 'Night Terror (1990)' }),
    ]);
    const predicted = JSON.parse(
      (await mnemo(env, ['predict', '--user', 'ml2', '--item', 'Amélie', '--json'])).stdout,
    ) as { itemId: string };
    expect(predicted.itemId).toBe('ml1');
    expect((await mnemo(env, ['rate', '--user', 'ml1', '--item', 'ml3', '--stars', '1'])).code).toBe(0);
    const nothingLeft = await mnemo(env, ['recommend', '--user', 'ml1']);
    expect([nothingLeft.code, nothingLeft.stdout.trim()]).toEqual([
      0,
      'nothing left to recommend: every catalog item is rated already or ruled out by a stated preference',
    ]);
    const empty = await mnemo(cliEnvironment(), ['recommend', '--user', 'ml1']);
    expect([empty.code, empty.stderr.trim()]).toEqual([
      1,
      'mnemo recommend: the catalog is empty: import items first (mnemo catalog import FILE)',
    ]);

    const store = SqliteMemoryStore.open(env.MNEMO_DB!, { modules: STORAGE_MODULES });
    try {
      const rows = store.db.prepare('SELECT id, tags, year FROM rec_items ORDER BY id').all();
      // "unknown" is the absence of a genre, not a tag.
      expect(rows).toEqual([
        { id: 'ml1', tags: '["Romance"]', year: 2001 },
        { id: 'ml2', tags: '["Sci-Fi"]', year: 1995 },
        { id: 'ml3', tags: '["Horror"]', year: 1990 },
      ]);
      expect(store.db.prepare("SELECT demographics FROM rec_users WHERE user_id = 'ml2'").pluck().get()).toBe(
        '{"gender":"M","age":"56+","occupation":"engineer"}',
      );
      expect(
        store.db.prepare("SELECT stars, at FROM rec_ratings WHERE user_id = 'ml1' AND item_id = 'ml2'").get(),
      ).toEqual({ stars: 2, at: 881_250_950_000 });
    } finally {
      await store.close();
    }
    expect((await mnemo(env, ['import', 'movielens', join(env.HOME!, 'missing')])).stderr).toMatch(
      /cannot read MovieLens/,
    );

    // Export shows everything forget deletes: a user with ratings and demographics but no memories included.
    await mnemo(env, ['persona', '--user', 'ml2', '--set', 'night-owls']);
    const exported = JSON.parse((await mnemo(env, ['export', '--user', 'ml2'])).stdout);
    expect(exported).toMatchObject({
      user: 'ml2',
      memories: [],
      persona: { persona: 'night-owls', assignedBy: 'hand' },
      ratings: [
        { itemId: 'ml2', title: 'Star Voyage (1995)', stars: 4, at: '1997-12-04T15:55:51.000Z', source: 'explicit' },
        { itemId: 'ml3', title: 'Night Terror (1990)', stars: 1, at: '1997-12-04T15:55:52.000Z', source: 'explicit' },
      ],
      demographics: { gender: 'M', age: '56+', occupation: 'engineer' },
    });
    expect((await mnemo(env, ['forget', '--user', 'ml2'])).stdout).toBe(
      'forgot ml2: 0 memories and 2 ratings deleted\n',
    );
    expect(JSON.parse((await mnemo(env, ['export', '--user', 'ml2'])).stdout)).toMatchObject({
      memories: [],
      persona: null,
      ratings: [],
      demographics: null,
    });
    // ml1 has ratings and no memory namespace at all.
    expect(JSON.parse((await mnemo(env, ['forget', '--user', 'ml1', '--json'])).stdout)).toEqual({
      deleted: 0,
      threads: 0,
      ratings: 3,
      flushed: true,
    });

    // Bad ratings lines are named by file and line, and nothing is written.
    const fresh = cliEnvironment();
    writeFileSync(join(directory, 'u.data'), '1\t1\t5\t881250949\n1\t999\t5\t881250949\n1\t2\n2\t3\t0\t881250952\n');
    const rejected = await mnemo(fresh, ['import', 'movielens', directory]);
    expect([rejected.code, rejected.stderr]).toEqual([
      1,
      'mnemo import: u.data: 3 bad lines, nothing was written: ' +
        'line 2: item "999" is not a movie id of u.item (1 to 3); ' +
        'line 3: expected 4 tab-separated fields (user, item, stars, time), found 2; ' +
        'line 4: stars must be a whole number from 1 to 5, not "0"\n',
    ]);
    const untouched = SqliteMemoryStore.open(fresh.MNEMO_DB!, { modules: STORAGE_MODULES });
    expect(untouched.db.prepare('SELECT count(*) FROM rec_items').pluck().get()).toBe(0);
    await untouched.close();
  });
});

describe('recommender CLI: ids, personas and subcommands', () => {
  const oneLine = (result: { stderr: string }): string[] => result.stderr.trim().split('\n');

  it('refuses a user id memory would refuse as a usage error, so training and forgetting keep working', {
    timeout: 60_000,
  }, async () => {
    const env = await seeded();
    const long = 'x'.repeat(201);
    for (const argv of [
      ['rate', '--item', 's1', '--stars', '4'],
      ['predict', '--item', 's1'],
      ['recommend'],
      ['persona'],
    ]) {
      const refused = await mnemo(env, [...argv, '--user', long]);
      expect([refused.code, oneLine(refused)]).toEqual([
        2,
        [`mnemo ${argv[0]}: user id is longer than 200 characters`],
      ]);
    }
    expect((await mnemo(env, ['train'])).code).toBe(0);
  });

  it('shows personas read-only, lets a hand placement win before and after training, and clears it', {
    timeout: 60_000,
  }, async () => {
    const env = await seeded();
    const namespaces = async (): Promise<unknown> => {
      const store = SqliteMemoryStore.open(env.MNEMO_DB!, { modules: STORAGE_MODULES });
      try {
        return store.db.prepare('SELECT count(*) FROM namespaces').pluck().get();
      } finally {
        await store.close();
      }
    };
    expect((await mnemo(env, ['persona', '--user', 'nobody'])).stderr).toBe(
      'mnemo persona: no trained model yet: run mnemo train\n',
    );
    expect((await mnemo(env, ['persona', '--user', 'ada', '--set', 'owls'])).stdout).toBe(
      'ada is now in persona "owls"\n',
    );
    expect((await mnemo(env, ['persona', '--user', 'ada'])).stdout).toBe(
      'ada: persona "owls" (placed by hand): 1 member, 0 shared memories\nno trained model yet: mnemo train fits personas and predicts ratings\n',
    );
    expect((await mnemo(env, ['train'])).code).toBe(0);
    expect((await mnemo(env, ['persona', '--user', 'ada'])).stdout).toMatch(
      /^ada: persona "owls" \(placed by hand\): 1 member, 0 shared memories\npredictions at persona level/,
    );
    const cleared = await mnemo(env, ['persona', '--user', 'ada', '--clear']);
    const automatic = /again: (persona \d)\n$/.exec(cleared.stdout)?.[1];
    expect(automatic).toBeDefined();
    expect((await mnemo(env, ['persona', '--user', 'ada'])).stdout).toMatch(
      new RegExp(`^ada: ${automatic} \\(by their tastes\\)`),
    );

    // Viewing stores nothing: a user just forgotten does not come back, one never seen does not appear.
    expect((await mnemo(env, ['forget', '--user', 'u1'])).code).toBe(0);
    const forgotten = await namespaces();
    for (const user of ['u1', 'nobody']) expect((await mnemo(env, ['persona', '--user', user])).code).toBe(0);
    expect(await namespaces()).toEqual(forgotten);

    const empty = await mnemo(env, ['persona', '--user', 'ada', '--set', '']);
    expect([empty.code, oneLine(empty)]).toEqual([2, ['mnemo persona: persona id must be a non-empty string']]);
  });

  it('names an unknown subcommand or dataset', async () => {
    const env = cliEnvironment();
    const list = await mnemo(env, ['catalog', 'list']);
    expect([list.code, list.stderr]).toEqual([2, "mnemo catalog: unknown subcommand 'list' (subcommands: import)\n"]);
    expect((await mnemo(env, ['catalog', 'import'])).stderr).toBe('mnemo catalog: import needs a FILE\n');
    const dataset = await mnemo(env, ['import', 'netflix', 'x']);
    expect([dataset.code, dataset.stderr]).toEqual([
      2,
      "mnemo import: unknown dataset 'netflix' (datasets: movielens)\n",
    ]);
  });

  it('imports a catalog with a byte order mark, and an empty or header-only file as 0 items', async () => {
    const env = cliEnvironment();
    const write = (name: string, text: string): string => {
      const file = join(env.HOME!, name);
      writeFileSync(file, text);
      return file;
    };
    const bom = await mnemo(env, ['catalog', 'import', write('bom.jsonl', '\uFEFF{"id":"b1","title":"Byte Order"}\n')]);
    expect([bom.code, bom.stdout]).toEqual([0, 'imported 1 items\n']);
    for (const [name, text] of [
      ['empty.csv', ''],
      ['empty.jsonl', ''],
      ['header.csv', 'id,title\n'],
      ['blank.csv', '\n \n'],
    ]) {
      const imported = await mnemo(env, ['catalog', 'import', write(name!, text!)]);
      expect([imported.code, imported.stdout, imported.stderr]).toEqual([0, 'imported 0 items\n', '']);
    }
  });
});
