import type pg from 'pg';
import { StoreError } from '../errors.js';
import type { StorageModule } from '../port.js';

/** Key of the session advisory lock every migration runs under (any process, any module): "mnemo" in ASCII. */
export const MIGRATION_LOCK = 0x6d6e656d6f;

/**
 * Memory's own schema, module `memory` in `mnemo_schema`. Append only: never edit a step that has shipped. The
 * vector table is not here because its width depends on the embedder, and because the server may lack pgvector
 * when the store is opened without one (see vectors.ts).
 */
export const MEMORY_MIGRATIONS: ReadonlyArray<(client: pg.ClientBase) => Promise<void>> = [
  async (client) => {
    await client.query(`
      CREATE EXTENSION IF NOT EXISTS btree_gin;

      -- The words indexed are the ones SQLite's FTS5 indexes (fts.ts makes them), stemmed by the same Porter
      -- algorithm (PostgreSQL's snowball 'porter', not 'english', which is Porter2), and no stop word dropped: FTS5's
      -- porter tokenizer drops none either.
      CREATE TEXT SEARCH DICTIONARY mnemo_porter (TEMPLATE = snowball, Language = porter);
      CREATE TEXT SEARCH CONFIGURATION mnemo (COPY = simple);
      ALTER TEXT SEARCH CONFIGURATION mnemo ALTER MAPPING
        FOR asciiword, word, numword, asciihword, hword, numhword, hword_asciipart, hword_part, hword_numpart
        WITH mnemo_porter;

      CREATE TABLE meta (
        key   text PRIMARY KEY,
        value text NOT NULL
      );

      -- Ids come from sequences, so they are never reused (an id a caller holds, e7 or a thread key, never comes
      -- to name someone else's data); they are not in commit order.
      CREATE TABLE namespaces (
        id         bigserial PRIMARY KEY,
        kind       text NOT NULL CHECK (kind IN ('user', 'persona', 'global')),
        key        text NOT NULL,
        created_at bigint NOT NULL,
        -- How many memories and indexed words the namespace holds: their sums over every namespace are BM25's row
        -- count and average length, as FTS5 keeps them for the whole file.
        memories   bigint NOT NULL DEFAULT 0,
        words      bigint NOT NULL DEFAULT 0,
        UNIQUE (kind, key)
      );

      -- Episodes and facts share one table, so full-text and vector search rank them together. Times are
      -- milliseconds since the epoch, as in SQLite.
      CREATE TABLE memories (
        id           bigserial PRIMARY KEY,
        namespace_id bigint NOT NULL REFERENCES namespaces (id),
        kind         text NOT NULL CHECK (kind IN ('episode', 'fact', 'preference', 'profile')),
        text         text NOT NULL,
        role         text,
        session      text,
        at           bigint NOT NULL,
        valid_to     bigint,
        supersedes   bigint REFERENCES memories (id) ON DELETE SET NULL,
        source_id    text,
        created_at   bigint NOT NULL,
        -- The embedder's vocabulary ids of the text's words (Int32 LE), for late-interaction re-ranking.
        word_ids     bytea,
        -- The indexed words (fts.ts) and how many there are: BM25's document length.
        words        integer NOT NULL,
        tsv          tsvector NOT NULL
      );
      CREATE INDEX memories_by_session ON memories (namespace_id, session, at, id);
      CREATE INDEX memories_by_kind ON memories (namespace_id, kind, valid_to, at);
      CREATE INDEX memories_by_source ON memories (namespace_id, source_id) WHERE source_id IS NOT NULL;
      CREATE INDEX memories_by_supersedes ON memories (supersedes) WHERE supersedes IS NOT NULL;
      -- A user's full-text query walks only that user's postings.
      CREATE INDEX memories_fts ON memories USING gin (namespace_id, tsv);

      CREATE TABLE fact_sources (
        fact_id    bigint NOT NULL REFERENCES memories (id) ON DELETE CASCADE,
        episode_id bigint NOT NULL REFERENCES memories (id) ON DELETE CASCADE,
        PRIMARY KEY (fact_id, episode_id)
      );
      CREATE INDEX fact_sources_by_episode ON fact_sources (episode_id);

      CREATE TABLE persona_members (
        user_namespace_id bigint PRIMARY KEY REFERENCES namespaces (id) ON DELETE CASCADE,
        persona           text NOT NULL,
        assigned_by       text NOT NULL CHECK (assigned_by IN ('hand', 'auto')),
        assigned_at       bigint NOT NULL
      );
      CREATE INDEX persona_members_by_persona ON persona_members (persona);
    `);
  },
];

/** Memory's own tables as a storage module, so one runner migrates it and the others alike. */
const MEMORY_MODULE = { name: 'memory', migrations: MEMORY_MIGRATIONS } as const;

/**
 * Brings the database to the newest schema of memory and of every module, then runs the modules' setup steps and
 * `thenUnderLock` (binding the embedder), all under one session advisory lock: replicas that open a fresh database at
 * once run each step exactly once (concurrent `CREATE … IF NOT EXISTS` fails with 23505 otherwise). The lock is
 * taken on one client outside any transaction; each step runs in its own transaction.
 */
export async function migrate(
  pool: pg.Pool,
  modules: readonly StorageModule[],
  thenUnderLock: (client: pg.ClientBase) => Promise<void>,
): Promise<void> {
  const names = new Set<string>(['memory']);
  for (const module of modules) {
    if (names.has(module.name)) throw new StoreError('store_failed', `two storage modules are named ${module.name}`);
    names.add(module.name);
  }
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await client.query('CREATE TABLE IF NOT EXISTS mnemo_schema (module text PRIMARY KEY, version integer NOT NULL)');
      for (const module of [
        MEMORY_MODULE,
        ...modules.map((m) => ({ name: m.name, migrations: m.postgres.migrations })),
      ])
        await migrateModule(client, module);
      for (const module of modules) await module.postgres.setup?.(pool);
      await thenUnderLock(client);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch((error: Error) => {
        broken = error; // the lock goes with the connection, which the pool then drops
      });
    }
  } finally {
    client.release(broken);
  }
}

async function migrateModule(
  client: pg.ClientBase,
  module: { name: string; migrations: ReadonlyArray<(client: pg.ClientBase) => Promise<void>> },
): Promise<void> {
  const { rows } = await client.query<{ version: number }>('SELECT version FROM mnemo_schema WHERE module = $1', [
    module.name,
  ]);
  const current = rows[0]?.version ?? 0;
  if (current > module.migrations.length)
    throw new StoreError(
      'store_failed',
      `the database has ${module.name} schema version ${current}, newer than this mnemo understands (${module.migrations.length}); upgrade mnemo`,
    );
  for (let version = current; version < module.migrations.length; version++) {
    try {
      await client.query('BEGIN');
      // The lock makes this re-read redundant on a real server; on one without session isolation (PGlite serves
      // every connection from one session, so advisory locks don't exclude) it keeps a step from running twice.
      const { rows: now } = await client.query<{ version: number }>(
        'SELECT version FROM mnemo_schema WHERE module = $1',
        [module.name],
      );
      if ((now[0]?.version ?? 0) > version) {
        await client.query('COMMIT');
        continue;
      }
      await module.migrations[version]!(client);
      await client.query(
        `INSERT INTO mnemo_schema (module, version) VALUES ($1, $2)
         ON CONFLICT (module) DO UPDATE SET version = excluded.version`,
        [module.name, version + 1],
      );
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      if (error instanceof StoreError) throw error;
      throw new StoreError(
        'store_failed',
        `migrating ${module.name} to schema version ${version + 1} failed: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
}
