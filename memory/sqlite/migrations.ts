import type Database from 'better-sqlite3';
import type { StorageModule } from '../port.js';

/**
 * Ordered schema migrations; the array index + 1 is the schema version stored in `PRAGMA user_version`.
 * Append only: never edit a migration that has shipped. The vector table is not here because its width
 * depends on the embedder; see `vectors.ts`.
 */
export const MIGRATIONS: ReadonlyArray<(db: Database.Database) => void> = [
  (db) => {
    db.exec(`
      CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) STRICT;

      CREATE TABLE namespaces (
        id         INTEGER PRIMARY KEY,
        kind       TEXT NOT NULL CHECK (kind IN ('user', 'persona', 'global')),
        key        TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        UNIQUE (kind, key)
      ) STRICT;

      -- Episodes and facts share one table, so full-text and vector search rank them together.
      CREATE TABLE memories (
        id           INTEGER PRIMARY KEY,
        namespace_id INTEGER NOT NULL REFERENCES namespaces (id),
        kind         TEXT NOT NULL CHECK (kind IN ('episode', 'fact', 'preference', 'profile')),
        text         TEXT NOT NULL,
        role         TEXT,
        session      TEXT,
        at           INTEGER NOT NULL,
        valid_to     INTEGER,
        supersedes   INTEGER REFERENCES memories (id) ON DELETE SET NULL,
        source_id    TEXT,
        created_at   INTEGER NOT NULL,
        -- The embedder's vocabulary ids of the text's words (Int32 LE), for late-interaction re-ranking without
        -- re-tokenizing at search time. NULL when the embedder has no word vectors.
        word_ids     BLOB
      ) STRICT;

      CREATE INDEX memories_by_session ON memories (namespace_id, session, at, id);
      CREATE INDEX memories_by_kind ON memories (namespace_id, kind, valid_to, at);
      CREATE INDEX memories_by_source ON memories (namespace_id, source_id) WHERE source_id IS NOT NULL;
      -- Deleting a fact unlinks the fact that superseded it; without this index every deletion scans the table.
      CREATE INDEX memories_by_supersedes ON memories (supersedes) WHERE supersedes IS NOT NULL;

      -- Centroids of a big namespace's vectors (see vector-index.ts): its vectors are partitioned by nearest cell.
      CREATE TABLE vector_cells (
        namespace_id INTEGER NOT NULL,
        cell         INTEGER NOT NULL,
        centroid     BLOB NOT NULL,
        trained_at   INTEGER NOT NULL,
        PRIMARY KEY (namespace_id, cell)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE fact_sources (
        fact_id    INTEGER NOT NULL REFERENCES memories (id) ON DELETE CASCADE,
        episode_id INTEGER NOT NULL REFERENCES memories (id) ON DELETE CASCADE,
        PRIMARY KEY (fact_id, episode_id)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX fact_sources_by_episode ON fact_sources (episode_id);

      -- Full text, partitioned by namespace: every indexed word carries its namespace as a prefix (see
      -- fts-terms.ts), so a query walks only its own user's postings and document frequencies are per user (the
      -- row count and average length in BM25 are the whole table's: FTS5 keeps no others). The text
      -- itself is not stored here (contentless); rows are written and deleted by the store.
      CREATE VIRTUAL TABLE memories_fts USING fts5 (
        terms,
        content = '', contentless_delete = 1,
        tokenize = 'porter unicode61 remove_diacritics 2'
      );
      -- Deleted rows leave the index at once instead of as delete markers: forget leaves no residue.
      INSERT INTO memories_fts (memories_fts, rank) VALUES ('secure-delete', 1);
    `);
  },
  // The LangGraph BaseStore (`memory/langgraph-store.ts`). Its vec0 table (`store_embeddings_N`) is created when an
  // embedder is first configured, like the memory vectors.
  (db) => {
    db.exec(`
      CREATE TABLE store_items (
        id         INTEGER PRIMARY KEY,
        -- Each label escaped ('%' '/' NUL as %XX) and followed by '/': a namespace prefix is exactly a string prefix.
        namespace  TEXT NOT NULL,
        key        TEXT NOT NULL,
        value      TEXT NOT NULL CHECK (json_valid(value)),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        UNIQUE (namespace, key)
      ) STRICT;

      -- One row per embedded text of an item; its id is the rowid of the vector in store_embeddings_N.
      CREATE TABLE store_vectors (
        id      INTEGER PRIMARY KEY,
        item_id INTEGER NOT NULL REFERENCES store_items (id),
        path    TEXT NOT NULL
      ) STRICT;
      CREATE INDEX store_vectors_by_item ON store_vectors (item_id);

      -- The indexed text of each item (rowid = store_items.id); contentless, the text lives in the item's value.
      CREATE VIRTUAL TABLE store_items_fts USING fts5 (
        text,
        content = '', contentless_delete = 1,
        tokenize = 'porter unicode61 remove_diacritics 2'
      );
      INSERT INTO store_items_fts (store_items_fts, rank) VALUES ('secure-delete', 1);
    `);
  },
  // Persona membership: the group of similar users whose memory backs a user up (placed by hand, or by the
  // recommender's clustering).
  (db) => {
    db.exec(`
      CREATE TABLE persona_members (
        user_namespace_id INTEGER PRIMARY KEY REFERENCES namespaces (id) ON DELETE CASCADE,
        persona           TEXT NOT NULL,
        assigned_by       TEXT NOT NULL CHECK (assigned_by IN ('hand', 'auto')),
        assigned_at       INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX persona_members_by_persona ON persona_members (persona);
    `);
  },
  // Version 4 created the recommender's tables here. The recommender now owns them (recommender/backend.ts): its own
  // migration creates the same tables if missing, so files made before and after this change converge.
  () => {},
  // Other modules' schema versions (see migrateModules): they own their tables, memory only runs their steps.
  (db) => {
    db.exec(`
      CREATE TABLE schema_versions (
        module  TEXT PRIMARY KEY,
        version INTEGER NOT NULL
      ) STRICT;
    `);
  },
];

