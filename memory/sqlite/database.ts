import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import * as sqliteVec from 'sqlite-vec';
import { StoreError } from '../errors.js';
import { migrate } from './migrations.js';

/** Address space mapped for reads (not memory used: the OS pages it in on demand). */
const MMAP_BYTES = 2 ** 31;

/** Options of {@link openDatabase}. */
export interface OpenDatabaseOptions {
  /** How long a writer waits for another process's lock before failing, in milliseconds. @default 5000 */
  busyTimeoutMs?: number;
  /** Open without creating or migrating (for read-only tools). @default false */
  readonly?: boolean;
}

/**
 * Opens (creating if needed) a mnemo database file: loads sqlite-vec, switches to WAL so the chat and the Slack
 * bot can share the file, zeroes deleted content (`secure_delete`) so forgetting leaves no residue, and
 * migrates the schema. `:memory:` works for tests.
 */
export function openDatabase(path: string, options: OpenDatabaseOptions = {}): Database.Database {
  if (path !== ':memory:' && !options.readonly) mkdirSync(dirname(path), { recursive: true });
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
  } catch (error) {
    throw new StoreError('store_failed', `cannot open database ${path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    sqliteVec.load(db);
    db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    if (!options.readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
    }
    db.pragma('foreign_keys = ON');
    // sqlite-vec reads whole vector chunks per query; memory-mapped reads halve KNN time on a large namespace.
    db.pragma(`mmap_size = ${MMAP_BYTES}`);
    db.pragma('secure_delete = ON');
    if (!options.readonly) migrate(db);
    return db;
  } catch (error) {
    db.close();
    if (error instanceof StoreError) throw error;
    throw new StoreError('store_failed', `cannot use database ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** Opens the database at `path` and builds `make` on it; the file is closed again when `make` throws. */
export function openWith<T>(path: string, options: OpenDatabaseOptions, make: (db: Database.Database) => T): T {
  const db = openDatabase(path, options);
  try {
    return make(db);
  } catch (error) {
    db.close();
    throw error;
  }
}

/** A `prepare` that caches statements by SQL text: every hot statement is compiled once per connection. */
export function statementCache(db: Database.Database): (sql: string) => Database.Statement {
  const statements = new Map<string, Database.Statement>();
  return (sql) => {
    let statement = statements.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };
}
