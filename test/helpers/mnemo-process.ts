import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { openDatabase } from '../../memory/sqlite/database.js';

/** The built CLI (`pretest` and `pretest:faults` build dist/). */
export const MNEMO_BIN = join(import.meta.dirname, '../../dist/bin/mnemo.js');

/** How a spawned `mnemo` ended and what it printed. */
export interface MnemoExit {
  /** The exit status, or null when a signal ended it. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A `mnemo` process started as an operator would: `node dist/bin/mnemo.js ARGS`, stdin closed. */
export interface MnemoProcess {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  readonly exited: Promise<MnemoExit>;
}

export function spawnMnemo(env: NodeJS.ProcessEnv, args: readonly string[]): MnemoProcess {
  const child = spawn(process.execPath, [MNEMO_BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const exited = new Promise<MnemoExit>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, exited };
}

/** Runs one `mnemo` command line to its end. */
export const runMnemo = (env: NodeJS.ProcessEnv, args: readonly string[]): Promise<MnemoExit> =>
  spawnMnemo(env, args).exited;

/** What `mnemo CMD` prints, as its only line, when another process kept the write lock past the busy timeout. */
export const busyLine = (command: string): string =>
  `mnemo ${command}: the database is busy (another mnemo process is writing); try again\n`;

/** A refusal a second writer may get: exit 1 and exactly the busy line, nothing on stdout. */
export const isBusyRefusal = (exit: MnemoExit, command: string): boolean =>
  exit.code === 1 && exit.stdout === '' && exit.stderr === busyLine(command);

/** Whether {@link holdsWriteLock} can see locks (Linux's /proc/locks). */
export const LOCKS_VISIBLE = existsSync('/proc/locks');

/**
 * Whether process `pid` holds SQLite's WAL write lock on the database at `path` right now: a POSIX lock on byte 120
 * of its `-shm` file (WALINDEX_LOCK_OFFSET + WAL_WRITE_LOCK), which a writer holds from BEGIN IMMEDIATE to COMMIT.
 * Read from /proc/locks, so Linux only (see {@link LOCKS_VISIBLE}); elsewhere it is always false.
 */
export function holdsWriteLock(pid: number, path: string): boolean {
  let inode: number;
  let locks: string;
  try {
    inode = statSync(`${path}-shm`).ino;
    locks = readFileSync('/proc/locks', 'utf8');
  } catch {
    return false;
  }
  // "1: POSIX  ADVISORY  WRITE 4242 fe:00:2246313 120 120"; lines with "->" are waiters, not holders.
  return locks.split('\n').some((line) => {
    if (line.includes('->')) return false;
    const fields = line.trim().split(/\s+/);
    return fields[4] === String(pid) && fields[5]?.endsWith(`:${inode}`) === true && fields[6] === '120';
  });
}

/** Whether process `pid` has the file at `path` open (Linux's /proc; elsewhere always false). */
export function hasOpen(pid: number, path: string): boolean {
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`) === path;
      } catch {
        return false; // closed meanwhile
      }
    });
  } catch {
    return false;
  }
}

/** Whether process `pid` is still running (not ended, not a zombie waiting to be reaped); Linux's /proc. */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/**
 * Polls `until` without yielding, for at most `limitMs`, while process `pid` runs: a write transaction of a few
 * milliseconds is missed by a timer-paced poll. Blocks the event loop meanwhile, so keep the window short.
 * @returns whether `until` held (false: the process ended first, or the limit passed).
 */
export function spinUntil(pid: number, until: () => boolean, limitMs: number): boolean {
  const end = Date.now() + limitMs;
  while (Date.now() < end && running(pid)) if (until()) return true;
  return false;
}

/** What a fault test checks of a database file after the fact. */
export interface FileCheck {
  /** `PRAGMA integrity_check` (B-trees, indexes, and FTS5 through its integrity hook): "ok" when sound. */
  readonly integrity: string;
  /** Memories without their vector or full-text entry, and entries without their memory: 0 when every write is whole. */
  readonly torn: number;
}

/**
 * Opens the file read-only (as the next `mnemo` would find it, the write-ahead log of a killed process included)
 * and checks it: SQLite's own integrity check, and that every memory row has its vector and its full-text entry and
 * no entry outlives its row, which is what "a write is whole or absent" means across mnemo's three tables.
 */
export function checkFile(path: string): FileCheck {
  const db = openDatabase(path, { readonly: true });
  try {
    const integrity = (db.pragma('integrity_check') as Array<{ integrity_check: string }>)
      .map((row) => row.integrity_check)
      .join('; ');
    const table = db.prepare("SELECT value FROM meta WHERE key = 'vectors.table'").pluck().get() as string | undefined;
    if (table === undefined) return { integrity, torn: 0 };
    if (!/^memory_vectors_\d+$/.test(table)) throw new Error(`unexpected vector table name ${table}`);
    const count = (sql: string): number => db.prepare(sql).pluck().get() as number;
    const torn =
      count(`SELECT count(*) FROM memories m WHERE m.id NOT IN (SELECT rowid FROM ${table})`) +
      count('SELECT count(*) FROM memories m WHERE m.id NOT IN (SELECT rowid FROM memories_fts)') +
      count(`SELECT count(*) FROM ${table} v WHERE v.rowid NOT IN (SELECT id FROM memories)`) +
      count('SELECT count(*) FROM memories_fts f WHERE f.rowid NOT IN (SELECT id FROM memories)');
    return { integrity, torn };
  } finally {
    db.close();
  }
}

/** One memory as `mnemo memories --json` prints it (the fields the fault tests compare). */
export interface ListedMemory {
  readonly id: string;
  readonly kind: string;
  readonly text: string;
  readonly source: { readonly id: string | null };
}

/** Every memory of a user, history and episodes included, through `mnemo memories --all --json`. */
export async function listMemories(env: NodeJS.ProcessEnv, user: string): Promise<ListedMemory[]> {
  const exit = await runMnemo(env, ['memories', '--user', user, '--all', '--json']);
  if (exit.code !== 0) throw new Error(`mnemo memories --user ${user} exited ${exit.code}: ${exit.stderr}`);
  return JSON.parse(exit.stdout) as ListedMemory[];
}

/** The benches' seeded generator: a fault run prints its seed, so its random choices can be replayed. */
export { seededRandom } from '../../src/bench/stats.js';

/** The seed of this run: MNEMO_FAULTS_SEED to replay one, else the clock. */
export const faultSeed = (): number => Number(process.env.MNEMO_FAULTS_SEED ?? Date.now() % 2 ** 31);

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
