import { AIMessageChunk, type BaseMessageChunk, HumanMessage, SystemMessage } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { END, MemorySaver, MessagesAnnotation, START, StateGraph } from '@langchain/langgraph';
import { ChatOpenAI, OpenAIEmbeddings } from '@langchain/openai';
import OpenAI from 'openai';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { embedText, type OpenAIServer, startOpenAIServer } from './openai-server.js';

let server: OpenAIServer;

beforeEach(async () => {
  server = await startOpenAIServer();
});

afterEach(async () => {
  await server.close();
});

function chatModel(fields: { maxRetries?: number } = {}): ChatOpenAI {
  return new ChatOpenAI({
    model: 'test-model',
    apiKey: 'sk-test',
    configuration: { baseURL: server.baseURL },
    maxRetries: 2,
    ...fields,
  });
}

async function collect(
  stream: AsyncIterable<BaseMessageChunk>,
): Promise<{ chunks: BaseMessageChunk[]; message: AIMessageChunk }> {
  const chunks: BaseMessageChunk[] = [];
  let message = new AIMessageChunk({ content: '' });
  for await (const chunk of stream) {
    chunks.push(chunk);
    message = message.concat(chunk as AIMessageChunk);
  }
  return { chunks, message };
}

const rememberTool = tool(async () => 'ok', {
  name: 'remember',
  description: 'Stores a fact about the user.',
  schema: z.object({
    fact: z.string().describe('The fact, in one sentence.'),
    importance: z.number().describe('0 to 1.'),
  }),
});

