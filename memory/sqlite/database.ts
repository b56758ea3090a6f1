import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import Database from 'better-sqlite3';
import * as sqliteVec from 'sqlite-vec';
import { StoreError } from '../errors.js';
import type { StorageModule } from '../port.js';
import { checkSchemaVersion, migrate, migrateModules } from './migrations.js';

/** Address space mapped for reads (not memory used: the OS pages it in on demand). */
const MMAP_BYTES = 2 ** 31;

/**
 * Files up to this size get `PRAGMA quick_check` when opened. It reads every page: about 250 ms for 100 MB with
 * the file in the page cache (0.7 s cold) on the machine it was measured on, so 64 MiB costs a command at most
 * ~160 ms. Bigger files skip it; a damaged page is then reported when a query reaches it (see {@link databaseError}).
 */
export const QUICK_CHECK_MAX_BYTES = 64 * 2 ** 20;

/** Options of {@link openDatabase}. */
export interface OpenDatabaseOptions {
  /** How long a writer waits for another process's lock before failing, in milliseconds. @default 5000 */
  busyTimeoutMs?: number;
  /** Open without creating or migrating (for read-only tools). @default false */
  readonly?: boolean;
  /** Run `PRAGMA quick_check` on an existing file up to this many bytes. @default {@link QUICK_CHECK_MAX_BYTES} */
  quickCheckMaxBytes?: number;
  /** Other modules' tables kept in the same file; their migrations run after memory's. */
  modules?: readonly StorageModule[] | undefined;
}

/** What to do about a damaged file, said once. */
const RESTORE = 'restore it from a backup or an export';

/** A file or directory the current user may not write. Root may write anything, so a mode with no `w` bit counts. */
function notWritable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return (statSync(path).mode & 0o222) === 0;
  } catch {
    return true;
  }
}

/**
 * Why writing to the database at `path` would fail, or undefined if it would not: the file is read-only, or its
 * directory is (WAL mode creates `-wal` and `-shm` files beside the database, and creating the file needs it too).
 */
export function readOnlyReason(path: string): string | undefined {
  if (path === ':memory:') return undefined;
  const directory = dirname(path);
  if (existsSync(path) && notWritable(path))
    return `${path} is read-only; make it writable (chmod u+w) or work on a copy`;
  if (existsSync(directory) && notWritable(directory))
    return `${path} is in a read-only directory (${directory}), where SQLite cannot create ${basename(path)}-wal and ${basename(path)}-shm; make the directory writable or move the database`;
  return undefined;
}

/** The SQLite error code of `error` or of what it wraps (`SQLITE_CORRUPT_VTAB`, `SQLITE_NOTADB`...). */
function sqliteCode(error: unknown): string {
  for (let candidate = error; candidate; candidate = (candidate as { cause?: unknown }).cause) {
    const code = (candidate as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('SQLITE_')) return code;
  }
  return '';
}

/** What sqlite-vec and FTS5 say when the pages under them are damaged (their errors carry no SQLITE_CORRUPT code). */
const DAMAGE_MESSAGE =
  /disk image is malformed|malformed database schema|malformed inverted index|corrupt|blob read error|blob size|blob failed|could not (open|read)[^,]* blob|Internal sqlite-vec error/i;

/**
 * The error to report for a SQLite failure on the file at `path`, naming it and the cause in one line: a damaged
 * file (SQLITE_CORRUPT, or sqlite-vec failing to read its vector blobs), not a database at all, read-only, or out
 * of disk space. Undefined for errors that say nothing about the file (a bad statement, a constraint).
 */
