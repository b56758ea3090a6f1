import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnvironment, mnemo } from '../helpers/cli.js';
import { sharedGloveEmbedder } from '../helpers/glove.js';
import { type OpenAIServer, startOpenAIServer } from '../helpers/openai-server.js';

// `mnemo chat` with a pipe instead of a terminal: one line in, plain text out.
let server: OpenAIServer;
beforeAll(async () => {
  await sharedGloveEmbedder();
  server = await startOpenAIServer({
    fallback: (request) =>
      String(request.body.messages?.[0]?.content ?? '').startsWith('You maintain long-term memory')
        ? { text: '{"changes": [{"op": "add", "kind": "preference", "text": "likes green tea"}]}' }
        : { text: 'Green tea it is.' },
  });
});
afterAll(() => server.close());

describe('mnemo chat on a pipe', () => {
  it('without a model: says how to configure one, keeps what was said, and the slash commands work', async () => {
    const env = cliEnvironment();
    const result = await mnemo(
      env,
      ['chat', '--user', 'ada'],
      '/remember likes green tea\n/memories\nhello?\n/quit\nnever read\n',
    );
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^! no model configured: set OPENAI_API_KEY/);
    expect(result.stdout).toMatch(/remembered: likes green tea/);
    expect(result.stdout).toMatch(/fact: likes green tea/);
    expect(lines.filter((line) => line.startsWith('! message kept in memory; no model configured'))).toHaveLength(1);
    expect((await mnemo(env, ['memories', '--user', 'ada', '--all'])).stdout).toMatch(/user: hello\?/);
  });

  it('with a model: streams the reply and shows what it remembered', async () => {
    const env = cliEnvironment({
      OPENAI_BASE_URL: server.baseURL,
      OPENAI_API_KEY: 'sk-test',
      MNEMO_MODEL: 'test-model',
    });
    const result = await mnemo(env, ['chat', '--user', 'ada', '--thread', 'kitchen'], 'I really like green tea\n');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Green tea it is.\n');
    expect(result.stdout).toContain('· remembered: likes green tea');
  });
});
