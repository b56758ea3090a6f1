import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteMemoryStore } from '../../memory/sqlite/store.js';
import { userScope } from '../../memory/types.js';
import { STORAGE_MODULES } from '../../src/storage.js';
import { cliEnvironment, mnemo } from '../helpers/cli.js';
import { sharedGloveEmbedder } from '../helpers/glove.js';
import {
  contentText,
  type OpenAIServer,
  type RecordedRequest,
  type StaticReply,
  startOpenAIServer,
} from '../helpers/openai-server.js';

// `mnemo ask` end to end: the real ChatOpenAI client against an OpenAI-compatible server on 127.0.0.1.
let server: OpenAIServer;

const systemOf = (request: RecordedRequest): string =>
  contentText(request.body.messages?.find((message) => message.role === 'system')?.content);
const isExtraction = (request: RecordedRequest): boolean =>
  systemOf(request).startsWith('You maintain long-term memory');

/** Answers like a small model would: extraction calls get JSON, conversation calls a short reply. */
function modelBehaviour(request: RecordedRequest): StaticReply {
  if (isExtraction(request)) {
    const said = (JSON.parse(contentText(request.body.messages!.at(-1)!.content)) as { person_said: string })
      .person_said;
    return {
      text: said.includes('allergic to cats')
        ? '{"changes": [{"op": "add", "kind": "profile", "text": "is allergic to cats"}]}'
        : '{"changes": []}',
    };
  }
  return { text: 'Noted, thanks for telling me.' };
}

beforeAll(async () => {
  await sharedGloveEmbedder();
  server = await startOpenAIServer({ fallback: modelBehaviour });
});
afterAll(() => server.close());

const modelEnv = (extra: NodeJS.ProcessEnv = {}) =>
  cliEnvironment({ OPENAI_BASE_URL: server.baseURL, OPENAI_API_KEY: 'sk-test', MNEMO_MODEL: 'test-model', ...extra });

