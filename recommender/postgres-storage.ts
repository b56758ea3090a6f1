import type pg from 'pg';
import { postgresTransaction as transaction } from '../memory/index.js';
import {
  checkDemographics,
  checkRatings,
  type Dataset,
  type DemographicsEntry,
  type ItemEmbeddings,
  lastPerKey,
  type RecommenderStorage,
  type StarSum,
  type StoredModel,
  toVector,
  vectorBytes,
} from './storage.js';
import type { Item, Rating, RatingSource } from './types.js';

/** Rows per INSERT of a batch: a parameter per column holds an array of this many values. */
const BATCH = 5000;

interface ItemRow {
  id: string;
  title: string;
  description: string | null;
  // `json` columns arrive parsed.
  tags: string[];
  year: number | null;
  metadata: Record<string, unknown>;
}

const toItem = (row: ItemRow): Item => ({
  id: row.id,
  title: row.title,
  description: row.description,
  tags: row.tags,
  year: row.year,
  metadata: row.metadata,
});

interface RatingRow {
  user_id: string;
  item_id: string;
  stars: number;
  // bigint arrives as a string (pg's default: it may exceed 2^53; these are milliseconds, which do not).
  at: string;
  source: RatingSource;
}

const toRating = (row: RatingRow): Rating => ({
  userId: row.user_id,
  itemId: row.item_id,
  stars: row.stars,
  at: new Date(Number(row.at)),
  source: row.source,
});

function* batches<T>(entries: readonly T[]): Generator<T[]> {
  for (let start = 0; start < entries.length; start += BATCH) yield entries.slice(start, start + BATCH);
}

/**
 * The recommender's tables in a PostgreSQL database shared with memory (`recommenderStorageModule` creates them). Text
 * keys are `COLLATE "C"`, so orders by id are byte orders, as in SQLite; items keep the order they were first stored
 * in through an identity column (SQLite's rowid). Batches are written a few thousand rows per statement, through
 * `unnest` of one array per column.
 */
export class PostgresRecommenderStorage implements RecommenderStorage {
  constructor(private readonly pool: pg.Pool) {}

  async upsertItems(items: readonly Item[], embeddings?: ItemEmbeddings): Promise<void> {
    await transaction(this.pool, (client) => writeItems(client, items, embeddings));
  }

  async items(): Promise<Item[]> {
    const { rows } = await this.pool.query<ItemRow>(
      'SELECT id, title, description, tags, year, metadata FROM rec_items ORDER BY position',
    );
    return rows.map(toItem);
  }

  async item(id: string): Promise<Item | undefined> {
    const { rows } = await this.pool.query<ItemRow>(
      'SELECT id, title, description, tags, year, metadata FROM rec_items WHERE id = $1',
      [id],
    );
    return rows[0] && toItem(rows[0]);
  }

  async titlesOf(ids: readonly string[]): Promise<Map<string, string>> {
    const { rows } = await this.pool.query<{ id: string; title: string }>(
      'SELECT id, title FROM rec_items WHERE id = ANY ($1::text[])',
      [ids],
    );
    return new Map(rows.map((row) => [row.id, row.title]));
  }

  async embeddings(embedder: string): Promise<Map<string, Float32Array>> {
    const { rows } = await this.pool.query<{ id: string; embedding: Buffer }>(
      'SELECT id, embedding FROM rec_items WHERE embedder = $1 AND embedding IS NOT NULL',
      [embedder],
    );
    return new Map(rows.map((row) => [row.id, toVector(row.embedding)]));
  }

  async addRatings(ratings: readonly Rating[]): Promise<void> {
    checkRatings(ratings);
    await transaction(this.pool, (client) => writeRatings(client, ratings));
  }

  async ratingsOf(userId: string): Promise<Rating[]> {
    const { rows } = await this.pool.query<RatingRow>(
      'SELECT user_id, item_id, stars, at, source FROM rec_ratings WHERE user_id = $1 ORDER BY at, item_id',
      [userId],
    );
    return rows.map(toRating);
  }

  async allRatings(): Promise<Rating[]> {
    const { rows } = await this.pool.query<RatingRow>(
      'SELECT user_id, item_id, stars, at, source FROM rec_ratings ORDER BY at, user_id, item_id',
    );
    return rows.map(toRating);
  }

  async starSums(itemIds: readonly string[]): Promise<{ all: StarSum; byItem: Map<string, StarSum> }> {
    // sum and count are bigint, which arrive as strings.
    const all = await this.pool.query<{ total: string; count: string }>(
      'SELECT coalesce(sum(stars), 0) AS total, count(*) AS count FROM rec_ratings',
    );
    const { rows } = await this.pool.query<{ item_id: string; total: string; count: string }>(
      `SELECT item_id, sum(stars) AS total, count(*) AS count FROM rec_ratings
       WHERE item_id = ANY ($1::text[]) GROUP BY item_id`,
      [itemIds],
    );
    return {
      all: { total: Number(all.rows[0]!.total), count: Number(all.rows[0]!.count) },
      byItem: new Map(rows.map((row) => [row.item_id, { total: Number(row.total), count: Number(row.count) }])),
    };
  }

  async raters(): Promise<{ byItem: Map<string, number>; people: number }> {
    const { rows } = await this.pool.query<{ item_id: string; count: string }>(
      'SELECT item_id, count(*) AS count FROM rec_ratings GROUP BY item_id',
    );
    const people = await this.pool.query<{ count: string }>('SELECT count(DISTINCT user_id) AS count FROM rec_ratings');
    return {
      byItem: new Map(rows.map((row) => [row.item_id, Number(row.count)])),
      people: Number(people.rows[0]!.count),
    };
  }

