import { PGlite } from '@electric-sql/pglite';
import { btree_gin } from '@electric-sql/pglite/contrib/btree_gin';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/** A PGlite server reached over the Postgres wire protocol, as production reaches a real server. */
export interface PgliteServer {
  /** `postgresql://postgres@127.0.0.1:<port>/postgres`. */
  readonly url: string;
  /**
   * Empties the database (drops and recreates schema `public`, with the extensions and text search configurations
   * in it), so a test starts from a fresh database without paying for another PGlite.
   */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts PGlite (PostgreSQL 18 with pgvector 0.8 and btree_gin, in WASM) behind a socket server on 127.0.0.1.
 * The first create costs 5–18 s (initdb in WASM), so a test file starts one and gives each test its own database
 * after {@link PgliteServer.reset}. PGlite is one backend: transactions of different connections never
 * interleave, so it checks the SQL, never the concurrency.
 */
export async function startPglite(options: { maxConnections?: number } = {}): Promise<PgliteServer> {
  const db = await PGlite.create('memory://', { extensions: { vector, btree_gin } });
  const server = new PGLiteSocketServer({
    db,
    host: '127.0.0.1',
    port: 0,
    maxConnections: options.maxConnections ?? 16,
  });
  await server.start();
  const base = `postgresql://postgres@${server.getServerConn()}`;
  return {
    url: `${base}/postgres`,
    async reset() {
      await db.exec('DROP SCHEMA public CASCADE; CREATE SCHEMA public');
    },
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
