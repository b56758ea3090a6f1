import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { btree_gin } from '@electric-sql/pglite/contrib/btree_gin';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeEmbedder } from '../../memory/embedders/fake.js';
import type { MemoryStore } from '../../memory/index.js';
import { userScope } from '../../memory/types.js';
import { RecommenderService, recommenderStorage } from '../../recommender/index.js';
import { openStore } from '../../src/storage.js';
import { tempDir } from '../helpers/tmp.js';

/** Every file under `directory`, recursively. */
function filesUnder(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** How often `needle` occurs as raw bytes in the table and index files of a data directory (`base/`). */
function occurrencesInRelations(dataDir: string, needle: string): number {
  let count = 0;
  for (const file of filesUnder(join(dataDir, 'base'))) {
    const bytes = readFileSync(file);
    for (let at = bytes.indexOf(needle); at >= 0; at = bytes.indexOf(needle, at + 1)) count += 1;
  }
  return count;
}

// A data directory this test owns: PGlite writes the same relation files a server does.
let dataDir: string;
let db: PGlite;
let server: PGLiteSocketServer;
let url: string;
beforeAll(async () => {
  dataDir = join(tempDir('mnemo-pgdata-'), 'pgdata');
  db = await PGlite.create(dataDir, { extensions: { vector, btree_gin } });
  server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 12 });
  await server.start();
  url = `postgresql://postgres@${server.getServerConn()}/postgres`;
}, 60_000);
afterAll(async () => {
  await server?.stop();
  await db?.close();
});

/** Flushes dirty buffers to the relation files, as the server's checkpointer eventually does. */
async function checkpoint(): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('CHECKPOINT');
  await client.end();
}

describe('forgetting a user on PostgreSQL', () => {
  it("leaves none of the user's text in the table and index files once the forget's rewrite ran", async () => {
    const store: MemoryStore = await openStore(url, { embedder: new FakeEmbedder({ dims: 32 }) });
    const ada = userScope('ada-quokkafeather');
    const secrets = ['zanzibarquokka', 'marmaladeheron', 'tintinnabulum'];
    await store.addEpisodes(ada, [
      { text: `my locker code is ${secrets[0]}`, session: 's1' },
      { text: `the wifi password is ${secrets[1]}`, session: 's1' },
    ]);
    const [fact] = await store.changeFacts(ada, [{ op: 'add', fact: { text: `nickname is ${secrets[2]}` } }]);
    await store.changeFacts(ada, [{ op: 'supersede', id: fact!.id, fact: { text: `nickname was ${secrets[2]}` } }]);
    await store.addEpisodes(userScope('bob'), [{ text: 'bob keeps his pelicanbreeze memories' }]);
    const recommender = new RecommenderService({ storage: recommenderStorage(store.backend), memory: store });
    await recommender.importItems([
      { id: 'm1', title: 'Alien (1979)', description: null, tags: ['sci-fi'], year: 1979, metadata: {} },
    ]);
    await recommender.rate('ada-quokkafeather', 'm1', 5);
    await checkpoint();
    for (const secret of [...secrets, 'ada-quokkafeather'])
      expect(occurrencesInRelations(dataDir, secret), `${secret} is on disk before`).toBeGreaterThan(0);

    const removed = await store.forget(ada);
    expect(removed).toMatchObject({ deleted: 4, flushed: true, alsoDeleted: { ratings: 1 } });
    await checkpoint();
    for (const secret of [...secrets, 'ada-quokkafeather'])
      expect(occurrencesInRelations(dataDir, secret), `${secret} survives in base/`).toBe(0);
    expect(occurrencesInRelations(dataDir, 'pelicanbreeze')).toBeGreaterThan(0);
    expect(await store.search([ada], 'locker code wifi password nickname')).toEqual([]);
    await store.close();
  }, 60_000);
});
