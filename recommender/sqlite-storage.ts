import type Database from 'better-sqlite3';
import {
  checkDemographics,
  checkRatings,
  type Dataset,
  type DemographicsEntry,
  type ItemEmbeddings,
  type RecommenderStorage,
  type StarSum,
  type StoredModel,
  toVector,
  vectorBytes,
} from './storage.js';
import type { Item, Rating, RatingSource } from './types.js';

interface ItemRow {
  id: string;
  title: string;
  description: string | null;
  tags: string;
  year: number | null;
  metadata: string;
}

const toItem = (row: ItemRow): Item => ({
  id: row.id,
  title: row.title,
  description: row.description,
  tags: JSON.parse(row.tags) as string[],
  year: row.year,
  metadata: JSON.parse(row.metadata) as Record<string, unknown>,
});

/**
 * The recommender's tables in the SQLite file memory keeps (`recommenderStorageModule` creates them). better-sqlite3
 * is synchronous: each method does its work at once and returns a settled promise, and each write is one
 * `db.transaction`.
 */
export class SqliteRecommenderStorage implements RecommenderStorage {
  constructor(private readonly db: Database.Database) {}

  async upsertItems(items: readonly Item[], embeddings?: ItemEmbeddings): Promise<void> {
    this.db.transaction(() => this.writeItems(items, embeddings))();
  }

  async items(): Promise<Item[]> {
    return (
      this.db
        .prepare('SELECT id, title, description, tags, year, metadata FROM rec_items ORDER BY rowid')
        .all() as ItemRow[]
    ).map(toItem);
  }

  async item(id: string): Promise<Item | undefined> {
    const row = this.db
      .prepare('SELECT id, title, description, tags, year, metadata FROM rec_items WHERE id = ?')
      .get(id) as ItemRow | undefined;
    return row ? toItem(row) : undefined;
  }

  async titlesOf(ids: readonly string[]): Promise<Map<string, string>> {
    const rows = this.db
      .prepare('SELECT id, title FROM rec_items WHERE id IN (SELECT value FROM json_each(?))')
      .all(JSON.stringify(ids)) as Array<{ id: string; title: string }>;
    return new Map(rows.map((row) => [row.id, row.title]));
  }

  async embeddings(embedder: string): Promise<Map<string, Float32Array>> {
    const rows = this.db
      .prepare('SELECT id, embedding FROM rec_items WHERE embedder = ? AND embedding IS NOT NULL')
      .all(embedder) as Array<{ id: string; embedding: Buffer }>;
    return new Map(rows.map((row) => [row.id, toVector(row.embedding)]));
  }

  async addRatings(ratings: readonly Rating[]): Promise<void> {
    checkRatings(ratings);
    this.db.transaction(() => this.writeRatings(ratings))();
  }

  async ratingsOf(userId: string): Promise<Rating[]> {
    const rows = this.db
      .prepare('SELECT item_id, stars, at, source FROM rec_ratings WHERE user_id = ? ORDER BY at, item_id')
      .all(userId) as Array<{ item_id: string; stars: number; at: number; source: RatingSource }>;
    return rows.map((row) => ({
      userId,
      itemId: row.item_id,
      stars: row.stars,
      at: new Date(row.at),
      source: row.source,
    }));
  }

  async allRatings(): Promise<Rating[]> {
    const rows = this.db
      .prepare('SELECT user_id, item_id, stars, at, source FROM rec_ratings ORDER BY at, user_id, item_id')
      .all() as Array<{ user_id: string; item_id: string; stars: number; at: number; source: RatingSource }>;
    return rows.map((row) => ({
      userId: row.user_id,
      itemId: row.item_id,
      stars: row.stars,
      at: new Date(row.at),
      source: row.source,
    }));
  }

  async starSums(itemIds: readonly string[]): Promise<{ all: StarSum; byItem: Map<string, StarSum> }> {
    const all = this.db.prepare('SELECT coalesce(sum(stars), 0) AS total, count(*) AS count FROM rec_ratings').get() as
      | StarSum
      | undefined;
    const rows = this.db
      .prepare(
        `SELECT item_id, sum(stars) AS total, count(*) AS count FROM rec_ratings
         WHERE item_id IN (SELECT value FROM json_each(?)) GROUP BY item_id`,
      )
      .all(JSON.stringify(itemIds)) as Array<{ item_id: string } & StarSum>;
    return {
      all: all ?? { total: 0, count: 0 },
      byItem: new Map(rows.map((row) => [row.item_id, { total: row.total, count: row.count }])),
    };
  }