describe('mnemo ask against an OpenAI-compatible server', () => {
  it("carries a fact told in one thread into a later thread of the same user, never into another user's", async () => {
    const env = modelEnv();
    const told = await mnemo(env, ['ask', '--user', 'ada', '--thread', 'monday', 'By the way, I am allergic to cats.']);
    expect(told.code).toBe(0);
    expect(told.stdout).toBe('Noted, thanks for telling me.\n');
    expect(told.stderr).toContain('remembered: is allergic to cats');
    expect((await mnemo(env, ['ask', '--user', 'bob', '--thread', 'monday', 'I love cats and dogs.'])).code).toBe(0);

    const before = server.requests.length;
    const later = JSON.parse(
      (await mnemo(env, ['ask', '--user', 'ada', '--thread', 'friday', '--json', 'Which pet should I get?'])).stdout,
    );
    expect(later).toMatchObject({ reply: 'Noted, thanks for telling me.', threadId: 'friday' });
    expect(Object.keys(later)).toEqual(
      expect.arrayContaining(['reply', 'threadId', 'recalled', 'written', 'toolCalls', 'usage', 'latencyMs']),
    );
    expect(later.usage.input).toBeGreaterThan(0);
    expect(later.usage.output).toBeGreaterThan(0);
    expect(later.latencyMs.total).toBeGreaterThanOrEqual(later.latencyMs.model);
    const adaPrompt = server.requests
      .slice(before)
      .find((request) => request.path.endsWith('/chat/completions') && !isExtraction(request))!;
    expect(systemOf(adaPrompt)).toContain('is allergic to cats');
    // The new thread starts fresh: only the system prompt and this turn's message.
    expect(adaPrompt.body.messages!.map((message) => message.role)).toEqual(['system', 'user']);

    const beforeBob = server.requests.length;
    await mnemo(env, ['ask', '--user', 'bob', '--thread', 'friday', 'Which pet should I get?']);
    const bobPrompts = server.requests.slice(beforeBob).filter((request) => request.path.endsWith('/chat/completions'));
    for (const request of bobPrompts) expect(JSON.stringify(request.body.messages)).not.toContain('allergic');
  });

  it('works with a server that ignores stream: true, asking it without streaming from then on', async () => {
    const plain = await startOpenAIServer({ fallback: modelBehaviour, ignoresStreaming: true });
    try {
      const env = cliEnvironment({
        OPENAI_BASE_URL: plain.baseURL,
        OPENAI_API_KEY: 'sk-test',
        MNEMO_MODEL: 'test-model',
      });
      const told = await mnemo(env, ['ask', '--user', 'ada', 'By the way, I am allergic to cats.']);
      expect([told.code, told.stdout]).toEqual([0, 'Noted, thanks for telling me.\n']);
      expect(told.stderr).toContain('remembered: is allergic to cats');
      // One streamed request came back empty; the same call without streaming answered, and so did the rest.
      expect(plain.chatRequests().map((request) => request.body.stream === true)).toEqual([true, false, false]);
      const later = JSON.parse(
        (await mnemo(env, ['ask', '--user', 'ada', '--json', 'Which pet should I get?'])).stdout,
      ) as { reply: string };
      expect(later.reply).toBe('Noted, thanks for telling me.');
      expect(systemOf(plain.chatRequests().at(-2)!)).toContain('is allergic to cats');
    } finally {
      await plain.close();
    }
  });

  it('goes on without tools when the server refuses them (a local model that cannot call tools)', async () => {
    const refusing = await startOpenAIServer({
      fallback: (request) =>
        request.body.tools?.length
          ? {
              status: 400,
              body: {
                error: {
                  message: 'registry.ollama.ai/library/gemma:2b does not support tools',
                  type: 'invalid_request_error',
                  code: null,
                },
              },
            }
          : modelBehaviour(request),
    });
    try {
      const env = cliEnvironment({
        OPENAI_BASE_URL: refusing.baseURL,
        OPENAI_API_KEY: 'sk-test',
        MNEMO_MODEL: 'test-model',
      });
      const told = await mnemo(env, ['ask', '--user', 'ada', 'By the way, I am allergic to cats.']);
      expect([told.code, told.stdout]).toEqual([0, 'Noted, thanks for telling me.\n']);
      const [refused, answered] = refusing.chatRequests();
      expect(refused!.body.tools?.length).toBeGreaterThan(0);
      expect(answered!.body.tools).toBeUndefined();
      // The retried prompt no longer offers tools the model cannot call.
      expect(systemOf(answered!)).not.toContain('You can call tools');
    } finally {
      await refusing.close();
    }
  });

  it('continues a thread: earlier turns of the thread are in the next call', async () => {
    const env = modelEnv();
    await mnemo(env, ['ask', '--user', 'cy', '--thread', 'trip', 'We fly to Oslo on the 3rd.']);
    const before = server.requests.length;
    await mnemo(env, ['ask', '--user', 'cy', '--thread', 'trip', 'What date was that again?']);
    const call = server.requests
      .slice(before)
      .find((request) => request.path.endsWith('/chat/completions') && !isExtraction(request))!;
    expect(call.body.messages!.map((message) => contentText(message.content))).toEqual(
      expect.arrayContaining(['We fly to Oslo on the 3rd.', 'What date was that again?']),
    );
    // And another user naming the same thread id does not see it.
    const beforeOther = server.requests.length;
    await mnemo(env, ['ask', '--user', 'dee', '--thread', 'trip', 'Hello?']);
    const other = server.requests
      .slice(beforeOther)
      .find((request) => request.path.endsWith('/chat/completions') && !isExtraction(request))!;
    expect(JSON.stringify(other.body.messages)).not.toContain('Oslo');
  });

  it('retries a server error, and a model that keeps failing still leaves the turn stored', {
    timeout: 60_000,
  }, async () => {
    const env = modelEnv();
    server.respond({ status: 500 }, { status: 500 });
    const retried = await mnemo(env, ['ask', '--user', 'eve', 'Good morning']);
    expect(retried.code).toBe(0);
    expect(retried.stdout).toBe('Noted, thanks for telling me.\n');

    const failing = modelEnv({ MNEMO_MODEL_RETRIES: '0' });
    server.respond({ status: 503 });
    const failed = await mnemo(failing, ['ask', '--user', 'fay', '--thread', 'x', 'Is anyone there?']);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/mnemo ask: the model failed: .*503/);
    const store = SqliteMemoryStore.open(failing.MNEMO_DB!, { modules: STORAGE_MODULES });
    expect((await store.list(userScope('fay'))).map((memory) => memory.text)).toEqual(['Is anyone there?']);
    await store.close();
  });

  it('completes the turn when the extraction call returns garbage', async () => {
    const env = modelEnv();
    server.respond(
      { text: 'Happy to help.' },
      { raw: 'I think the user likes, um, things?' },
      { raw: '{"changes": 42}' },
    );
    const result = await mnemo(env, ['ask', '--user', 'gus', 'I like hiking in the Alps']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('Happy to help.\n');
    expect(result.stderr).toContain('fact extraction returned no usable JSON twice');
  });

  it('says in one line how to configure a model when none is', async () => {
    const result = await mnemo(cliEnvironment(), ['ask', '--user', 'ada', 'hello']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'mnemo ask: no model configured: set OPENAI_API_KEY (OpenAI), or OPENAI_BASE_URL for any OpenAI-compatible server (Ollama, vLLM, LM Studio), and optionally MNEMO_MODEL\n',
    );
  });
});