export function databaseError(path: string, error: unknown): StoreError | undefined {
  const code = sqliteCode(error);
  const cause = String((error as Error)?.message ?? error).split('\n')[0] ?? '';
  const make = (message: string) => new StoreError('store_failed', message, { cause: error });
  if (code.startsWith('SQLITE_CORRUPT') || (code !== 'SQLITE_NOTADB' && DAMAGE_MESSAGE.test(cause)))
    return make(`${path} is damaged (${cause}); ${RESTORE}`);
  if (code === 'SQLITE_NOTADB') return make(`${path} is not a mnemo database (${cause})`);
  if (code === 'SQLITE_READONLY_DIRECTORY')
    return make(
      `${path} is in a read-only directory (${dirname(path)}), where SQLite must create ${basename(path)}-shm even to read a WAL database; copy the database to a writable directory`,
    );
  if (code.startsWith('SQLITE_READONLY')) return make(readOnlyReason(path) ?? `${path} is read-only (${cause})`);
  if (code === 'SQLITE_FULL') return make(`cannot write ${path}: the disk is full`);
  if (code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_CANTOPEN'))
    return make(`cannot read or write ${path} (${cause})`);
  return undefined;
}

/** Refuses a file `PRAGMA quick_check` finds damaged; a page too broken to read throws SQLITE_CORRUPT itself. */
function quickCheck(db: Database.Database, path: string): void {
  const rows = db.pragma('quick_check(1)', { simple: false }) as Array<{ quick_check: string }>;
  const report = rows
    .map((row) => row.quick_check)
    .join(' ')
    .replace(/\*\*\* in database main \*\*\*\s*/, '');
  if (report !== 'ok')
    throw new StoreError('store_failed', `${path} is damaged (quick_check: ${report.split('\n')[0]}); ${RESTORE}`);
}

/**
 * Opens (creating if needed) a mnemo database file: loads sqlite-vec, switches to WAL so the chat and the Slack
 * bot can share the file, zeroes deleted content (`secure_delete`; forget also rewrites the file), and
 * migrates the schema. `:memory:` works for tests.
 *
 * A file that cannot be used is refused before anything is written, each with one line naming it and the cause:
 * read-only (file or directory, unless `readonly`), not a database, damaged (`PRAGMA quick_check`, for
 * files up to `quickCheckMaxBytes`), or of a newer schema.
 */
export function openDatabase(path: string, options: OpenDatabaseOptions = {}): Database.Database {
  const file = path !== ':memory:';
  const size = file && existsSync(path) ? statSync(path).size : undefined;
  // An empty file is a new database, as SQLite takes it: processes that open a new file at once meet it empty
  // while the first of them creates the schema (test/faults/concurrency.faults.test.ts).
  if (file && !options.readonly) {
    const reason = readOnlyReason(path);
    if (reason) throw new StoreError('store_failed', reason);
    mkdirSync(dirname(path), { recursive: true });
  }
  const fail = (error: unknown, what: string): StoreError =>
    error instanceof StoreError
      ? error
      : (databaseError(path, error) ??
        new StoreError('store_failed', `${what} ${path}: ${(error as Error).message}`, { cause: error }));
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
  } catch (error) {
    throw fail(error, 'cannot open database');
  }
  try {
    sqliteVec.load(db);
    db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    // Every step is safe to repeat: processes that open a new file at once meet each other's migrations.
    retryOnSchemaChange(() => {
      // Checked before anything below writes (WAL switch, migrations).
      if (size !== undefined && size <= (options.quickCheckMaxBytes ?? QUICK_CHECK_MAX_BYTES)) quickCheck(db, path);
      checkSchemaVersion(db, { migrating: !options.readonly });
      if (!options.readonly) {
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
      }
      db.pragma('foreign_keys = ON');
      // sqlite-vec reads whole vector chunks per query; memory-mapped reads halve KNN time on a large namespace.
      db.pragma(`mmap_size = ${MMAP_BYTES}`);
      db.pragma('secure_delete = ON');
      if (!options.readonly) {
        migrate(db);
        migrateModules(db, options.modules ?? []);
      }
    });
    return db;
  } catch (error) {
    db.close();
    throw fail(error, 'cannot use database');
  }
}

/** Tries before a schema change is reported. */
const SCHEMA_TRIES = 20;
const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * True for SQLite's SQLITE_SCHEMA: another connection changed the schema (a migration, a forget's `VACUUM`) while
 * this one prepared a statement, and a virtual table's constructor (FTS5) read the new schema half way: "vtable
 * constructor failed". Transient: the next try reads the schema whole.
 */
const schemaChanged = (error: unknown): boolean => (error as { code?: unknown } | null)?.code === 'SQLITE_SCHEMA';

/** Runs `run`, again after a millisecond each time another connection's schema change made it fail. */
export function retryOnSchemaChange<T>(run: () => T): T {
  for (let attempt = 1; ; attempt++) {
    try {
      return run();
    } catch (error) {
      if (!schemaChanged(error) || attempt >= SCHEMA_TRIES) throw error;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}

/** {@link retryOnSchemaChange} for work that awaits. */
export async function retryOnSchemaChangeAsync<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (!schemaChanged(error) || attempt >= SCHEMA_TRIES) throw error;
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
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
