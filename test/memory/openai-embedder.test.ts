import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OpenAIEmbedder, type OpenAIEmbedderOptions } from '../../memory/embedders/openai.js';
import { EmbedderError, InputError } from '../../memory/errors.js';

interface RecordedRequest {
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly body: { model?: string; input?: string[]; encoding_format?: string; dimensions?: number };
}

/** Answers one request; returning without ending the response leaves the request hanging. */
type Handler = (request: RecordedRequest, response: ServerResponse) => void;

const apiKey = 'sk-test-secret-0123456789';
let server: Server;
let baseURL: string;
let requests: RecordedRequest[] = [];
let handler: Handler = () => undefined;

// A fresh server, hence a fresh port, per test: fetch's connection pool would otherwise hand a later test a
// keep-alive socket this file's cleanup had closed, and its first attempt would fail with "other side closed".
beforeEach(async () => {
  requests = [];
  handler = () => undefined;
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const recorded: RecordedRequest = {
        method: request.method,
        url: request.url,
        headers: request.headers,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as RecordedRequest['body'],
      };
      requests.push(recorded);
      handler(recorded, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

afterEach(async () => {
  // Drops requests a test left hanging (abort and timeout tests) so close() can finish.
  server.closeAllConnections();
  await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
});

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

function base64Of(values: readonly number[]): string {
  const bytes = Buffer.alloc(values.length * 4);
  for (const [index, value] of values.entries()) bytes.writeFloatLE(value, index * 4);
  return bytes.toString('base64');
}

/** A vector whose direction encodes the number in the text (`text-7` → [7, 1, 0]), so order mistakes show. */
function vectorFor(text: string): number[] {
  return [Number(text.replace(/\D/g, '')), 1, 0];
}

/** Embeddings response for the request's inputs, in base64 or as number arrays, optionally shuffled. */
function embeddings(request: RecordedRequest, format: 'base64' | 'float', reverse = false): unknown {
  const data = (request.body.input ?? []).map((text, index) => ({
    object: 'embedding',
    index,
    embedding: format === 'base64' ? base64Of(vectorFor(text)) : vectorFor(text),
  }));
  return {
    object: 'list',
    data: reverse ? data.reverse() : data,
    model: request.body.model,
    usage: { prompt_tokens: 1, total_tokens: 1 },
  };
}

function embedder(options: Partial<OpenAIEmbedderOptions> = {}): OpenAIEmbedder {
  return new OpenAIEmbedder({ baseURL, apiKey, model: 'test-model', dimensions: 3, retryBaseMs: 1, ...options });
}

function expectClose(actual: Float32Array | undefined, expected: readonly number[]): void {
  expect(actual).toBeDefined();
  expect(Array.from(actual ?? [])).toHaveLength(expected.length);
  for (const [index, value] of expected.entries()) expect(actual?.[index]).toBeCloseTo(value, 5);
}

async function caught(promise: Promise<unknown>): Promise<EmbedderError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(EmbedderError);
  return error as EmbedderError;
}

describe('OpenAIEmbedder', () => {
  it('asks for base64, decodes little-endian float32 and L2-normalises', async () => {
    handler = (request, response) => sendJson(response, 200, embeddings(request, 'base64'));
    const [vector] = await embedder().embed(['text-3']);
    expectClose(vector, [3 / Math.sqrt(10), 1 / Math.sqrt(10), 0]);
    expect(requests).toHaveLength(1);
    expect(requests[0]?.method).toBe('POST');
    expect(requests[0]?.url).toBe('/v1/embeddings');
    expect(requests[0]?.body).toEqual({
      model: 'test-model',
      input: ['text-3'],
      encoding_format: 'base64',
      dimensions: 3,
    });
  });

  it('accepts plain number arrays and sorts the data by index', async () => {
    handler = (request, response) => sendJson(response, 200, embeddings(request, 'float', true));
    const vectors = await embedder().embed(['text-1', 'text-2', 'text-4']);
    expectClose(vectors[0], [1 / Math.SQRT2, 1 / Math.SQRT2, 0]);
    expectClose(vectors[1], [2 / Math.sqrt(5), 1 / Math.sqrt(5), 0]);
    expectClose(vectors[2], [4 / Math.sqrt(17), 1 / Math.sqrt(17), 0]);
  });

  it('splits big inputs into batches and keeps the input order', async () => {
    handler = (request, response) => sendJson(response, 200, embeddings(request, 'base64', true));
    const texts = Array.from({ length: 8 }, (_, index) => `text-${index + 1}`);
    const vectors = await embedder({ batchSize: 3 }).embed(texts);
    expect(requests.map((request) => request.body.input)).toEqual([
      texts.slice(0, 3),
      texts.slice(3, 6),
      texts.slice(6),
    ]);
    expect(vectors).toHaveLength(8);
    vectors.forEach((vector, index) => {
      const norm = Math.hypot(index + 1, 1);
      expectClose(vector, [(index + 1) / norm, 1 / norm, 0]);
    });
  });

  it('sends no request for no texts', async () => {
    expect(await embedder().embed([])).toEqual([]);
    expect(requests).toHaveLength(0);
  });

  it('sends the API key as a bearer token, and no authorization header without one', async () => {
    handler = (request, response) => sendJson(response, 200, embeddings(request, 'base64'));
    await embedder().embed(['text-1']);
    await embedder({ apiKey: '' }).embed(['text-1']);
    expect(requests[0]?.headers.authorization).toBe(`Bearer ${apiKey}`);
    expect(requests[1]?.headers.authorization).toBeUndefined();
  });

  it('retries a 500 twice and then succeeds', async () => {
    handler = (request, response) =>
      requests.length <= 2
        ? sendJson(response, 500, { error: { message: 'overloaded' } })
        : sendJson(response, 200, embeddings(request, 'base64'));
    const [vector] = await embedder().embed(['text-2']);
    expectClose(vector, [2 / Math.sqrt(5), 1 / Math.sqrt(5), 0]);
    expect(requests).toHaveLength(3);
  });

  it('honours Retry-After on a 429', async () => {
    handler = (request, response) =>
      requests.length === 1
        ? sendJson(response, 429, { error: { message: 'Rate limit reached' } }, { 'retry-after': '1' })
        : sendJson(response, 200, embeddings(request, 'base64'));
    const started = Date.now();
    await embedder({ retryBaseMs: 1 }).embed(['text-1']);
    // With a 1 ms backoff only the header can account for a wait of about a second.
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(requests).toHaveLength(2);
  });

  it('fails at once when Retry-After is longer than retryMaxMs', async () => {
    handler = (_request, response) =>
      sendJson(response, 429, { error: { message: 'quota' } }, { 'retry-after': '120' });
    const error = await caught(embedder({ retryMaxMs: 1_000 }).embed(['text-1']));
    expect(error.message).toContain('retry after 120 s');
    expect(requests).toHaveLength(1);
  });

  it('gives up on a persistent 500 with one line naming URL, status and server message, never the key', async () => {
    handler = (_request, response) =>
      sendJson(response, 500, { error: { message: `internal failure for key ${apiKey}` } });
    const error = await caught(embedder({ maxRetries: 2 }).embed(['text-1']));
    expect(error.code).toBe('embedder_failed');
    expect(error.message).toContain(`${baseURL}/embeddings`);
    expect(error.message).toContain('HTTP 500');
    expect(error.message).toContain('internal failure');
    expect(error.message).toContain('after 3 attempts');
    expect(error.message).not.toContain(apiKey);
    expect(error.message).not.toContain('\n');
    expect(requests).toHaveLength(3);
  });

  it('does not retry a 400 and shows an Ollama-style error string', async () => {
    handler = (_request, response) =>
      sendJson(response, 400, { error: 'model "test-model" not found, try pulling it first' });
    const error = await caught(embedder().embed(['text-1']));
    expect(error.message).toContain('HTTP 400');
    expect(error.message).toContain('model "test-model" not found');
    expect(requests).toHaveLength(1);
  });

  it('retries network errors', async () => {
    let calls = 0;
    const flakyFetch: typeof fetch = async (input, init) => {
      calls += 1;
      if (calls === 1)
        throw new TypeError('fetch failed', { cause: Object.assign(new Error('connect'), { code: 'ECONNRESET' }) });
      return fetch(input, init);
    };
    handler = (request, response) => sendJson(response, 200, embeddings(request, 'base64'));
    await embedder({ fetch: flakyFetch }).embed(['text-1']);
    expect(calls).toBe(2);

    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const refused = await caught(
      embedder({ baseURL: `http://127.0.0.1:${closedPort}/v1`, maxRetries: 1 }).embed(['text-1']),
    );
    expect(refused.message).toContain('network error');
    expect(refused.message).toContain('ECONNREFUSED');
  });

  it('aborts a pending request with code aborted', async () => {
    handler = () => undefined; // never answers
    const controller = new AbortController();
    const pending = embedder().embed(['text-1'], { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    const error = await caught(pending);
    expect(error.code).toBe('aborted');
  });

  it('aborts during the wait between retries, and sends nothing for an already aborted signal', async () => {
    handler = (_request, response) => sendJson(response, 503, { error: { message: 'busy' } });
    const controller = new AbortController();
    const pending = embedder({ retryBaseMs: 10_000, maxRetries: 5 }).embed(['text-1'], { signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    expect((await caught(pending)).code).toBe('aborted');
    expect(requests).toHaveLength(1);

    const error = await caught(embedder().embed(['text-1'], { signal: AbortSignal.abort() }));
    expect(error.code).toBe('aborted');
    expect(requests).toHaveLength(1);
  });

  it('times out an attempt and retries it', async () => {
    handler = () => undefined;
    const error = await caught(embedder({ timeoutMs: 50, maxRetries: 1 }).embed(['text-1']));
    expect(error.code).toBe('embedder_failed');
    expect(error.message).toContain('timed out after 50 ms');
    expect(requests).toHaveLength(2);
  });

  it('rejects vectors of the wrong length', async () => {
    handler = (_request, response) => sendJson(response, 200, { data: [{ index: 0, embedding: [1, 2, 3, 4] }] });
    const error = await caught(embedder().embed(['text-1']));
    expect(error.message).toContain('length 4, expected 3');
    expect(requests).toHaveLength(1);
  });

  it('rejects a response with the wrong number of vectors or broken data', async () => {
    handler = (_request, response) => sendJson(response, 200, { data: [{ index: 0, embedding: [1, 2, 3] }] });
    expect((await caught(embedder().embed(['text-1', 'text-2']))).message).toContain('got 1 vectors for 2 inputs');

    handler = (_request, response) =>
      sendJson(response, 200, {
        data: [
          { index: 0, embedding: [1, 2, 3] },
          { index: 0, embedding: [1, 2, 3] },
        ],
      });
    expect((await caught(embedder().embed(['text-1', 'text-2']))).message).toContain('duplicate');

    handler = (_request, response) => sendJson(response, 200, { data: [{ index: 0, embedding: 'AAA' }] });
    expect((await caught(embedder().embed(['text-1']))).message).toContain('neither base64');

    handler = (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end('<html>\n<body>proxy login</body>\n</html>');
    };
    expect((await caught(embedder().embed(['text-1']))).message).toContain('not JSON: <html> <body>proxy login');
  });

  it('discovers the length with create() and then sends no dimensions field', async () => {
    handler = (request, response) => sendJson(response, 200, embeddings(request, 'float'));
    const discovered = await OpenAIEmbedder.create({ baseURL, model: 'nomic-embed-text', retryBaseMs: 1 });
    expect(discovered.dims).toBe(3);
    expect(discovered.id).toBe('openai:nomic-embed-text');
    expect(requests).toHaveLength(1);
    await discovered.embed(['text-5']);
    expect(requests[1]?.body.dimensions).toBeUndefined();

    const given = await OpenAIEmbedder.create({ baseURL, apiKey, dimensions: 3 });
    expect(requests).toHaveLength(2);
    expect(given.id).toBe('openai:text-embedding-3-small:3');
  });

  it('keeps the base URL and key out of the id and of inspection', () => {
    const subject = embedder();
    expect(subject.id).toBe('openai:test-model:3');
    expect(JSON.stringify(subject)).not.toContain(apiKey);
  });

  it('refuses a missing dimensions or invalid options', () => {
    expect(() => new OpenAIEmbedder({ baseURL } as unknown as ConstructorParameters<typeof OpenAIEmbedder>[0])).toThrow(
      InputError,
    );
    expect(() => embedder({ batchSize: 0 })).toThrow(InputError);
    expect(() => embedder({ baseURL: 'not a url' })).toThrow(InputError);
  });
});
