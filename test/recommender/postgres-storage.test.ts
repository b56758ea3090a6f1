import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../memory/sqlite/database.js';
import { recommenderStorage, recommenderStorageModule } from '../../recommender/backend.js';
import { PostgresRecommenderStorage } from '../../recommender/postgres-storage.js';
import { RecommenderService } from '../../recommender/service.js';
import { SqliteRecommenderStorage } from '../../recommender/sqlite-storage.js';
import type { RecommenderStorage } from '../../recommender/storage.js';
import type { Item, Rating } from '../../recommender/types.js';
import { generated, sqliteStorage } from '../helpers/recommender.js';

/**
 * PostgreSQL for this file: PGlite served over its socket server, reached by a real `pg.Pool` as in production.
 * A local helper on purpose (a shared one is being written elsewhere). PGlite's first start takes 5–18 s: one per file.
 */
async function startPostgres(): Promise<{ pool: pg.Pool; close(): Promise<void> }> {
  const db = await PGlite.create();
  const max = 4;
  // The server's default is one connection; the pool opens up to `max`.
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: max });
  await server.start();
  const pool = new pg.Pool({ connectionString: `postgresql://postgres@${server.getServerConn()}/postgres`, max });
  return {
    pool,
    async close() {
      await pool.end();
      await server.stop();
      await db.close();
    },
  };
}

async function migratePostgres(pool: pg.Pool): Promise<void> {
  for (const step of recommenderStorageModule.postgres.migrations) {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await step(client);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
  }
}

const item = (id: string, title: string, tags: string[] = []): Item => ({
  id,
  title,
  description: null,
  tags,
  year: null,
  metadata: {},
});

const rating = (userId: string, itemId: string, stars: number, at: number): Rating => ({
  userId,
  itemId,
  stars,
  at: new Date(at),
  source: 'explicit',
});

let postgres: Awaited<ReturnType<typeof startPostgres>>;
let storage: PostgresRecommenderStorage;

beforeAll(async () => {
  postgres = await startPostgres();
  await migratePostgres(postgres.pool);
  storage = new PostgresRecommenderStorage(postgres.pool);
});

afterAll(async () => {
  await postgres?.close();
});

beforeEach(async () => {
  await postgres.pool.query('TRUNCATE rec_ratings, rec_users, rec_models, rec_items RESTART IDENTITY');
});

/**
 * The same writes on a storage, then everything it reads back: what both backends must agree on exactly. User ids
 * differ only in case and accents so that an order by locale would differ from SQLite's byte order.
 */
async function exercise(target: RecommenderStorage): Promise<Record<string, unknown>> {
  const vectors = [Float32Array.from([1, 0.5, -2]), Float32Array.from([0.25, 3, 4])];
  await target.upsertItems([item('b', 'Brazil', ['Sci-Fi']), item('a', 'Alien', ['Horror', 'Sci-Fi'])], {
    embedder: 'fake-3',
    vectors,
  });
  // A replaced item keeps its place; a new one comes last; within a batch the last of an id wins.
  await target.upsertItems([
    item('c', 'Casablanca'),
    { ...item('b', 'Brazil (1985)', ['Comedy']), metadata: { z: 1, a: { y: [2] } } },
    item('c', 'Casablanca (1942)', ['Drama']),
  ]);
  await target.addRatings([
    rating('bo', 'a', 4, 2000),
    rating('Bo', 'a', 2, 2000),
    rating('éva', 'b', 5, 1000),
    rating('eva', 'b', 3, 1000),
    rating('bo', 'c', 1, 3000),
    rating('bo', 'c', 2, 3000),
  ]);
  await target.addRatings([rating('bo', 'a', 5, 1500)]);
  await target.setDemographics([
    { userId: 'bo', demographics: { occupation: 'writer', age: '25-34' } },
    { userId: 'eva', demographics: { gender: 'F' } },
  ]);
  await target.setDemographics([{ userId: 'eva', demographics: { gender: 'F', age: '18-24' } }]);
  await target.saveModel(Buffer.from([0, 1, 2, 255]), { users: 3 });
  await target.saveModel(Buffer.from('the second model'), { users: 4, note: 'latest' });
  const latest = await target.latestModel();
  return {
    items: await target.items(),
    item: await target.item('b'),
    missing: await target.item('zz'),
    titles: Object.fromEntries(await target.titlesOf(['c', 'a', 'zz'])),
    embeddings: [...(await target.embeddings('fake-3'))].map(([id, vector]) => [id, Array.from(vector)]),
    otherEmbedder: (await target.embeddings('other')).size,
    ratingsOfBo: await target.ratingsOf('bo'),
    all: await target.allRatings(),
    starSums: await target.starSums(['a', 'b', 'c', 'zz']),
    raters: await target.raters(),
    demographicsOfEva: await target.demographicsOf('eva'),
    demographics: [...(await target.demographics())].sort(),
    model: { bytes: latest?.model.toString(), metadata: latest?.metadata },
    trainedAtAgrees: latest?.trainedAt.getTime() === (await target.latestModelTime()),
  };
}

