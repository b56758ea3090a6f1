import { existsSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeEmbedder } from '../../memory/embedders/fake.js';
import { SqliteMemoryStore } from '../../memory/sqlite/store.js';
import { STORAGE_MODULES } from '../../src/storage.js';
import { cliEnvironment, mnemo } from '../helpers/cli.js';
import { sharedGloveEmbedder } from '../helpers/glove.js';

// A loopback OpenAI-compatible /v1/embeddings server (base64 float32, like the real API).
let server: Server;
let baseURL: string;
const requests: string[] = [];

beforeAll(async () => {
  await sharedGloveEmbedder();
  const fake = new FakeEmbedder({ dims: 48 });
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', async () => {
      requests.push(`${request.method} ${request.url} ${request.headers.authorization ?? ''}`);
      const { input } = JSON.parse(body) as { input: string[] };
      const vectors = await fake.embed(input);
      response.setHeader('content-type', 'application/json');
      response.end(
        JSON.stringify({
          object: 'list',
          model: 'test-embed',
          data: vectors.map((vector, index) => ({
            object: 'embedding',
            index,
            embedding: Buffer.from(vector.buffer).toString('base64'),
          })),
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('switching embedders', () => {
  it('refuses a database built by another embedder, naming mnemo reindex, and reindexes it', async () => {
    const env = cliEnvironment();
    const file = join(env.HOME!, 'turns.jsonl');
    writeFileSync(file, '{"text":"I keep bees on the roof"}\n{"text":"the hive swarmed in June"}\n');
    expect((await mnemo(env, ['ingest', '--user', 'ada', file])).code).toBe(0);
    const catalog = join(env.HOME!, 'items.jsonl');
    writeFileSync(
      catalog,
      '{"id":"m1","title":"The Bee Movie","tags":["Animation"]}\n{"id":"m2","title":"Swarm","tags":["Horror"]}\n',
    );
    expect((await mnemo(env, ['catalog', 'import', catalog])).code).toBe(0);

    const openai = {
      ...env,
      MNEMO_EMBEDDER: 'openai',
      OPENAI_BASE_URL: baseURL,
      OPENAI_API_KEY: 'sk-test',
      MNEMO_EMBEDDING_MODEL: 'test-embed',
    };
    const refused = await mnemo(openai, ['search', '--user', 'ada', 'bees']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/indexed with embedder glove-sg-100d-sif@1.*mnemo reindex/);

    const reindexed = await mnemo(openai, ['reindex']);
    expect(reindexed).toMatchObject({
      code: 0,
      stdout: 'reindexed 2 memories: glove-sg-100d-sif@1 → openai:test-embed; re-embedded 2 catalog items\n',
    });
    const store = SqliteMemoryStore.open(env.MNEMO_DB!, { modules: STORAGE_MODULES });
    expect(store.db.prepare('SELECT DISTINCT embedder FROM rec_items').pluck().all()).toEqual(['openai:test-embed']);
    await store.close();
    const found = JSON.parse(
      (await mnemo(openai, ['search', '--user', 'ada', '--json', 'bees roof'])).stdout,
    ) as Array<{ text: string }>;
    expect(found[0]!.text).toBe('I keep bees on the roof');
    expect(requests.every((line) => line.startsWith('POST /v1/embeddings Bearer sk-test'))).toBe(true);

    // And the default embedder is now the stranger.
    expect((await mnemo(env, ['search', '--user', 'ada', 'bees'])).stderr).toMatch(/mnemo reindex/);
    expect((await mnemo(env, ['memories', '--user', 'ada', '--all', '--json'])).code).toBe(0);
  });

  it('refuses a database built by another embedder before sending any request', async () => {
    const env = cliEnvironment();
    expect((await mnemo(env, ['remember', '--user', 'ada', 'keeps bees'])).code).toBe(0);
    const before = requests.length;
    const openai = { ...env, MNEMO_EMBEDDER: 'openai', OPENAI_BASE_URL: baseURL, MNEMO_EMBEDDING_MODEL: 'test-embed' };
    for (const argv of [
      ['search', '--user', 'ada', 'bees'],
      ['remember', '--user', 'ada', 'keeps wasps'],
    ]) {
      const refused = await mnemo(openai, argv);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(
        /^mnemo \w+: this database was indexed with embedder glove-sg-100d-sif@1 .*mnemo reindex.*\n$/,
      );
    }
    expect(requests.length).toBe(before);
  });

  it('asks for a key or an endpoint when MNEMO_EMBEDDER=openai has neither, before touching the network or the file', async () => {
    const env = cliEnvironment({ MNEMO_EMBEDDER: 'openai', OPENAI_API_KEY: '', OPENAI_BASE_URL: '' });
    for (const command of ['remember', 'search']) {
      expect(await mnemo(env, [command, '--user', 'ada', 'bees'])).toMatchObject({
        code: 1,
        stderr: `mnemo ${command}: MNEMO_EMBEDDER=openai needs OPENAI_API_KEY (OpenAI) or OPENAI_BASE_URL (a local server)\n`,
      });
    }
    expect(existsSync(env.MNEMO_DB!)).toBe(false);
  });

  it('rejects an unknown embedder in one line', async () => {
    const result = await mnemo(cliEnvironment({ MNEMO_EMBEDDER: 'word2vec' }), ['search', '--user', 'ada', 'x']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('mnemo search: MNEMO_EMBEDDER must be "glove" or "openai", not "word2vec"\n');
  });
});