/**
 * Brings each module's tables to its newest schema, one transaction per step, after memory's own. A file another
 * process is migrating at the same time is re-checked under the write lock, as {@link migrate} does.
 */
export function migrateModules(db: Database.Database, modules: readonly StorageModule[]): void {
  const versionOf = db.prepare('SELECT version FROM schema_versions WHERE module = ?').pluck();
  const record = db.prepare(
    'INSERT INTO schema_versions (module, version) VALUES (?, ?) ON CONFLICT (module) DO UPDATE SET version = excluded.version',
  );
  for (const module of modules) {
    const steps = module.sqlite.migrations;
    const current = (versionOf.get(module.name) as number | undefined) ?? 0;
    if (current > steps.length)
      throw new Error(
        `the database's ${module.name} tables have schema version ${current}, newer than this mnemo understands (${steps.length}); upgrade mnemo`,
      );
    for (let version = current; version < steps.length; version++) {
      db.transaction(() => {
        if (((versionOf.get(module.name) as number | undefined) ?? 0) > version) return;
        steps[version]!(db);
        record.run(module.name, version + 1);
      }).immediate();
    }
  }
}

/** Brings `db` to the newest schema, one transaction per migration. */
export function migrate(db: Database.Database): void {
  const current = checkSchemaVersion(db);
  for (let version = current; version < MIGRATIONS.length; version++) {
    const step = MIGRATIONS[version]!;
    db.transaction(() => {
      // Processes that open a new file at once all read version 0 before any takes the write lock; the ones that
      // get it later find the step done (re-running it failed with "table meta already exists").
      if ((db.pragma('user_version', { simple: true }) as number) > version) return;
      step(db);
      db.pragma(`user_version = ${version + 1}`);
    }).immediate();
  }
}

/**
 * The file's schema version, refusing one newer than this code (its tables may mean something else) and, when
 * `migrating` is false (a read-only open), one older (its tables lack what queries expect).
 */
export function checkSchemaVersion(db: Database.Database, { migrating = true } = {}): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length)
    throw new Error(
      `the database has schema version ${current}, newer than this mnemo understands (${MIGRATIONS.length}); upgrade mnemo`,
    );
  if (!migrating && current < MIGRATIONS.length)
    throw new Error(
      `the database has schema version ${current} and needs upgrading to ${MIGRATIONS.length}, which needs write access; run any writing command on it once`,
    );
  return current;
}
