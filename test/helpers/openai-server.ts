import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A real OpenAI-compatible HTTP server on 127.0.0.1 for tests: it speaks just enough of `/v1/chat/completions`
 * (streaming and not) and `/v1/embeddings` for `@langchain/openai` and the `openai` SDK to run end to end offline.
 *
 * @example
 * const server = await startOpenAIServer();
 * afterEach(() => server.close());
 * server.respond({ toolCalls: [{ name: 'remember', arguments: { fact: 'likes tea' } }] }, { text: 'Noted.' });
 * const model = new ChatOpenAI({ model: 'test-model', apiKey: 'sk-test', configuration: { baseURL: server.baseURL } });
 */

/** The JSON body of a request, loosely typed: the fields tests look at most, anything else as `unknown`. */
export interface RequestBody {
  readonly model?: string;
  readonly messages?: ReadonlyArray<{
    role: string;
    content?: unknown;
    tool_calls?: unknown;
    tool_call_id?: string;
    [key: string]: unknown;
  }>;
  readonly stream?: boolean;
  readonly stream_options?: { include_usage?: boolean };
  readonly tools?: ReadonlyArray<{
    type: string;
    function?: { name: string; description?: string; parameters?: unknown; strict?: boolean };
  }>;
  readonly tool_choice?: unknown;
  readonly response_format?: { type: string; json_schema?: { name: string; schema?: unknown; strict?: boolean } };
  readonly input?: unknown;
  readonly encoding_format?: string;
  readonly dimensions?: number;
  readonly [key: string]: unknown;
}

/** One request as the server received it, recorded before it is answered. */
export interface RecordedRequest {
  readonly method: string;
  /** Path without the query string, e.g. `/v1/chat/completions`. */
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** Parsed JSON body; `{}` when the body was empty or not JSON. */
  readonly body: RequestBody;
}

/** A tool call the scripted assistant makes. */
export interface ScriptedToolCall {
  readonly name: string;
  /** Serialised as JSON; a string is sent verbatim, so malformed JSON can be scripted. */
  readonly arguments: Record<string, unknown> | string;
  /** @default `call_<n>`, unique per server */
  readonly id?: string;
}

/** Token counts to report instead of the word-count estimate. */
export interface ScriptedUsage {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
}

/** A fixed answer to one chat completion request. */
export type StaticReply =
  /** Assistant text, streamed in a few chunks when the request streams. */
  | {
      readonly text: string;
      readonly finishReason?: 'stop' | 'length' | 'content_filter';
      readonly usage?: ScriptedUsage;
    }
  /** Assistant tool calls, optionally with text before them. */
  | { readonly toolCalls: readonly ScriptedToolCall[]; readonly text?: string; readonly usage?: ScriptedUsage }
  /** An HTTP error; `body` defaults to an OpenAI-shaped `{ error: { message, type, code } }`. */
  | { readonly status: number; readonly body?: unknown; readonly headers?: Readonly<Record<string, string>> }
  /** Content sent verbatim as the assistant text, in one piece: garbage where JSON was expected, and the like. */
  | { readonly raw: string }
  /** A server that hangs mid-answer: the headers and this text (streamed) or half a body (not), then nothing more. */
  | { readonly stallAfter: string };

/** A fixed reply, or a function of the request that picks one (may be async, e.g. to delay an answer). */
export type ScriptedReply = StaticReply | ((request: RecordedRequest) => StaticReply | Promise<StaticReply>);

/** Options for {@link startOpenAIServer}. */
export interface OpenAIServerOptions {
  /**
   * Answers chat completion requests once the queue filled by `respond` is empty.
   * @default echoes the last user message as `echo: <text>`
   */
  readonly fallback?: ScriptedReply;
  /**
   * Length of the deterministic embedding vectors; a request's `dimensions` field overrides it.
   * @default 16
   */
  readonly embeddingDims?: number;
  /** Answer every chat request with one plain JSON completion, even one that asks to stream, as some servers do. */
  readonly ignoresStreaming?: boolean;
}

/** A running server; see {@link startOpenAIServer}. */
export interface OpenAIServer {
  /** Base URL for the client, e.g. `http://127.0.0.1:PORT/v1`. */
  readonly baseURL: string;
  /** Every request received, in order, embeddings included. */
  readonly requests: RecordedRequest[];
  /** Only the `/v1/chat/completions` requests, in order. */
  chatRequests(): RecordedRequest[];
  /** Queues replies; each chat completion request takes the next one. */
  respond(...replies: ScriptedReply[]): void;
  /** How many queued replies no request has taken yet. */
  pendingReplies(): number;
  /** Stops listening and drops open connections, keep-alive ones included; later calls return the same promise. */
  close(): Promise<void>;
}

