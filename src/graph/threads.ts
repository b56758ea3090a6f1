import type { BaseCheckpointSaver } from '@langchain/langgraph';
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import { SqliteSaver } from '@langchain/langgraph-checkpoint-sqlite';
import type Database from 'better-sqlite3';
import type { Backend, ForgetTarget, StorageModule } from '../../memory/index.js';

/** LangGraph's SqliteSaver tables, created by the saver on first use (so they may not exist yet). */
const SQLITE_TABLES = ['checkpoints', 'writes'] as const;
/** PostgresSaver's tables that hold a thread's data (its fourth, `checkpoint_migrations`, holds none). */
const POSTGRES_TABLES = ['checkpoints', 'checkpoint_blobs', 'checkpoint_writes'] as const;

const sqliteTableExists = (db: Database.Database, table: string): boolean =>
  db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) !== undefined;

/**
 * The agent's conversation threads (LangGraph checkpoints) as a storage module: the saver creates its own tables
 * (in Postgres, under the store's migration lock: concurrent `setup()`s collide), and forgetting a user deletes every
 * thread whose key has their prefix (keys are `<namespace>/<thread>`, see MemoryStore.beginTurn).
 */
export const threadsStorageModule: StorageModule = {
  name: 'threads',
  sqlite: {
    migrations: [],
    forget(db, target) {
      if (target.threadPrefix === undefined || !sqliteTableExists(db, 'checkpoints')) return { threads: 0 };
      const { threadPrefix: prefix } = target;
      const threads = db
        .prepare('SELECT count(DISTINCT thread_id) FROM checkpoints WHERE substr(thread_id, 1, ?) = ?')
        .pluck()
        .get(prefix.length, prefix) as number;
      for (const table of SQLITE_TABLES) {
        if (!sqliteTableExists(db, table)) continue;
        // substr() rather than LIKE: thread ids may contain % and _.
        db.prepare(`DELETE FROM ${table} WHERE substr(thread_id, 1, ?) = ?`).run(prefix.length, prefix);
      }
      return { threads };
    },
  },
  postgres: {
    migrations: [],
    async setup(pool) {
      // Under the store's migration lock. Where that lock cannot exclude (PGlite serves every connection from one
      // session), a replica's setup may meet another's half-done: it is then run again, and finds the work done.
      for (let attempt = 1; ; attempt++) {
        try {
          await new PostgresSaver(pool).setup();
          return;
        } catch (error) {
          if ((error as { code?: unknown }).code !== '23505' || attempt === 3) throw error;
        }
      }
    },
    async forget(client, target: ForgetTarget) {
      if (target.threadPrefix === undefined) return { threads: 0 };
      const counted = await client.query<{ n: string }>(
        'SELECT count(DISTINCT thread_id) AS n FROM checkpoints WHERE starts_with(thread_id, $1)',
        [target.threadPrefix],
      );
      for (const table of POSTGRES_TABLES)
        await client.query(`DELETE FROM ${table} WHERE starts_with(thread_id, $1)`, [target.threadPrefix]);
      return { threads: Number(counted.rows[0]?.n ?? 0) };
    },
  },
};

/** The checkpointer that keeps threads in the same database as memory. */
export function checkpointerFor(backend: Backend): BaseCheckpointSaver {
  return backend.kind === 'sqlite' ? new SqliteSaver(backend.db) : new PostgresSaver(backend.pool);
}
