import type Database from 'better-sqlite3';

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
        -- The namespace as a full-text token, so a full-text query only walks one namespace's postings.
        ns           TEXT GENERATED ALWAYS AS ('n' || namespace_id) VIRTUAL
      ) STRICT;

      CREATE INDEX memories_by_session ON memories (namespace_id, session, at, id);
      CREATE INDEX memories_by_kind ON memories (namespace_id, kind, valid_to, at);
      CREATE INDEX memories_by_source ON memories (namespace_id, source_id) WHERE source_id IS NOT NULL;

      CREATE TABLE fact_sources (
        fact_id    INTEGER NOT NULL REFERENCES memories (id) ON DELETE CASCADE,
        episode_id INTEGER NOT NULL REFERENCES memories (id) ON DELETE CASCADE,
        PRIMARY KEY (fact_id, episode_id)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX fact_sources_by_episode ON fact_sources (episode_id);

      CREATE VIRTUAL TABLE memories_fts USING fts5 (
        ns, text,
        content = 'memories', content_rowid = 'id',
        tokenize = 'porter unicode61 remove_diacritics 2'
      );
      -- Deleted rows leave the index at once instead of as delete markers: forget leaves no residue.
      INSERT INTO memories_fts (memories_fts, rank) VALUES ('secure-delete', 1);

      CREATE TRIGGER memories_fts_insert AFTER INSERT ON memories BEGIN
        INSERT INTO memories_fts (rowid, ns, text) VALUES (new.id, new.ns, new.text);
      END;
      CREATE TRIGGER memories_fts_delete AFTER DELETE ON memories BEGIN
        INSERT INTO memories_fts (memories_fts, rowid, ns, text) VALUES ('delete', old.id, old.ns, old.text);
      END;
      CREATE TRIGGER memories_fts_update AFTER UPDATE OF text ON memories BEGIN
        INSERT INTO memories_fts (memories_fts, rowid, ns, text) VALUES ('delete', old.id, old.ns, old.text);
        INSERT INTO memories_fts (rowid, ns, text) VALUES (new.id, new.ns, new.text);
      END;
    `);
  },
];

/** Brings `db` to the newest schema, one transaction per migration. */
export function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(
      `the database has schema version ${current}, newer than this mnemo understands (${MIGRATIONS.length}); upgrade mnemo`,
    );
  }
  for (let version = current; version < MIGRATIONS.length; version++) {
    const step = MIGRATIONS[version]!;
    db.transaction(() => {
      step(db);
      db.pragma(`user_version = ${version + 1}`);
    }).immediate();
  }
}
