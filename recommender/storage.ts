import type Database from 'better-sqlite3';
import { InputError, userScope, validateScope } from '../memory/index.js';
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

/** Reads and writes the recommender's tables. */
export class RecommenderStorage {
  constructor(readonly db: Database.Database) {}

  /** Inserts or replaces items (one transaction), with their embeddings when given. */
  upsertItems(items: readonly Item[], embeddings?: { embedder: string; vectors: readonly Float32Array[] }): void {
    const statement = this.db.prepare(
      `INSERT INTO rec_items (id, title, description, tags, year, metadata, embedding, embedder) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET title = excluded.title, description = excluded.description, tags = excluded.tags,
         year = excluded.year, metadata = excluded.metadata, embedding = excluded.embedding, embedder = excluded.embedder`,
    );
    this.db.transaction(() => {
      items.forEach((item, index) => {
        const vector = embeddings?.vectors[index];
        statement.run(
          item.id,
          item.title,
          item.description,
          JSON.stringify(item.tags),
          item.year,
          JSON.stringify(item.metadata),
          vector ? Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength) : null,
          vector ? embeddings!.embedder : null,
        );
      });
    })();
  }

  items(): Item[] {
    return (
      this.db
        .prepare('SELECT id, title, description, tags, year, metadata FROM rec_items ORDER BY rowid')
        .all() as ItemRow[]
    ).map(toItem);
  }

  item(id: string): Item | undefined {
    const row = this.db
      .prepare('SELECT id, title, description, tags, year, metadata FROM rec_items WHERE id = ?')
      .get(id) as ItemRow | undefined;
    return row ? toItem(row) : undefined;
  }

  /** Titles of the given items (unknown ids are left out). */
  titlesOf(ids: readonly string[]): Map<string, string> {
    const rows = this.db
      .prepare('SELECT id, title FROM rec_items WHERE id IN (SELECT value FROM json_each(?))')
      .all(JSON.stringify(ids)) as Array<{ id: string; title: string }>;
    return new Map(rows.map((row) => [row.id, row.title]));
  }

  /** Item embeddings made by `embedder`, by item id. */
  embeddings(embedder: string): Map<string, Float32Array> {
    const rows = this.db
      .prepare('SELECT id, embedding FROM rec_items WHERE embedder = ? AND embedding IS NOT NULL')
      .all(embedder) as Array<{ id: string; embedding: Buffer }>;
    return new Map(
      rows.map((row) => [
        row.id,
        new Float32Array(
          row.embedding.buffer.slice(row.embedding.byteOffset, row.embedding.byteOffset + row.embedding.byteLength),
        ),
      ]),
    );
  }

  /** Records ratings (one transaction); a rating of an item already rated replaces it. */
  addRatings(ratings: readonly Rating[]): void {
    for (const rating of ratings) {
      validateScope(userScope(rating.userId));
      if (!Number.isInteger(rating.stars) || rating.stars < 1 || rating.stars > 5)
        throw new InputError(`stars must be a whole number from 1 to 5, not ${rating.stars}`);
    }
    const statement = this.db.prepare(
      `INSERT INTO rec_ratings (user_id, item_id, stars, at, source) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (user_id, item_id) DO UPDATE SET stars = excluded.stars, at = excluded.at, source = excluded.source`,
    );
    this.db.transaction(() => {
      for (const rating of ratings)
        statement.run(rating.userId, rating.itemId, rating.stars, rating.at.getTime(), rating.source);
    })();
  }

  ratingsOf(userId: string): Rating[] {
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

  allRatings(): Rating[] {
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

  setDemographics(entries: ReadonlyArray<{ userId: string; demographics: Record<string, string> }>): void {
    for (const entry of entries) validateScope(userScope(entry.userId));
    const statement = this.db.prepare(
      'INSERT INTO rec_users (user_id, demographics) VALUES (?, ?) ON CONFLICT (user_id) DO UPDATE SET demographics = excluded.demographics',
    );
    this.db.transaction(() => {
      for (const entry of entries) statement.run(entry.userId, JSON.stringify(entry.demographics));
    })();
  }

  demographicsOf(userId: string): Record<string, string> | undefined {
    const row = this.db.prepare('SELECT demographics FROM rec_users WHERE user_id = ?').get(userId) as
      | { demographics: string }
      | undefined;
    return row ? (JSON.parse(row.demographics) as Record<string, string>) : undefined;
  }

  /** Users placed in a persona. Memory's table (memory/sqlite/migrations.ts), read here because the store has no count of it. */
  personaMembers(persona: string): number {
    return this.db.prepare('SELECT count(*) FROM persona_members WHERE persona = ?').pluck().get(persona) as number;
  }

  demographics(): Map<string, Record<string, string>> {
    const rows = this.db.prepare('SELECT user_id, demographics FROM rec_users').all() as Array<{
      user_id: string;
      demographics: string;
    }>;
    return new Map(rows.map((row) => [row.user_id, JSON.parse(row.demographics) as Record<string, string>]));
  }

  saveModel(model: Buffer, metadata: Record<string, unknown>): void {
    this.db.transaction(() => {
      // Only the latest model is used; older ones would only grow the file.
      this.db.prepare('DELETE FROM rec_models').run();
      this.db
        .prepare('INSERT INTO rec_models (trained_at, metadata, model) VALUES (?, ?, ?)')
        .run(Date.now(), JSON.stringify(metadata), model);
    })();
  }

  /** When the latest model was trained (ms since the epoch): a cheap check before reading its bytes. */
  latestModelTime(): number | undefined {
    return this.db.prepare('SELECT trained_at FROM rec_models ORDER BY id DESC LIMIT 1').pluck().get() as
      | number
      | undefined;
  }

  latestModel(): { model: Buffer; metadata: Record<string, unknown>; trainedAt: Date } | undefined {
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
}
