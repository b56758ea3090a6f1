import { afterAll, beforeAll, expect, it } from 'vitest';
import { FakeEmbedder } from '../../memory/embedders/fake.js';
import type { GloveEmbedder } from '../../memory/embedders/glove.js';
import { PostgresMemoryStore } from '../../memory/postgres/store.js';
import { SqliteMemoryStore } from '../../memory/sqlite/store.js';
import { userScope } from '../../memory/types.js';
import { sharedGloveEmbedder } from '../helpers/glove.js';
import { type PgliteServer, startPglite } from '../helpers/pglite.js';

// End-to-end because it loads the real GloVe vectors: their word ids (late interaction) take the path the fake
// embedder never does, through bytea columns and a reindex.
let server: PgliteServer;
let glove: GloveEmbedder;

beforeAll(async () => {
  [server, glove] = await Promise.all([startPglite(), sharedGloveEmbedder()]);
});
afterAll(async () => {
  await server?.stop();
});

const ada = userScope('ada');
const turns = [
  'We adopted a grey kitten last week, she is called Miso',
  'My brother plays the cello in the city orchestra',
  'I am training for a marathon in October',
  'The bakery on the corner sells the best sourdough',
  'Which one? The blue one with the white collar.',
  'I started learning Portuguese before the move',
];

it('ranks with word ids exactly as SQLite does, also after a reindex into GloVe', async () => {
  const clock = () => new Date('2024-06-01T12:00:00Z');
  const postgres = await PostgresMemoryStore.open(server.url, { embedder: new FakeEmbedder(), clock, poolSize: 2 });
  await postgres.addEpisodes(
    ada,
    turns.map((text, index) => ({ text, session: `s${index >> 1}` })),
  );
  await postgres.reindex(glove);
  await postgres.close();
  const store = await PostgresMemoryStore.open(server.url, { embedder: glove, clock, poolSize: 2 });
  const sqlite = await SqliteMemoryStore.open(':memory:', { embedder: glove, clock });
  try {
    await sqlite.addEpisodes(
      ada,
      turns.map((text, index) => ({ text, session: `s${index >> 1}` })),
    );
    for (const query of ['what is my pet called?', 'music instrument', 'running race', 'bread shop']) {
      const [fromPostgres, fromSqlite] = await Promise.all([
        store.search([ada], query, { k: 5, context: 1 }),
        sqlite.search([ada], query, { k: 5, context: 1 }),
      ]);
      expect(fromPostgres[0]?.parts.lateInteraction).toBeGreaterThan(0);
      expect(fromPostgres.map((hit) => [hit.memory.text, hit.score.toFixed(4)])).toEqual(
        fromSqlite.map((hit) => [hit.memory.text, hit.score.toFixed(4)]),
      );
    }
  } finally {
    await sqlite.close();
    await store.close();
  }
}, 120_000);
