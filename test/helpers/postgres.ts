import pg from 'pg';
import { describe } from 'vitest';

/**
 * A stock PostgreSQL server without pgvector, for the concurrency tests PGlite can't run (it is one backend, so its
 * connections never interleave). `.ci/run` starts the machine's PostgreSQL 15 and sets it; elsewhere it is unset and
 * those tests are skipped, with the reason in their title.
 */
export const CONCURRENCY_URL: string | undefined = process.env.MNEMO_PG_CONCURRENCY_URL || undefined;

/** A server with pgvector 0.8 or newer (a developer's, a nightly job's); optional, CI here has none. */
export const PGVECTOR_URL: string | undefined = process.env.MNEMO_TEST_PG_URL || undefined;

/** What the title of a suite says when it is skipped for want of the concurrency server. */
export const CONCURRENCY_SKIP_REASON = 'MNEMO_PG_CONCURRENCY_URL not set — .ci/run starts PostgreSQL 15';

/** `title`, or `title (skipped: reason)` when `reason` is given: vitest prints the title of a skipped suite. */
export const skipTitle = (title: string, reason: string | undefined): string =>
  reason === undefined ? title : `${title} (skipped: ${reason})`;

/**
 * A `describe` that is skipped when `reason` is given, saying why in its title, so the skip is visible in the
 * runner's output and counted in its summary rather than passing silently.
 *
 * @example
 * describeUnless(CONCURRENCY_URL ? undefined : CONCURRENCY_SKIP_REASON, 'supersede race', () => { ... });
 */
export function describeUnless(reason: string | undefined, title: string, body: () => void): void {
  // The default reporter folds a skipped file into one line; this line says why, under the file's name.
  if (reason !== undefined) console.warn(`skipped: ${title} (${reason})`);
  describe.skipIf(reason !== undefined)(skipTitle(title, reason), body);
}

/** A `describe` of tests that need the concurrency server (see {@link CONCURRENCY_URL}). */
export function describeWithConcurrencyServer(title: string, body: (url: string) => void): void {
  describeUnless(CONCURRENCY_URL === undefined ? CONCURRENCY_SKIP_REASON : undefined, title, () =>
    body(CONCURRENCY_URL ?? ''),
  );
}

/** The databases {@link freshDatabase} created on each server, for {@link dropFreshDatabases}. */
const created = new Map<string, Set<string>>();
let made = 0;

/** `url` naming another database on the same server. */
export function databaseUrl(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** Runs `work` on one connection to the server's maintenance database (`url` as given). */
async function onServer<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * Creates a uniquely named, empty database on the server at `url` and returns its URL. Call
 * {@link dropFreshDatabases} in an `afterAll` to drop every one a file made.
 */
export async function freshDatabase(url: string): Promise<string> {
  made += 1;
  const name = `mnemo_test_${process.pid}_${Date.now().toString(36)}_${made}`;
  await onServer(url, (client) => client.query(`CREATE DATABASE ${name}`));
  const names = created.get(url) ?? new Set<string>();
  names.add(name);
  created.set(url, names);
  return databaseUrl(url, name);
}

/** Drops every database {@link freshDatabase} made on the server at `url`, closing what still uses them. */
export async function dropFreshDatabases(url: string): Promise<void> {
  const names = created.get(url);
  if (names === undefined || names.size === 0) return;
  await onServer(url, async (client) => {
    for (const name of names) await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });
  created.delete(url);
}
