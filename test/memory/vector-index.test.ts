import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeEmbedder } from '../../memory/embedders/fake.js';
import { SqliteMemoryStore } from '../../memory/sqlite/store.js';
import { IVF_MIN_VECTORS, sphericalKMeans, VectorIndex } from '../../memory/sqlite/vector-index.js';
import { userScope } from '../../memory/types.js';
import { tempDir } from '../helpers/tmp.js';

describe('vector index', () => {
  it('clusters a namespace that outgrows brute force and still finds its memories', async () => {
    const store = SqliteMemoryStore.open(':memory:', { embedder: new FakeEmbedder({ dims: 256 }) });
    const big = userScope('big');
    const small = userScope('small');
    const topics = ['garden', 'piano', 'sailing', 'chess', 'baking', 'cycling', 'poetry', 'astronomy'];
    const turns = Array.from({ length: IVF_MIN_VECTORS + 500 }, (_, index) => ({
      text: `${topics[index % topics.length]} note ${index % 97} word${index % 13}`,
      session: `s${Math.floor(index / 20)}`,
    }));
    await store.addEpisodes(big, turns.slice(0, 10_000));
    await store.addEpisodes(small, [{ text: 'piano lessons on tuesday' }]);
    const cells = () => store.db.prepare('SELECT count(*) FROM vector_cells').pluck().get() as number;
    expect(cells()).toBe(0);
    await store.addEpisodes(big, turns.slice(10_000));
    expect(cells()).toBeGreaterThanOrEqual(8);

    // Every vector moved to a cell partition: none is lost, and new turns are filed into cells too.
    const [fresh] = await store.addEpisodes(big, [{ text: 'zebra crossing at the lighthouse' }]);
    const vectors = store.db
      .prepare(`SELECT count(*) FROM ${(await store.vectorIndex())!.table}`)
      .pluck()
      .get();
    expect(vectors).toBe(turns.length + 2);
    const hits = await store.search([big], 'zebra lighthouse', { k: 5, weights: { text: 0 } });
    expect(hits[0]!.memory.id).toBe(fresh!.id);

    // A wider net that takes only 25 from each scanned cell keeps the exact top 25 and adds the cells' next ones.
    const index = new VectorIndex((sql) => store.db.prepare(sql), (await store.vectorIndex())!);
    const namespace = store.db.prepare('SELECT DISTINCT namespace_id FROM vector_cells').pluck().get() as number;
    const [query] = await new FakeEmbedder({ dims: 256 }).embed(['piano note word3']);
    const top = index.nearest(namespace, query!, 25);
    const net = index.nearest(namespace, query!, 100, 25);
    expect(net.slice(0, 25)).toEqual(top);
    expect(net.length).toBeGreaterThan(25);
    expect(net.length).toBeLessThanOrEqual(100);
    expect((await store.search([small], 'piano')).map((hit) => hit.memory.text)).toEqual(['piano lessons on tuesday']);

    await store.forget(big);
    expect(cells()).toBe(0);
    expect(
      store.db
        .prepare(`SELECT count(*) FROM ${(await store.vectorIndex())!.table}`)
        .pluck()
        .get(),
    ).toBe(1);
    await store.close();
  });

  it('a connection sharing the file finds vectors another one clustered after it had looked', async () => {
    const path = join(tempDir(), 'shared.db');
    const embedder = new FakeEmbedder({ dims: 256 });
    const bot = SqliteMemoryStore.open(path, { embedder });
    const chat = SqliteMemoryStore.open(path, { embedder });
    const big = userScope('big');
    // Three words each, no two turns the same three.
    const text = (index: number) => `alpha${index % 97} beta${index % 89} gamma${index % 83}`;
    const turns = Array.from({ length: IVF_MIN_VECTORS + 100 }, (_, index) => ({ text: text(index) }));
    const [first] = await bot.addEpisodes(big, turns.slice(0, 100));
    const namespace = bot.db.prepare('SELECT namespace_id FROM memories LIMIT 1').pluck().get() as number;
    // The bot's nearest-vector search (the KNN alone, no full text) reads the namespace while it is one partition...
    const index = new VectorIndex((sql) => bot.db.prepare(sql), (await bot.vectorIndex())!);
    const [query] = await embedder.embed([first!.text]);
    expect(index.nearest(namespace, query!, 1)[0]?.cosine).toBeCloseTo(1, 5);
    // ...then the chat's writes make it big enough to cluster, which moves the vectors to cells.
    await chat.addEpisodes(big, turns.slice(100));
    const table = (await chat.vectorIndex())!.table;
    const moved = chat.db
      .prepare(`SELECT m.id, m.text FROM memories m JOIN ${table} v ON v.rowid = m.id WHERE v.cell_key % 1024 != 0`)
      .get() as { id: number; text: string };
    const [movedQuery] = await embedder.embed([moved.text]);
    const [hit] = index.nearest(namespace, movedQuery!, 1);
    expect(hit?.cosine).toBeCloseTo(1, 5);
    await bot.close();
    await chat.close();
  });

  it('spherical k-means separates clear clusters', () => {
    const point = (x: number, y: number) => {
      const norm = Math.hypot(x, y);
      return Float32Array.from([x / norm, y / norm]);
    };
    const vectors = [point(1, 0.01), point(1, -0.01), point(0.01, 1), point(-0.01, 1)];
    const centroids = sphericalKMeans(vectors, 2, 2);
    const cellOf = (vector: Float32Array) =>
      centroids[0]![0]! * vector[0]! + centroids[0]![1]! * vector[1]! > 0.9 ? 0 : 1;
    expect(cellOf(vectors[0]!)).toBe(cellOf(vectors[1]!));
    expect(cellOf(vectors[2]!)).toBe(cellOf(vectors[3]!));
    expect(cellOf(vectors[0]!)).not.toBe(cellOf(vectors[2]!));
  });
});