/** Starts a server on an ephemeral port of 127.0.0.1. A fresh server per test also means a fresh port, so no
 * client reuses a keep-alive socket that an earlier test's `close` cut. */
export async function startOpenAIServer(options: OpenAIServerOptions = {}): Promise<OpenAIServer> {
  const requests: RecordedRequest[] = [];
  const queue: ScriptedReply[] = [];
  const fallback = options.fallback ?? echoLastUserMessage;
  const embeddingDims = options.embeddingDims ?? 16;
  let toolCallSequence = 0;
  const nextToolCallId = (): string => `call_${++toolCallSequence}`;

  const server = createServer((request, response) => {
    void readBody(request)
      .then(async (text) => {
        const recorded: RecordedRequest = {
          method: request.method ?? 'GET',
          path: (request.url ?? '/').split('?')[0] ?? '/',
          headers: request.headers,
          body: parseJsonObject(text),
        };
        requests.push(recorded);
        if (recorded.method === 'POST' && recorded.path === '/v1/chat/completions') {
          const scripted = queue.shift() ?? fallback;
          const reply = typeof scripted === 'function' ? await scripted(recorded) : scripted;
          answerChat(
            response,
            options.ignoresStreaming ? { ...recorded.body, stream: false } : recorded.body,
            reply,
            nextToolCallId,
          );
        } else if (recorded.method === 'POST' && recorded.path === '/v1/embeddings') {
          answerEmbeddings(response, recorded.body, embeddingDims);
        } else {
          sendJson(response, 404, {
            error: {
              message: `No route for ${recorded.method} ${recorded.path}`,
              type: 'invalid_request_error',
              code: null,
            },
          });
        }
      })
      .catch((error: unknown) => {
        // A throwing scripted function is a bug in the test: surface it to the client as a 500 it can report.
        if (!response.headersSent)
          sendJson(response, 500, { error: { message: String(error), type: 'server_error', code: null } });
        else response.destroy();
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;

  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    chatRequests: () => requests.filter((request) => request.path === '/v1/chat/completions'),
    respond: (...replies) => void queue.push(...replies),
    pendingReplies: () => queue.length,
    close: () => {
      // Idempotent, so a test may close early and still leave the afterEach hook in place.
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** The default fallback: `echo: ` and the text of the last user message. */
export function echoLastUserMessage(request: RecordedRequest): StaticReply {
  const lastUser = [...(request.body.messages ?? [])].reverse().find((message) => message.role === 'user');
  return { text: `echo: ${contentText(lastUser?.content)}` };
}

/** The text of a chat message's content, whether a string or an array of parts. */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part: unknown) =>
      typeof part === 'object' && part !== null && 'text' in part && typeof part.text === 'string' ? part.text : '',
    )
    .join('');
}

/**
 * The server's embedding of `text`: lower-cased words hashed (FNV-1a) into `dims` buckets, L2-normalised.
 * Texts sharing words are close; a text without words maps to the first axis so every vector has unit length.
 */
export function embedText(text: string, dims: number): number[] {
  const vector = new Array<number>(dims).fill(0);
  for (const word of words(text)) {
    const bucket = fnv1a(word) % dims;
    vector[bucket] = (vector[bucket] ?? 0) + 1;
  }
  const norm = Math.hypot(...vector);
  if (norm === 0) return vector.map((_, index) => (index === 0 ? 1 : 0));
  return vector.map((value) => value / norm);
}

let completionSequence = 0;

/** Unique across every server in the process: LangGraph merges messages by id, so a repeat would overwrite one. */
function nextCompletionId(): string {
  return `chatcmpl-test-${++completionSequence}`;
}

function answerChat(
  response: ServerResponse,
  body: RequestBody,
  reply: StaticReply,
  nextToolCallId: () => string,
): void {
  if ('status' in reply) {
    const errorBody = reply.body ?? {
      error: { message: `Scripted error ${reply.status}`, type: 'server_error', code: null },
    };
    // retry-after-ms is honoured by the openai SDK's own retries (LangChain turns those off and uses its own backoff).
    sendJson(response, reply.status, errorBody, { 'retry-after-ms': '1', ...reply.headers });
    return;
  }
  const id = nextCompletionId();
  const created = Math.floor(Date.now() / 1000);
  const model = body.model ?? 'test-model';
  if ('stallAfter' in reply) {
    response.writeHead(200, { 'content-type': body.stream === true ? 'text/event-stream' : 'application/json' });
    const delta = {
      index: 0,
      delta: { role: 'assistant', content: reply.stallAfter },
      logprobs: null,
      finish_reason: null,
    };
    response.write(
      body.stream === true
        ? `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [delta] })}\n\n`
        : `{"id":"${id}","choices":[`,
    );
    return;
  }
  const text = 'raw' in reply ? reply.raw : reply.text;
  const toolCalls =
    'toolCalls' in reply
      ? reply.toolCalls.map((call) => ({
          id: call.id ?? nextToolCallId(),
          name: call.name,
          arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments),
        }))
      : [];
  const finishReason =
    toolCalls.length > 0
      ? 'tool_calls'
      : 'text' in reply && 'finishReason' in reply
        ? (reply.finishReason ?? 'stop')
        : 'stop';
  const completionText = (text ?? '') + toolCalls.map((call) => `${call.name} ${call.arguments}`).join(' ');
  const promptText = (body.messages ?? []).map((message) => contentText(message.content)).join(' ');
  const promptTokens = 'usage' in reply && reply.usage ? reply.usage.prompt_tokens : words(promptText).length;
  const completionTokens =
    'usage' in reply && reply.usage ? reply.usage.completion_tokens : words(completionText).length;
  const usage = {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };

  if (body.stream !== true) {
    const message = {
      role: 'assistant',
      content: text ?? null,
      refusal: null,
      ...(toolCalls.length > 0 && {
        tool_calls: toolCalls.map((call) => ({
          id: call.id,
          type: 'function',
          function: { name: call.name, arguments: call.arguments },
        })),
      }),
    };
    sendJson(response, 200, {
      id,
      object: 'chat.completion',
      created,
      model,
      choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason }],
      usage,
    });
    return;
  }

  const includeUsage = body.stream_options?.include_usage === true;
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}): string =>
    `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices, ...(includeUsage && { usage: null }), ...extra })}\n\n`;
  const delta = (fields: Record<string, unknown>, finish: string | null = null): unknown => ({
    index: 0,
    delta: fields,
    logprobs: null,
    finish_reason: finish,
  });

  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  // The first delta carries the role: LangChain builds an AIMessageChunk only for role 'assistant'.
  response.write(chunk([delta({ role: 'assistant', content: '', refusal: null })]));
  const pieces = text === undefined ? [] : 'raw' in reply ? [text] : splitIntoPieces(text, 3);
  for (const piece of pieces) response.write(chunk([delta({ content: piece })]));
  toolCalls.forEach((call, index) => {
    // As OpenAI does: id and name first, then the arguments in fragments the client must concatenate.
    response.write(
      chunk([
        delta({ tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }] }),
      ]),
    );
    const middle = Math.ceil(call.arguments.length / 2);
    for (const fragment of [call.arguments.slice(0, middle), call.arguments.slice(middle)]) {
      if (fragment) response.write(chunk([delta({ tool_calls: [{ index, function: { arguments: fragment } }] })]));
    }
  });
  response.write(chunk([delta({}, finishReason)]));
  if (includeUsage) response.write(chunk([], { usage }));
  response.end('data: [DONE]\n\n');
}

