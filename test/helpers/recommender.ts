import { FakeEmbedder } from '../../memory/embedders/fake.js';
import { SqliteMemoryStore } from '../../memory/sqlite/store.js';
import { RecommenderService } from '../../recommender/service.js';
import type { Item, Rating } from '../../recommender/types.js';

/** A recommender over an in-memory store, with `data` stored and a model trained on it. */
export function trainedService(data: { items: Item[]; ratings: Rating[] }, train: { factors: number; personas: number }): { service: RecommenderService; memory: SqliteMemoryStore } {
  const memory = SqliteMemoryStore.open(':memory:', { embedder: new FakeEmbedder() });
  const service = new RecommenderService({ db: memory.db, memory });
  service.storage.upsertItems(data.items);
  service.storage.addRatings(data.ratings);
  service.train(train);
  return { service, memory };
}