describe('startOpenAIServer with ChatOpenAI', () => {
  it('answers a non-streaming invoke and records the whole prompt', async () => {
    server.respond({ text: 'You like green tea.' });

    const reply = await chatModel().invoke([new SystemMessage('You are mnemo.'), new HumanMessage('What do I like?')]);

    expect(reply.content).toBe('You like green tea.');
    expect(reply.id).toMatch(/^chatcmpl-/);
    expect(reply.usage_metadata).toMatchObject({ input_tokens: 7, output_tokens: 4, total_tokens: 11 });
    const [request] = server.requests;
    expect(request).toMatchObject({ method: 'POST', path: '/v1/chat/completions' });
    expect(request?.headers.authorization).toBe('Bearer sk-test');
    expect(request?.body).toMatchObject({
      model: 'test-model',
      stream: false,
      messages: [
        { role: 'system', content: 'You are mnemo.' },
        { role: 'user', content: 'What do I like?' },
      ],
    });
    // Without streaming, the client asks for no stream_options.
    expect(request?.body.stream_options).toBeUndefined();
  });

  it('streams text in several chunks, with usage in the last one', async () => {
    server.respond({ text: 'Green tea, mostly in the morning.' });

    const { chunks, message } = await collect(await chatModel().stream('What do I drink?'));

    expect(chunks.filter((chunk) => chunk.content !== '').length).toBeGreaterThan(1);
    expect(message.content).toBe('Green tea, mostly in the morning.');
    expect(message.usage_metadata).toMatchObject({ input_tokens: 4, output_tokens: 6, total_tokens: 10 });
    expect(server.requests[0]?.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it('turns a scripted tool call into tool_calls with parsed arguments, streamed or not', async () => {
    const model = chatModel().bindTools([rememberTool]);
    server.respond(
      { toolCalls: [{ name: 'remember', arguments: { fact: 'Likes green tea.', importance: 0.8 }, id: 'call_tea' }] },
      { toolCalls: [{ name: 'remember', arguments: { fact: 'Hates coffee.', importance: 0.5 } }] },
    );

    const invoked = await model.invoke('I like green tea.');
    const { message: streamed } = await collect(await model.stream('I hate coffee.'));

    expect(invoked.tool_calls).toEqual([
      { name: 'remember', args: { fact: 'Likes green tea.', importance: 0.8 }, id: 'call_tea', type: 'tool_call' },
    ]);
    expect(invoked.response_metadata.finish_reason).toBe('tool_calls');
    expect(streamed.tool_calls).toMatchObject([
      { name: 'remember', args: { fact: 'Hates coffee.', importance: 0.5 }, id: 'call_1' },
    ]);
    expect(server.requests[0]?.body.tools).toEqual([
      {
        type: 'function',
        function: {
          name: 'remember',
          description: 'Stores a fact about the user.',
          parameters: expect.objectContaining({ type: 'object', required: ['fact', 'importance'] }) as unknown,
        },
      },
    ]);
  });

  it('sends a malformed tool-call argument string verbatim, which the client reports as invalid', async () => {
    server.respond({ toolCalls: [{ name: 'remember', arguments: '{"fact": "unterminated' }] });
    // @langchain/core warns (misleadingly, about upgrading) whenever every raw tool call fails to parse.
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const reply = await chatModel().bindTools([rememberTool]).invoke('remember this');
    warn.mockRestore();
    expect(reply.tool_calls).toEqual([]);
    expect(reply.invalid_tool_calls).toMatchObject([{ name: 'remember', args: '{"fact": "unterminated' }]);
  });

  it('is retried by the client after two 500s, answering on the third request', async () => {
    server.respond({ status: 500 }, { status: 500 }, { text: 'Third time lucky.' });

    // LangChain disables the SDK's retries and backs off itself (about 1-2 s, then 2-4 s), ignoring retry-after-ms.
    const reply = await chatModel({ maxRetries: 2 }).invoke('hello');

    expect(reply.content).toBe('Third time lucky.');
    expect(server.chatRequests()).toHaveLength(3);
    expect(server.pendingReplies()).toBe(0);
  });

  it('retries quickly when the SDK itself retries, honouring retry-after-ms', async () => {
    server.respond(
      { status: 429, body: { error: { message: 'Slow down', type: 'requests', code: 'rate_limit_exceeded' } } },
      { text: 'Fine now.' },
    );
    // configuration.maxRetries reaches the SDK per request; the server's retry-after-ms: 1 keeps it fast.
    const model = new ChatOpenAI({
      model: 'test-model',
      apiKey: 'sk-test',
      maxRetries: 0,
      configuration: { baseURL: server.baseURL, maxRetries: 1 },
    });

    const reply = await model.invoke('hello');

    expect(reply.content).toBe('Fine now.');
    expect(server.chatRequests()).toHaveLength(2);
    // The SDK, not LangChain, made the second attempt.
    expect(server.chatRequests()[1]?.headers['x-stainless-retry-count']).toBe('1');
  });

  it('fails with the scripted error body when the status is not retryable', async () => {
    server.respond({
      status: 400,
      body: { error: { message: 'Bad prompt', type: 'invalid_request_error', code: null } },
    });
    await expect(chatModel().invoke('hello')).rejects.toThrow(/Bad prompt/);
    expect(server.chatRequests()).toHaveLength(1);
  });

  it('gives every completion a unique id', async () => {
    server.respond(
      { text: 'one' },
      { text: 'two' },
      { toolCalls: [{ name: 'remember', arguments: { fact: 'x', importance: 1 } }] },
      { text: 'four' },
    );
    const model = chatModel();

    const first = await model.invoke('1');
    const { message: second } = await collect(await model.stream('2'));
    const third = await model.bindTools([rememberTool]).invoke('3');
    const fourth = await model.invoke('4');

    const ids = [first.id, second.id, third.id, fourth.id];
    expect(ids.every((id) => typeof id === 'string' && id.startsWith('chatcmpl-'))).toBe(true);
    expect(new Set(ids).size).toBe(4);
  });

  it('sends raw content verbatim and falls back to echoing the last user message', async () => {
    server.respond({ raw: '{"not": json' });
    const model = chatModel();

    expect((await model.invoke('extract')).content).toBe('{"not": json');
    expect(
      (await model.invoke([new SystemMessage('sys'), new HumanMessage('first'), new HumanMessage('Echo me')])).content,
    ).toBe('echo: Echo me');
    expect(server.pendingReplies()).toBe(0);
  });

  it('answers by function, e.g. recognising a structured-output extraction call', async () => {
    server.respond((request) =>
      request.body.response_format?.type === 'json_schema'
        ? { text: JSON.stringify({ facts: ['likes tea'] }) }
        : { text: 'chat reply' },
    );
    const extractor = chatModel().withStructuredOutput(z.object({ facts: z.array(z.string()) }), {
      name: 'extract_facts',
    });

    const extracted = await extractor.invoke('I like tea.');

    expect(extracted).toEqual({ facts: ['likes tea'] });
    expect(server.requests[0]?.body.response_format).toMatchObject({
      type: 'json_schema',
      json_schema: { name: 'extract_facts', strict: true },
    });
  });

  it('reports garbage where structured output was expected as a client error', async () => {
    server.respond({ raw: 'Sure! Here are the facts: tea' });
    const extractor = chatModel({ maxRetries: 0 }).withStructuredOutput(z.object({ facts: z.array(z.string()) }));
    await expect(extractor.invoke('I like tea.')).rejects.toThrow();
  });

  it('streams through a LangGraph graph, whose state keeps every reply because ids differ', async () => {
    server.respond({ text: 'Hello there, friend.' }, { text: 'Second answer.' });
    const model = chatModel();
    const graph = new StateGraph(MessagesAnnotation)
      .addNode('agent', async (state) => ({ messages: [await model.invoke(state.messages)] }))
      .addEdge(START, 'agent')
      .addEdge('agent', END)
      .compile({ checkpointer: new MemorySaver() });
    const config = { configurable: { thread_id: 't1' } };

    const streamed: string[] = [];
    for await (const [chunk] of await graph.stream(
      { messages: [new HumanMessage('hi')] },
      { ...config, streamMode: 'messages' },
    )) {
      if (typeof chunk.content === 'string' && chunk.content !== '') streamed.push(chunk.content);
    }
    const state = await graph.invoke({ messages: [new HumanMessage('again')] }, config);

    // Under streamMode 'messages' invoke() streams: the request asks for SSE and usage.
    expect(server.requests[0]?.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    expect(streamed.length).toBeGreaterThan(1);
    expect(streamed.join('')).toBe('Hello there, friend.');
    expect(state.messages.map((message) => message.content)).toEqual([
      'hi',
      'Hello there, friend.',
      'again',
      'Second answer.',
    ]);
    // The second request carried the whole conversation so far.
    expect(server.requests[1]?.body.messages?.map((message) => message.content)).toEqual([
      'hi',
      'Hello there, friend.',
      'again',
    ]);
  });

  it('closes promptly even while a request is still waiting for its reply', async () => {
    server.respond(() => new Promise(() => undefined));
    const pending = chatModel({ maxRetries: 0 }).invoke('hello');
    await expect.poll(() => server.requests.length).toBe(1);

    await server.close();

    await expect(pending).rejects.toThrow();
    await server.close(); // and again from afterEach: closing twice is harmless
  });
});

describe('startOpenAIServer embeddings', () => {
  it('serves base64 vectors that OpenAIEmbeddings decodes to the deterministic embedding', async () => {
    const embeddings = new OpenAIEmbeddings({
      model: 'test-embedding',
      apiKey: 'sk-test',
      configuration: { baseURL: server.baseURL },
    });

    const [tea, teaAgain, coffee] = await embeddings.embedDocuments(['Green tea', 'green TEA!', 'black coffee']);
    const query = await embeddings.embedQuery('green tea');

    expect(server.requests[0]?.body).toMatchObject({
      model: 'test-embedding',
      encoding_format: 'base64',
      input: ['Green tea', 'green TEA!', 'black coffee'],
    });
    expect(tea).toHaveLength(16);
    expect(Math.hypot(...(tea ?? []))).toBeCloseTo(1, 5);
    expect(teaAgain).toEqual(tea);
    expect(query).toEqual(tea);
    expect(coffee).not.toEqual(tea);
    for (const [index, value] of embedText('green tea', 16).entries()) expect(tea?.[index]).toBeCloseTo(value, 6);
  });

  it('serves float arrays when asked, honouring the dimensions field', async () => {
    const client = new OpenAI({ apiKey: 'sk-test', baseURL: server.baseURL });

    const response = await client.embeddings.create({
      model: 'test-embedding',
      input: 'hello world',
      encoding_format: 'float',
      dimensions: 8,
    });

    expect(response.data[0]?.embedding).toEqual(embedText('hello world', 8));
    expect(response.usage).toEqual({ prompt_tokens: 2, total_tokens: 2 });
  });
});