function answerEmbeddings(response: ServerResponse, body: RequestBody, defaultDims: number): void {
  const inputs =
    Array.isArray(body.input) && body.input.every((item) => typeof item === 'string')
      ? (body.input as string[])
      : [String(body.input ?? '')];
  const dims =
    typeof body.dimensions === 'number' && Number.isInteger(body.dimensions) && body.dimensions > 0
      ? body.dimensions
      : defaultDims;
  const data = inputs.map((input, index) => {
    const vector = embedText(input, dims);
    return {
      object: 'embedding',
      index,
      embedding: body.encoding_format === 'base64' ? float32Base64(vector) : vector,
    };
  });
  const tokens = inputs.reduce((total, input) => total + words(input).length, 0);
  sendJson(response, 200, {
    object: 'list',
    data,
    model: body.model ?? 'test-embedding',
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  });
}

/** Little-endian float32 bytes, base64-encoded: what the OpenAI API returns for `encoding_format: 'base64'`. */
function float32Base64(vector: readonly number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  for (const [index, value] of vector.entries()) bytes.writeFloatLE(value, index * 4);
  return bytes.toString('base64');
}

/** Splits text at word boundaries into at most `count` pieces that concatenate back to it. */
function splitIntoPieces(text: string, count: number): string[] {
  const tokens = text.match(/\s*\S+\s*/g);
  if (!tokens || tokens.length === 0) return [text];
  const size = Math.ceil(tokens.length / count);
  const pieces: string[] = [];
  for (let start = 0; start < tokens.length; start += size) pieces.push(tokens.slice(start, start + size).join(''));
  return pieces;
}

function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function parseJsonObject(text: string): RequestBody {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as RequestBody) : {};
  } catch {
    return {};
  }
}

function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}
