import type { Backend, StorageModule } from '../memory/index.js';
import { PostgresRecommenderStorage } from './postgres-storage.js';
import { SqliteRecommenderStorage } from './sqlite-storage.js';
import type { RecommenderStorage } from './storage.js';

/** The recommender's storage in the database memory was opened on (`memory.backend`). */
export function recommenderStorage(backend: Backend): RecommenderStorage {
  return backend.kind === 'sqlite'
    ? new SqliteRecommenderStorage(backend.db)
    : new PostgresRecommenderStorage(backend.pool);
}

// The same DDL as memory's migration 4, which created these tables before the recommender owned them: `IF NOT
// EXISTS` lets a file that already has them take this step unchanged.
const SQLITE_TABLES = `
  CREATE TABLE IF NOT EXISTS rec_items (
    id          TEXT PRIMARY KEY,
    title       TEXT NOT NULL,
    description TEXT,
    tags        TEXT NOT NULL DEFAULT '[]',
    year        INTEGER,
    metadata    TEXT NOT NULL DEFAULT '{}',
    -- The configured embedder's vector of title + description + tags (Float32 LE) and which embedder made it.
    embedding   BLOB,
    embedder    TEXT
  ) STRICT;
  CREATE TABLE IF NOT EXISTS rec_ratings (
    user_id TEXT NOT NULL,
    item_id TEXT NOT NULL REFERENCES rec_items (id) ON DELETE CASCADE,
    stars   INTEGER NOT NULL CHECK (stars BETWEEN 1 AND 5),
    at      INTEGER NOT NULL,
    source  TEXT NOT NULL CHECK (source IN ('explicit', 'stated-in-chat')),
    PRIMARY KEY (user_id, item_id)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS rec_ratings_by_item ON rec_ratings (item_id);
  CREATE TABLE IF NOT EXISTS rec_users (
    user_id      TEXT PRIMARY KEY,
    demographics TEXT NOT NULL DEFAULT '{}'
  ) STRICT;
  CREATE TABLE IF NOT EXISTS rec_models (
    id         INTEGER PRIMARY KEY,
    trained_at INTEGER NOT NULL,
    metadata   TEXT NOT NULL,
    model      BLOB NOT NULL
  ) STRICT;
`;

// The same tables in Postgres. Times are bigint milliseconds, as in SQLite, so both backends read them alike. Text keys
// are COLLATE "C" so that ORDER BY on them is SQLite's byte order (training reads ratings in that order). `position`
// keeps the order items were first stored in (SQLite's rowid). JSON is `json`, not `jsonb`, which would reorder keys.
const POSTGRES_TABLES = `
  CREATE TABLE IF NOT EXISTS rec_items (
    id          text COLLATE "C" PRIMARY KEY,
    position    bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    title       text NOT NULL,
    description text,
    tags        json NOT NULL DEFAULT '[]',
    year        integer,
    metadata    json NOT NULL DEFAULT '{}',
    -- The configured embedder's vector of title + description + tags (Float32 LE) and which embedder made it.
    embedding   bytea,
    embedder    text
  );
  CREATE TABLE IF NOT EXISTS rec_ratings (
    user_id text COLLATE "C" NOT NULL,
    item_id text COLLATE "C" NOT NULL REFERENCES rec_items (id) ON DELETE CASCADE,
    stars   smallint NOT NULL CHECK (stars BETWEEN 1 AND 5),
    at      bigint NOT NULL,
    source  text NOT NULL CHECK (source IN ('explicit', 'stated-in-chat')),
    PRIMARY KEY (user_id, item_id)
  );
  CREATE INDEX IF NOT EXISTS rec_ratings_by_item ON rec_ratings (item_id);
  CREATE TABLE IF NOT EXISTS rec_users (
    user_id      text COLLATE "C" PRIMARY KEY,
    demographics json NOT NULL DEFAULT '{}'
  );
  CREATE TABLE IF NOT EXISTS rec_models (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    trained_at bigint NOT NULL,
    metadata   json NOT NULL,
    model      bytea NOT NULL
  );
`;

/**
 * The recommender's tables (catalog, ratings, demographics, the last trained model) in memory's database, and its
 * part of forgetting a user: their ratings and demographics. The stored model keeps no per-user rows (bundle.ts),
 * so it stays.
 */
export const recommenderStorageModule: StorageModule = {
  name: 'recommender',
  sqlite: {
    migrations: [(db) => db.exec(SQLITE_TABLES)],
    forget(db, target) {
      const { changes } = db.prepare('DELETE FROM rec_ratings WHERE user_id = ?').run(target.userId);
      db.prepare('DELETE FROM rec_users WHERE user_id = ?').run(target.userId);
      return { ratings: changes };
    },
  },
  postgres: {
    migrations: [
      async (client) => {
        await client.query(POSTGRES_TABLES);
      },
    ],
    async forget(client, target) {
      const { rowCount } = await client.query('DELETE FROM rec_ratings WHERE user_id = $1', [target.userId]);
      await client.query('DELETE FROM rec_users WHERE user_id = $1', [target.userId]);
      return { ratings: rowCount ?? 0 };
    },
  },
};
