import type Database from 'better-sqlite3';
import { FakeEmbedder } from '../../memory/embedders/fake.js';
import { openDatabase } from '../../memory/sqlite/database.js';
import { SqliteMemoryStore } from '../../memory/sqlite/store.js';
import { recommenderStorage, recommenderStorageModule } from '../../recommender/backend.js';
import { createRandom } from '../../recommender/model/random.js';
import { RecommenderService } from '../../recommender/service.js';
import { SqliteRecommenderStorage } from '../../recommender/sqlite-storage.js';
import type { Item, Rating } from '../../recommender/types.js';
import { STORAGE_MODULES } from '../../src/storage.js';

/** The recommender's storage in `db`, its tables created as the store's storage module step creates them. */
export function sqliteStorage(db: Database.Database = openDatabase(':memory:')): SqliteRecommenderStorage {
  for (const step of recommenderStorageModule.sqlite.migrations) step(db);
  return new SqliteRecommenderStorage(db);
}

/** A recommender over a store (in memory, with every storage module, unless given), reading its memory. */
export function serviceOver(
  memory: SqliteMemoryStore = SqliteMemoryStore.open(':memory:', {
    embedder: new FakeEmbedder(),
    modules: STORAGE_MODULES,
  }),
  options: { embedder?: FakeEmbedder } = {},
): { service: RecommenderService; memory: SqliteMemoryStore } {
  const service = new RecommenderService({ storage: recommenderStorage(memory.backend), memory, ...options });
  return { service, memory };
}

/** A recommender over an in-memory store, with `data` stored and a model trained on it. */
export async function trainedService(
  data: { items: Item[]; ratings: Rating[] },
  train: { factors: number; personas: number },
): Promise<{ service: RecommenderService; memory: SqliteMemoryStore }> {
  const { service, memory } = serviceOver();
  await service.storage.upsertItems(data.items);
  await service.storage.addRatings(data.ratings);
  await service.train(train);
  return { service, memory };
}

export const GENRES = ['Horror', 'Comedy', 'Drama', 'Musical', 'Sci-Fi', 'Western'];
/** Indices into GENRES of what generated user `user` likes. */
export const likedGenres = (user: number): Set<number> =>
  new Set([2 * Math.floor((user % 6) / 2), 2 * Math.floor((user % 6) / 2) + 1]);

/**
 * 60 items in 6 genres (item `m<i>` has genre i mod 6); 40 users `u<n>` in three taste groups who each like two genres
 * (Horror and Comedy, Drama and Musical, Sci-Fi and Western) and dislike the rest, and, as people do, rate what they
 * like more often than what they do not (so who rated what carries taste, as the top-k ranking assumes).
 */
export function generated(): { items: Item[]; ratings: Rating[] } {
  const random = createRandom(1);
  const items: Item[] = Array.from({ length: 60 }, (_, index) => ({
    id: `m${index}`,
    title: `Film number ${index} (${2000 + (index % 20)})`,
    description: null,
    tags: [GENRES[index % GENRES.length]!],
    year: 2000 + (index % 20),
    metadata: {},
  }));
  const ratings: Rating[] = [];
  for (let user = 0; user < 40; user++) {
    const liked = likedGenres(user);
    for (const item of items) {
      const genre = Number(item.id.slice(1)) % 6;
      if (random.next() > (liked.has(genre) ? 0.6 : 0.15)) continue;
      ratings.push({
        userId: `u${user}`,
        itemId: item.id,
        stars: liked.has(genre) ? 5 : 2,
        at: new Date(1_700_000_000_000 + ratings.length),
        source: 'explicit',
      });
    }
  }
  return { items, ratings };
}
