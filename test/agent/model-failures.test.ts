import { AIMessage } from '@langchain/core/messages';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { userScope } from '../../memory/types.js';
import { createAgent } from '../../src/agent.js';
import type { AgentEvent } from '../../src/events.js';
import { messageWindow, rejectsTools } from '../../src/graph/nodes/converse.js';
import { MAX_TOOL_ROUNDS } from '../../src/graph/routes.js';
import { createChatModel } from '../../src/models.js';
import { fakeModel, memoryStoreForTests } from '../../src/testing.js';
import { contentText, type OpenAIServer, type RecordedRequest, startOpenAIServer } from '../helpers/openai-server.js';

// How the agent lives with a model server that misbehaves: rate limits, stalls, endless tool calls, a cancelled turn.
let server: OpenAIServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const isExtraction = (request: RecordedRequest): boolean =>
  contentText(request.body.messages?.find((message) => message.role === 'system')?.content).startsWith(
    'You maintain long-term memory',
  );

async function agentOn(options: { timeoutMs?: number; maxRetries?: number } = {}) {
  server = await startOpenAIServer({
    fallback: (request) =>
      isExtraction(request)
        ? { text: '{"changes": []}', usage: { prompt_tokens: 100, completion_tokens: 7 } }
        : { text: 'All good.' },
  });
  const model = createChatModel({
    kind: 'openai',
    model: 'test-model',
    baseURL: server.baseURL,
    apiKey: 'sk-test',
    timeoutMs: options.timeoutMs ?? 10_000,
    maxRetries: options.maxRetries ?? 2,
  })!;
  return createAgent({ store: await memoryStoreForTests(), model });
}

async function collect(events: AsyncIterable<AgentEvent>): Promise<AgentEvent[]> {
  const seen: AgentEvent[] = [];
  for await (const event of events) seen.push(event);
  return seen;
}