  async raters(): Promise<{ byItem: Map<string, number>; people: number }> {
    const rows = this.db.prepare('SELECT item_id, count(*) AS count FROM rec_ratings GROUP BY item_id').all() as Array<{
      item_id: string;
      count: number;
    }>;
    const people = this.db.prepare('SELECT count(DISTINCT user_id) FROM rec_ratings').pluck().get() as number;
    return { byItem: new Map(rows.map((row) => [row.item_id, row.count])), people };
  }

  async setDemographics(entries: readonly DemographicsEntry[]): Promise<void> {
    checkDemographics(entries);
    this.db.transaction(() => this.writeDemographics(entries))();
  }

  async demographicsOf(userId: string): Promise<Record<string, string> | undefined> {
    const row = this.db.prepare('SELECT demographics FROM rec_users WHERE user_id = ?').get(userId) as
      | { demographics: string }
      | undefined;
    return row ? (JSON.parse(row.demographics) as Record<string, string>) : undefined;
  }

  async demographics(): Promise<Map<string, Record<string, string>>> {
    const rows = this.db.prepare('SELECT user_id, demographics FROM rec_users').all() as Array<{
      user_id: string;
      demographics: string;
    }>;
    return new Map(rows.map((row) => [row.user_id, JSON.parse(row.demographics) as Record<string, string>]));
  }

  async importDataset(dataset: Dataset): Promise<void> {
    checkRatings(dataset.ratings);
    checkDemographics(dataset.demographics);
    this.db.transaction(() => {
      this.writeItems(dataset.items);
      this.writeRatings(dataset.ratings);
      this.writeDemographics(dataset.demographics);
    })();
  }

  async saveModel(model: Buffer, metadata: Record<string, unknown>): Promise<void> {
    this.db.transaction(() => {
      // Only the latest model is used; older ones would only grow the file.
      this.db.prepare('DELETE FROM rec_models').run();
      this.db
        .prepare('INSERT INTO rec_models (trained_at, metadata, model) VALUES (?, ?, ?)')
        .run(Date.now(), JSON.stringify(metadata), model);
    })();
  }

  async latestModelTime(): Promise<number | undefined> {
    return this.db.prepare('SELECT trained_at FROM rec_models ORDER BY id DESC LIMIT 1').pluck().get() as
      | number
      | undefined;
  }

  async latestModel(): Promise<StoredModel | undefined> {
    const row = this.db.prepare('SELECT trained_at, metadata, model FROM rec_models ORDER BY id DESC LIMIT 1').get() as
      | { trained_at: number; metadata: string; model: Buffer }
      | undefined;
    return row
      ? {
          model: row.model,
          metadata: JSON.parse(row.metadata) as Record<string, unknown>,
          trainedAt: new Date(row.trained_at),
        }
      : undefined;
  }

  private writeItems(items: readonly Item[], embeddings?: ItemEmbeddings): void {
    const statement = this.db.prepare(
      `INSERT INTO rec_items (id, title, description, tags, year, metadata, embedding, embedder) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET title = excluded.title, description = excluded.description, tags = excluded.tags,
         year = excluded.year, metadata = excluded.metadata, embedding = excluded.embedding, embedder = excluded.embedder`,
    );
    items.forEach((item, index) => {
      const vector = embeddings?.vectors[index];
      statement.run(
        item.id,
        item.title,
        item.description,
        JSON.stringify(item.tags),
        item.year,
        JSON.stringify(item.metadata),
        vector ? vectorBytes(vector) : null,
        vector ? embeddings!.embedder : null,
      );
    });
  }

  private writeRatings(ratings: readonly Rating[]): void {
    const statement = this.db.prepare(
      `INSERT INTO rec_ratings (user_id, item_id, stars, at, source) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (user_id, item_id) DO UPDATE SET stars = excluded.stars, at = excluded.at, source = excluded.source`,
    );
    for (const rating of ratings)
      statement.run(rating.userId, rating.itemId, rating.stars, rating.at.getTime(), rating.source);
  }

  private writeDemographics(entries: readonly DemographicsEntry[]): void {
    const statement = this.db.prepare(
      'INSERT INTO rec_users (user_id, demographics) VALUES (?, ?) ON CONFLICT (user_id) DO UPDATE SET demographics = excluded.demographics',
    );
    for (const entry of entries) statement.run(entry.userId, JSON.stringify(entry.demographics));
  }
}