describe('PostgresRecommenderStorage on PGlite over a pg.Pool', () => {
  it('creates its tables idempotently, as a file that already has them takes the step', async () => {
    await migratePostgres(postgres.pool);
    const { rows } = await postgres.pool.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'rec\\_%' ORDER BY table_name",
    );
    expect(rows.map((row) => row.table_name)).toEqual(['rec_items', 'rec_models', 'rec_ratings', 'rec_users']);
    // SQLite's step is the same DDL with IF NOT EXISTS: it runs on a file memory's migration 4 already gave them.
    const db = openDatabase(':memory:');
    for (const step of recommenderStorageModule.sqlite.migrations) step(db);
    for (const step of recommenderStorageModule.sqlite.migrations) step(db);
  });

  it('reads back exactly what SQLite reads back after the same writes', async () => {
    const fromPostgres = await exercise(storage);
    const fromSqlite = await exercise(sqliteStorage());
    expect(fromPostgres).toEqual(fromSqlite);
    // And what they agree on is right.
    expect((fromPostgres.items as Item[]).map((entry) => `${entry.id} ${entry.title}`)).toEqual([
      'b Brazil (1985)',
      'a Alien',
      'c Casablanca (1942)',
    ]);
    expect(Object.keys((fromPostgres.item as Item).metadata)).toEqual(['z', 'a']);
    expect(fromPostgres.embeddings).toEqual([['a', [0.25, 3, 4]]]);
    expect((fromPostgres.all as Rating[]).map((entry) => `${entry.userId}:${entry.itemId}:${entry.stars}`)).toEqual([
      'eva:b:3',
      'éva:b:5',
      'bo:a:5',
      'Bo:a:2',
      'bo:c:2',
    ]);
    expect(fromPostgres.starSums).toEqual({
      all: { total: 17, count: 5 },
      byItem: new Map([
        ['a', { total: 7, count: 2 }],
        ['b', { total: 8, count: 2 }],
        ['c', { total: 2, count: 1 }],
      ]),
    });
    expect(fromPostgres.raters).toEqual({
      byItem: new Map([
        ['a', 2],
        ['b', 2],
        ['c', 1],
      ]),
      people: 4,
    });
    expect(fromPostgres.demographicsOfEva).toEqual({ gender: 'F', age: '18-24' });
    expect(fromPostgres.model).toEqual({ bytes: 'the second model', metadata: { users: 4, note: 'latest' } });
    expect(fromPostgres.trainedAtAgrees).toBe(true);
    const { rows } = await postgres.pool.query('SELECT count(*)::int AS count FROM rec_models');
    expect(rows[0].count).toBe(1);
  });

  it('writes a rating batch all or nothing, and refuses bad ratings and user ids before writing', async () => {
    await storage.upsertItems([item('a', 'Alien')]);
    await expect(storage.addRatings([rating('bo', 'a', 4, 1), rating('bo', 'missing', 3, 2)])).rejects.toThrow();
    await expect(storage.addRatings([rating('bo', 'a', 6, 1)])).rejects.toThrow(/1 to 5/);
    await expect(storage.addRatings([rating('x'.repeat(201), 'a', 3, 1)])).rejects.toThrow(/longer than 200/);
    await expect(storage.setDemographics([{ userId: 'x'.repeat(201), demographics: {} }])).rejects.toThrow(
      /longer than 200/,
    );
    expect(await storage.allRatings()).toEqual([]);
    // The pool is still usable after a rolled-back transaction.
    await storage.addRatings([rating('bo', 'a', 4, 1)]);
    expect(await storage.ratingsOf('bo')).toHaveLength(1);
  });

  it('imports a dataset in one transaction: one bad rating leaves nothing of it', async () => {
    const items = Array.from({ length: 30 }, (_, index) => item(`m${index}`, `Film ${index}`));
    // More rows than one INSERT carries, so the batches share the transaction.
    const ratings = Array.from({ length: 12_000 }, (_, index) =>
      rating(`u${index % 600}`, `m${index % 30}`, 1 + (index % 5), index),
    );
    const demographics = [{ userId: 'u1', demographics: { occupation: 'pilot' } }];
    await expect(
      storage.importDataset({ items, ratings: [...ratings, rating('u1', 'nope', 3, 1)], demographics }),
    ).rejects.toThrow();
    expect(await storage.items()).toEqual([]);
    expect(await storage.demographics()).toEqual(new Map());
    await storage.importDataset({ items, ratings, demographics });
    const sqlite = sqliteStorage();
    await sqlite.importDataset({ items, ratings, demographics });
    expect((await storage.items()).map((entry) => entry.id)).toEqual(items.map((entry) => entry.id));
    expect(await storage.allRatings()).toEqual(await sqlite.allRatings());
    expect(await storage.raters()).toEqual(await sqlite.raters());
    expect(await storage.demographicsOf('u1')).toEqual({ occupation: 'pilot' });
  });

  it("forgets a user's ratings and demographics in the caller's transaction, and no one else's", async () => {
    await storage.upsertItems([item('a', 'Alien'), item('b', 'Brazil')]);
    await storage.addRatings([rating('bo', 'a', 4, 1), rating('bo', 'b', 2, 2), rating('eva', 'a', 5, 3)]);
    await storage.setDemographics([
      { userId: 'bo', demographics: { occupation: 'writer' } },
      { userId: 'eva', demographics: { occupation: 'pilot' } },
    ]);
    const target = { userId: 'bo', threadPrefix: 'bo/' };
    const client = await postgres.pool.connect();
    try {
      await client.query('BEGIN');
      expect(await recommenderStorageModule.postgres.forget!(client, target)).toEqual({ ratings: 2 });
      // Rolled back with the transaction it runs in.
      await client.query('ROLLBACK');
      expect(await storage.ratingsOf('bo')).toHaveLength(2);
      await client.query('BEGIN');
      expect(await recommenderStorageModule.postgres.forget!(client, target)).toEqual({ ratings: 2 });
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    expect(await storage.ratingsOf('bo')).toEqual([]);
    expect(await storage.demographicsOf('bo')).toBeUndefined();
    expect(await storage.ratingsOf('eva')).toHaveLength(1);
    expect(await storage.demographicsOf('eva')).toEqual({ occupation: 'pilot' });

    // SQLite's step does the same.
    const db = openDatabase(':memory:');
    const sqlite = sqliteStorage(db);
    await sqlite.upsertItems([item('a', 'Alien'), item('b', 'Brazil')]);
    await sqlite.addRatings([rating('bo', 'a', 4, 1), rating('bo', 'b', 2, 2), rating('eva', 'a', 5, 3)]);
    await sqlite.setDemographics([{ userId: 'bo', demographics: {} }]);
    expect(db.transaction(() => recommenderStorageModule.sqlite.forget!(db, target))()).toEqual({ ratings: 2 });
    expect(await sqlite.ratingsOf('bo')).toEqual([]);
    expect(await sqlite.demographicsOf('bo')).toBeUndefined();
    expect(await sqlite.ratingsOf('eva')).toHaveLength(1);
  });

  it('is chosen by the backend memory was opened on', () => {
    expect(recommenderStorage({ kind: 'postgres', pool: postgres.pool, location: 'pglite' })).toBeInstanceOf(
      PostgresRecommenderStorage,
    );
    expect(recommenderStorage({ kind: 'sqlite', db: openDatabase(':memory:'), location: ':memory:' })).toBeInstanceOf(
      SqliteRecommenderStorage,
    );
  });
});