describe('a misbehaving model server', () => {
  it('retries a 429 that names no Retry-After, with backoff', { timeout: 30_000 }, async () => {
    const agent = await agentOn();
    server!.respond({ status: 429, headers: { 'retry-after-ms': '' } });
    const result = await agent.chat('Hello', { userId: 'ada' });
    expect(result.errors).toEqual([]);
    expect(result.reply).toBe('All good.');
  });

  it('gives up at once when the quota is exhausted', async () => {
    const agent = await agentOn();
    server!.respond({
      status: 429,
      body: {
        error: { message: 'You exceeded your current quota', type: 'insufficient_quota', code: 'insufficient_quota' },
      },
    });
    const result = await agent.chat('Hello', { userId: 'ada' });
    expect(result.errors[0]?.message).toMatch(/the model failed: .*quota/);
    expect(server!.chatRequests().filter((request) => !isExtraction(request))).toHaveLength(1);
  });

  it('fails the reply of a stream that stalls mid-answer, and keeps the turn', { timeout: 30_000 }, async () => {
    const agent = await agentOn({ timeoutMs: 300, maxRetries: 0 });
    server!.respond({ stallAfter: 'Let me th' });
    const events = await collect(agent.stream('Are you there?', { userId: 'ada', threadId: 't' }));
    expect(events.find((event) => event.type === 'error')).toMatchObject({
      stage: 'model',
      message: expect.stringMatching(/sent nothing for 0\.3 s/),
    });
    expect(events.at(-1)).toMatchObject({ type: 'turn-end', reply: '' });
    expect((await agent.memory.list(userScope('ada'))).map((memory) => memory.text)).toEqual(['Are you there?']);
  });

  it('bounds a non-streamed answer that never finishes', { timeout: 30_000 }, async () => {
    server = await startOpenAIServer();
    const model = createChatModel({
      kind: 'openai',
      model: 'test-model',
      baseURL: server.baseURL,
      apiKey: 'sk-test',
      timeoutMs: 300,
      maxRetries: 0,
    })!;
    server.respond({ stallAfter: '' });
    await expect(model.invoke('hi')).rejects.toThrow(/did not answer within 0\.3 s/);
  });

  it('answers without tools once the tool rounds are spent, leaving no unanswered call in the thread', async () => {
    const agent = await agentOn();
    let calls = 0;
    server!.respond(
      ...Array.from({ length: MAX_TOOL_ROUNDS }, () => () => ({
        toolCalls: [{ name: 'search_memory', arguments: { query: `try ${++calls}` } }],
      })),
    );
    server!.respond((request) =>
      request.body.tools
        ? { toolCalls: [{ name: 'search_memory', arguments: { query: 'again' } }] }
        : { text: 'Here is what I found.' },
    );
    const first = await agent.chat('Find everything', { userId: 'ada', threadId: 't' });
    expect(first.toolCalls).toHaveLength(MAX_TOOL_ROUNDS);
    expect(first.reply).toBe('Here is what I found.');

    const second = await agent.chat('Thanks!', { userId: 'ada', threadId: 't' });
    expect(second.errors).toEqual([]);
    const last = server!
      .chatRequests()
      .filter((request) => !isExtraction(request))
      .at(-1)!;
    // Every tool call in the history is followed by its result, and tools are offered again.
    const messages = last.body.messages!;
    messages.forEach((message, index) => {
      if (message.tool_calls) expect(messages[index + 1]?.role).toBe('tool');
    });
    expect(last.body.tools?.length).toBeGreaterThan(0);
  });

  it('answers a tool call whose arguments are not JSON with an error the model can correct', async () => {
    const agent = await agentOn();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    server!.respond(
      { toolCalls: [{ name: 'remember', arguments: '{not json' }] },
      { text: 'Sorry, I will try again later.' },
    );
    const result = await agent.chat('Please remember that I like tea', { userId: 'ada', threadId: 't' });
    expect(result.reply).toBe('Sorry, I will try again later.');
    expect(result.toolCalls).toEqual([
      expect.objectContaining({
        name: 'remember',
        isError: true,
        result: expect.stringContaining('not valid JSON: {not json'),
      }),
    ]);
    const followUp = server!.chatRequests().filter((request) => !isExtraction(request))[1]!;
    expect(followUp.body.messages!.map((message) => message.role)).toEqual(['system', 'user', 'assistant', 'tool']);
    // LangChain warns on a message whose only tool call failed to parse; mnemo never builds one.
    expect(warn).not.toHaveBeenCalled();
    warn.mockRestore();
  });

  it('tells a server that cannot call tools from a 400 that merely mentions them', () => {
    const bad = (message: string) => Object.assign(new Error(message), { status: 400 });
    expect(rejectsTools(bad('registry.ollama.ai/library/gemma:2b does not support tools'))).toBe(true);
    expect(
      rejectsTools(bad('"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set')),
    ).toBe(true);
    expect(
      rejectsTools(
        bad(
          "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'",
        ),
      ),
    ).toBe(false);
    expect(rejectsTools(bad("Invalid schema for function 'rate': tools[1].function.parameters is invalid"))).toBe(
      false,
    );
  });

  it('drops tool calls a history left unanswered', () => {
    const window = messageWindow(
      [new AIMessage({ content: 'Looking.', tool_calls: [{ id: 'c1', name: 'search_memory', args: {} }] })],
      24,
    );
    expect((window[0] as AIMessage).tool_calls ?? []).toEqual([]);
    expect(window[0]!.content).toBe('Looking.');
  });
});

describe('write-back', () => {
  it("counts the extraction call in the turn's tokens", async () => {
    const agent = await agentOn();
    server!.respond({ text: 'Sure.', usage: { prompt_tokens: 20, completion_tokens: 3 } });
    const result = await agent.chat('I like tea', { userId: 'ada' });
    expect(result.usage).toEqual({ input: 120, output: 10 });
  });

  it('keeps the stored turn when the extraction call itself fails', async () => {
    const agent = await agentOn({ maxRetries: 0 });
    server!.respond({ text: 'Sure.' }, { status: 503 });
    const result = await agent.chat('I like tea', { userId: 'ada' });
    expect(result.reply).toBe('Sure.');
    expect(result.errors).toEqual([
      { stage: 'writeBack', message: expect.stringMatching(/^fact extraction failed: .*503/) },
    ]);
    expect(result.written.episodes.map((episode) => episode.text).sort()).toEqual(['I like tea', 'Sure.']);
  });

  it('stores a turn cancelled during extraction once', async () => {
    const controller = new AbortController();
    const model = fakeModel()
      .respond(new AIMessage('Sure thing.'))
      .respond(() => {
        controller.abort();
        return new AIMessage('{"changes": []}');
      });
    const agent = createAgent({ store: await memoryStoreForTests(), model });
    await expect(collect(agent.stream('I like tea', { userId: 'ada', signal: controller.signal }))).rejects.toThrow();
    expect((await agent.memory.list(userScope('ada'))).map((memory) => memory.text).sort()).toEqual([
      'I like tea',
      'Sure thing.',
    ]);
  });
});