  async setDemographics(entries: readonly DemographicsEntry[]): Promise<void> {
    checkDemographics(entries);
    await transaction(this.pool, (client) => writeDemographics(client, entries));
  }

  async demographicsOf(userId: string): Promise<Record<string, string> | undefined> {
    const { rows } = await this.pool.query<{ demographics: Record<string, string> }>(
      'SELECT demographics FROM rec_users WHERE user_id = $1',
      [userId],
    );
    return rows[0]?.demographics;
  }

  async demographics(): Promise<Map<string, Record<string, string>>> {
    const { rows } = await this.pool.query<{ user_id: string; demographics: Record<string, string> }>(
      'SELECT user_id, demographics FROM rec_users',
    );
    return new Map(rows.map((row) => [row.user_id, row.demographics]));
  }

  async importDataset(dataset: Dataset): Promise<void> {
    checkRatings(dataset.ratings);
    checkDemographics(dataset.demographics);
    await transaction(this.pool, async (client) => {
      await writeItems(client, dataset.items);
      await writeRatings(client, dataset.ratings);
      await writeDemographics(client, dataset.demographics);
    });
  }

  async saveModel(model: Buffer, metadata: Record<string, unknown>): Promise<void> {
    await transaction(this.pool, async (client) => {
      // Only the latest model is used; older ones would only grow the database.
      await client.query('DELETE FROM rec_models');
      await client.query('INSERT INTO rec_models (trained_at, metadata, model) VALUES ($1, $2, $3)', [
        Date.now(),
        JSON.stringify(metadata),
        model,
      ]);
    });
  }

  async latestModelTime(): Promise<number | undefined> {
    const { rows } = await this.pool.query<{ trained_at: string }>(
      'SELECT trained_at FROM rec_models ORDER BY id DESC LIMIT 1',
    );
    return rows[0] && Number(rows[0].trained_at);
  }

  async latestModel(): Promise<StoredModel | undefined> {
    const { rows } = await this.pool.query<{ trained_at: string; metadata: Record<string, unknown>; model: Buffer }>(
      'SELECT trained_at, metadata, model FROM rec_models ORDER BY id DESC LIMIT 1',
    );
    const row = rows[0];
    return row && { model: row.model, metadata: row.metadata, trainedAt: new Date(Number(row.trained_at)) };
  }
}

async function writeItems(client: pg.ClientBase, items: readonly Item[], embeddings?: ItemEmbeddings): Promise<void> {
  // One statement may not update a row twice: the last of an id wins, at its first position, as one by one would.
  const entries = lastPerKey(
    items.map((item, index) => ({ item, vector: embeddings?.vectors[index] })),
    (entry) => entry.item.id,
  );
  for (const batch of batches(entries)) {
    // The identity column numbers rows in the order the SELECT gives them.
    await client.query(
      `INSERT INTO rec_items (id, title, description, tags, year, metadata, embedding, embedder)
       SELECT id, title, description, tags::json, year, metadata::json, embedding, embedder
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::integer[], $6::text[], $7::bytea[], $8::text[])
         WITH ORDINALITY AS batch (id, title, description, tags, year, metadata, embedding, embedder, ordinality)
       ORDER BY ordinality
       ON CONFLICT (id) DO UPDATE SET title = excluded.title, description = excluded.description, tags = excluded.tags,
         year = excluded.year, metadata = excluded.metadata, embedding = excluded.embedding, embedder = excluded.embedder`,
      [
        batch.map(({ item }) => item.id),
        batch.map(({ item }) => item.title),
        batch.map(({ item }) => item.description),
        batch.map(({ item }) => JSON.stringify(item.tags)),
        batch.map(({ item }) => item.year),
        batch.map(({ item }) => JSON.stringify(item.metadata)),
        batch.map(({ vector }) => (vector ? vectorBytes(vector) : null)),
        batch.map(({ vector }) => (vector ? embeddings!.embedder : null)),
      ],
    );
  }
}

async function writeRatings(client: pg.ClientBase, ratings: readonly Rating[]): Promise<void> {
  const entries = lastPerKey(ratings, (rating) => JSON.stringify([rating.userId, rating.itemId]));
  for (const batch of batches(entries)) {
    await client.query(
      `INSERT INTO rec_ratings (user_id, item_id, stars, at, source)
       SELECT * FROM unnest($1::text[], $2::text[], $3::smallint[], $4::bigint[], $5::text[])
       ON CONFLICT (user_id, item_id) DO UPDATE SET stars = excluded.stars, at = excluded.at, source = excluded.source`,
      [
        batch.map((rating) => rating.userId),
        batch.map((rating) => rating.itemId),
        batch.map((rating) => rating.stars),
        batch.map((rating) => rating.at.getTime()),
        batch.map((rating) => rating.source),
      ],
    );
  }
}

async function writeDemographics(client: pg.ClientBase, entries: readonly DemographicsEntry[]): Promise<void> {
  for (const batch of batches(lastPerKey(entries, (entry) => entry.userId))) {
    await client.query(
      `INSERT INTO rec_users (user_id, demographics)
       SELECT user_id, demographics::json FROM unnest($1::text[], $2::text[]) AS batch (user_id, demographics)
       ON CONFLICT (user_id) DO UPDATE SET demographics = excluded.demographics`,
      [batch.map((entry) => entry.userId), batch.map((entry) => JSON.stringify(entry.demographics))],
    );
  }
}
