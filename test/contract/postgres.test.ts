import { afterAll, beforeAll } from 'vitest';
import { openStore } from '../../memory/open.js';
import { type PgliteServer, startPglite } from '../helpers/pglite.js';
import { describeUnless, dropFreshDatabases, freshDatabase, PGVECTOR_URL } from '../helpers/postgres.js';
import { memoryStoreContract } from './memory-store.contract.js';

/**
 * Why `openStore` can't open a `postgres://` URL as PostgreSQL yet, or undefined when it can. Asked of a port nothing
 * listens on, read-only, so the answer costs no server and writes no file: only a Postgres backend gets as far as
 * connecting (ECONNREFUSED); the SQLite one fails on it as a file it cannot open.
 */
async function postgresUnavailable(): Promise<string | undefined> {
  try {
    const store = await openStore('postgresql://postgres@127.0.0.1:1/mnemo_probe', { readonly: true });
    const kind = store.backend.kind;
    await store.close();
    if (kind === 'postgres') return undefined;
  } catch (error) {
    for (let cause: unknown = error; cause; cause = (cause as { cause?: unknown }).cause)
      if ((cause as { code?: unknown }).code === 'ECONNREFUSED') return undefined;
  }
  return 'openStore does not open postgres:// URLs yet (memory/open.ts)';
}

const unavailable = await postgresUnavailable();

// PGlite (PostgreSQL 18 + pgvector 0.8 in WASM) behind its socket server, reached by a real pg.Pool as production
// does. One instance for the file (its first start costs 5–18 s); each store starts from an emptied database.
describeUnless(unavailable, 'PostgreSQL on PGlite over a socket', () => {
  let server: PgliteServer;
  beforeAll(async () => {
    server = await startPglite();
  });
  afterAll(async () => {
    await server?.stop();
  });
  memoryStoreContract('PostgreSQL (PGlite 0.5.14 + pgvector, pg.Pool over a socket)', async (options) => {
    await server.reset();
    const store = await openStore(server.url, options);
    if (store.backend.kind !== 'postgres') throw new Error(`openStore opened ${server.url} as ${store.backend.kind}`);
    return store;
  });
});

// A real server with pgvector, when one is given: the same contract, each store in a database of its own.
describeUnless(
  unavailable ?? (PGVECTOR_URL === undefined ? 'MNEMO_TEST_PG_URL not set (a server with pgvector ≥ 0.8)' : undefined),
  'PostgreSQL with pgvector at MNEMO_TEST_PG_URL',
  () => {
    afterAll(async () => {
      if (PGVECTOR_URL !== undefined) await dropFreshDatabases(PGVECTOR_URL);
    });
    memoryStoreContract('PostgreSQL (MNEMO_TEST_PG_URL)', async (options) =>
      openStore(await freshDatabase(PGVECTOR_URL!), options),
    );
  },
);