describe('the recommender served from PostgreSQL', { timeout: 60_000 }, () => {
  it('recommends and predicts exactly as from SQLite: before training, after training, after a new rating', async () => {
    const data = generated();
    const run = async (target: RecommenderStorage): Promise<unknown[]> => {
      const service = new RecommenderService({ storage: target, now: () => new Date(1_800_000_000_000) });
      await service.importItems(data.items);
      await service.storage.addRatings(data.ratings);
      const results: unknown[] = [];
      // No model yet: popularity, others' averages.
      results.push(await service.recommend('u0', { k: 5 }), await service.predict('stranger', 'm3'));
      results.push(await service.train({ factors: 8, personas: 3 }));
      for (const user of ['u0', 'u7', 'stranger'])
        results.push(await service.recommend(user, { k: 10 }), await service.predict(user, 'm11'));
      await service.rate('stranger', 'film number 12', 5);
      results.push(await service.recommend('stranger', { k: 10 }), (await service.scoreCatalog('u3')).scores);
      results.push(await service.persona('u5'), await service.automaticPersona('stranger'));
      return results;
    };
    const fromPostgres = await run(storage);
    const fromSqlite = await run(sqliteStorage());
    expect(fromPostgres).toEqual(fromSqlite);
    // The run reached each level, so the comparison covers each path.
    const levels = new Set(
      fromSqlite.flatMap((entry) =>
        (Array.isArray(entry) ? entry : [entry]).flatMap((value) =>
          typeof value === 'object' && value !== null && 'level' in value ? [value.level] : [],
        ),
      ),
    );
    expect(levels).toEqual(new Set(['global', 'persona', 'user']));
  });
});
