import { setTimeout as sleep } from 'node:timers/promises';
import { EmbedderError, InputError } from '../errors.js';
import { squeeze } from '../text/squeeze.js';
import type { Embedder, EmbedOptions } from './types.js';

/** Options of {@link OpenAIEmbedder}. */
export interface OpenAIEmbedderOptions {
  /**
   * API root; `/embeddings` is appended. Ollama: `http://localhost:11434/v1`, vLLM: `http://localhost:8000/v1`.
   * @default 'https://api.openai.com/v1'
   */
  baseURL?: string;
  /** Sent as `Authorization: Bearer <apiKey>`; omit for local servers that need none. Never part of `id` or of error messages. */
  apiKey?: string;
  /** @default 'text-embedding-3-small' */
  model?: string;
  /**
   * Vector length, sent to the server as `dimensions` (OpenAI's text-embedding-3 models shorten their vectors to it).
   * The constructor requires it. Omit it and call {@link OpenAIEmbedder.create} to learn the model's own length from one
   * probe request instead — the way to go for servers that reject or ignore `dimensions` (text-embedding-ada-002,
   * most models served by Ollama or vLLM).
   */
  dimensions?: number;
  /** Texts per request; bigger inputs are split into several requests, sent one after another. @default 256 */
  batchSize?: number;
  /** Time limit of one HTTP attempt, including reading the body; a timed-out attempt is retried. @default 60_000 */
  timeoutMs?: number;
  /** Extra attempts after a 408, 409, 429, 5xx, network error or timeout. Other 4xx fail at once. @default 2 */
  maxRetries?: number;
  /** First retry delay; it doubles each attempt, with jitter, unless the server sends Retry-After. @default 500 */
  retryBaseMs?: number;
  /**
   * Longest wait between attempts. A Retry-After longer than this fails the call at once rather than hang.
   * @default 30_000
   */
  retryMaxMs?: number;
  /** The fetch implementation, for proxies and tests. @default globalThis.fetch */
  fetch?: typeof fetch;
}

const defaultBaseURL = 'https://api.openai.com/v1';
const defaultModel = 'text-embedding-3-small';
const probeText = 'dimension probe';
// Set by create() when it discovered the length: the server must then not be sent `dimensions`, and the id omits it.
const discoveredDimensions = Symbol('discoveredDimensions');

type ConstructorOptions = OpenAIEmbedderOptions & { dimensions: number; [discoveredDimensions]?: true };

interface Settings {
  readonly url: string;
  /** The endpoint without credentials or query string, for error messages. */
  readonly displayURL: string;
  readonly apiKey: string | undefined;
  readonly model: string;
  /** The `dimensions` request field, or undefined to send none. */
  readonly requestDimensions: number | undefined;
  readonly batchSize: number;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  readonly fetchFunction: typeof fetch;
}

/**
 * Embeds texts with any OpenAI-compatible `POST {baseURL}/embeddings` endpoint (OpenAI, Ollama, vLLM, LiteLLM...).
 * Uses the global fetch so `memory/` carries no SDK. Vectors are requested as base64 float32 (a quarter of the JSON
 * size), plain number arrays are accepted too, and every vector is L2-normalised.
 *
 * @example
 * const embedder = new OpenAIEmbedder({ apiKey, dimensions: 512 }); // id 'openai:text-embedding-3-small:512'
 * const local = await OpenAIEmbedder.create({ baseURL: 'http://localhost:11434/v1', model: 'nomic-embed-text' });
 */
export class OpenAIEmbedder implements Embedder {
  /** `openai:<model>`, plus `:<dimensions>` when a length was asked of the server. Never the base URL nor the key. */
  readonly id: string;
  readonly dims: number;
  // A private field, not a property, so console.log(embedder) and JSON.stringify never show the API key.
  readonly #settings: Settings;

  /** Needs `dimensions`; use {@link OpenAIEmbedder.create} to discover it instead. Throws InputError on bad options. */
  constructor(options: OpenAIEmbedderOptions & { dimensions: number }) {
    const discovered = (options as ConstructorOptions)[discoveredDimensions] === true;
    const dimensions: unknown = options.dimensions;
    if (typeof dimensions !== 'number' || !Number.isInteger(dimensions) || dimensions <= 0) {
      throw new InputError(
        "OpenAIEmbedder needs `dimensions` (a positive integer); use OpenAIEmbedder.create() to discover the model's vector length",
      );
    }
    this.#settings = resolveSettings(options, discovered ? undefined : dimensions);
    this.dims = dimensions;
    this.id = OpenAIEmbedder.idFor(this.#settings.model, discovered ? undefined : dimensions);
  }

  /** The {@link id} an embedder of `model` gets, known before {@link create} probes the server. */
  static idFor(model: string, dimensions?: number): string {
    return dimensions === undefined ? `openai:${model}` : `openai:${model}:${dimensions}`;
  }

  /**
   * Builds an embedder, discovering the vector length by embedding one probe string when `dimensions` is not given
   * (which also checks the URL, key and model before any real work). With `dimensions` it sends no request.
   */
  static async create(options: OpenAIEmbedderOptions & EmbedOptions = {}): Promise<OpenAIEmbedder> {
    const { signal, ...embedderOptions } = options;
    if (embedderOptions.dimensions !== undefined) {
      return new OpenAIEmbedder({ ...embedderOptions, dimensions: embedderOptions.dimensions });
    }
    const settings = resolveSettings(embedderOptions, undefined);
    const [probe] = await requestVectors(settings, [probeText], signal);
    if (probe === undefined || probe.length === 0) {
      throw new EmbedderError(failureMessage(settings, 'the probe request returned an empty vector'));
    }
    const constructorOptions: ConstructorOptions = {
      ...embedderOptions,
      dimensions: probe.length,
      [discoveredDimensions]: true,
    };
    return new OpenAIEmbedder(constructorOptions);
  }

  async embed(texts: readonly string[], options: EmbedOptions = {}): Promise<Float32Array[]> {
    const settings = this.#settings;
    if (options.signal?.aborted === true) throw abortedError(settings, options.signal.reason);
    const results: Float32Array[] = [];
    for (let start = 0; start < texts.length; start += settings.batchSize) {
      const vectors = await requestVectors(settings, texts.slice(start, start + settings.batchSize), options.signal);
      for (const vector of vectors) {
        if (vector.length !== this.dims) {
          const hint =
            settings.requestDimensions === undefined
              ? 'did the model behind the endpoint change?'
              : 'the server may ignore `dimensions`; omit it and use OpenAIEmbedder.create()';
          throw new EmbedderError(
            failureMessage(settings, `got vectors of length ${vector.length}, expected ${this.dims} (${hint})`),
          );
        }
        results.push(normalise(vector));
      }
    }
    return results;
  }
}

function resolveSettings(options: OpenAIEmbedderOptions, requestDimensions: number | undefined): Settings {
  const model = options.model ?? defaultModel;
  if (model.trim() === '') throw new InputError('OpenAIEmbedder `model` must not be empty');
  let endpoint: URL;
  try {
    endpoint = new URL(options.baseURL ?? defaultBaseURL);
  } catch (error) {
    throw new InputError(`OpenAIEmbedder \`baseURL\` is not a valid URL: ${JSON.stringify(options.baseURL)}`, {
      cause: error,
    });
  }
  // Through URL rather than string concatenation so a query string (Azure's ?api-version=) survives.
  endpoint.pathname = `${endpoint.pathname.replace(/\/+$/, '')}/embeddings`;
  const fetchFunction = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  return {
    url: endpoint.href,
    displayURL: `${endpoint.origin}${endpoint.pathname}`,
    apiKey: options.apiKey === '' ? undefined : options.apiKey,
    model,
    requestDimensions,
    batchSize: checkInteger('batchSize', options.batchSize ?? 256, 1),
    timeoutMs: checkInteger('timeoutMs', options.timeoutMs ?? 60_000, 1),
    maxRetries: checkInteger('maxRetries', options.maxRetries ?? 2, 0),
    retryBaseMs: checkInteger('retryBaseMs', options.retryBaseMs ?? 500, 0),
    retryMaxMs: checkInteger('retryMaxMs', options.retryMaxMs ?? 30_000, 0),
    fetchFunction,
  };
}

function checkInteger(name: string, value: number, minimum: number): number {
  if (!Number.isInteger(value) || value < minimum) {
    throw new InputError(`OpenAIEmbedder \`${name}\` must be an integer >= ${minimum}, got ${value}`);
  }
  return value;
}

/** What one HTTP attempt produced: vectors, or a failure that may be worth another attempt. */
type AttemptOutcome =
  | { readonly vectors: Float32Array[] }
  | {
      readonly failure: string;
      readonly retryable: boolean;
      readonly retryAfterMs?: number | undefined;
      readonly cause?: unknown;
    };

/** Raw (not yet normalised) vectors of one batch, in input order, retrying transient failures. */
async function requestVectors(
  settings: Settings,
  texts: readonly string[],
  signal: AbortSignal | undefined,
): Promise<Float32Array[]> {
  const body = JSON.stringify({
    model: settings.model,
    input: texts,
    encoding_format: 'base64',
    ...(settings.requestDimensions === undefined ? {} : { dimensions: settings.requestDimensions }),
  });
  for (let attempt = 1; ; attempt += 1) {
    const outcome = await attemptRequest(settings, body, texts.length, signal);
    if ('vectors' in outcome) return outcome.vectors;
    const attempts = attempt > 1 ? ` (after ${attempt} attempts)` : '';
    if (!outcome.retryable || attempt > settings.maxRetries) {
      throw new EmbedderError(failureMessage(settings, `${outcome.failure}${attempts}`), { cause: outcome.cause });
    }
    if (outcome.retryAfterMs !== undefined && outcome.retryAfterMs > settings.retryMaxMs) {
      const wait = `server asked to retry after ${Math.ceil(outcome.retryAfterMs / 1000)} s, more than retryMaxMs`;
      throw new EmbedderError(failureMessage(settings, `${outcome.failure}; ${wait}${attempts}`), {
        cause: outcome.cause,
      });
    }
    try {
      await sleep(
        outcome.retryAfterMs ?? backoffMs(settings, attempt),
        undefined,
        signal === undefined ? {} : { signal },
      );
    } catch (error) {
      throw abortedError(settings, signal?.reason ?? error);
    }
  }
}

async function attemptRequest(
  settings: Settings,
  body: string,
  expectedCount: number,
  signal: AbortSignal | undefined,
): Promise<AttemptOutcome> {
  if (signal?.aborted === true) throw abortedError(settings, signal.reason);
  // One controller fed by the caller's signal and a timer, both detached afterwards: AbortSignal.any() leaks
  // listeners on Node 20 when a long-lived signal is combined many times.
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, settings.timeoutMs);
  let callerAborted = false;
  const onAbort = (): void => {
    callerAborted = true;
    controller.abort();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (settings.apiKey !== undefined) headers.authorization = `Bearer ${settings.apiKey}`;
  let response: Response;
  let text: string;
  try {
    response = await settings.fetchFunction(settings.url, { method: 'POST', headers, body, signal: controller.signal });
    text = await response.text();
  } catch (error) {
    if (callerAborted) throw abortedError(settings, signal?.reason);
    if (timedOut) return { failure: `timed out after ${settings.timeoutMs} ms`, retryable: true, cause: error };
    return { failure: `network error: ${describeNetworkError(error)}`, retryable: true, cause: error };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
  if (!response.ok) {
    const status = `HTTP ${response.status}${response.statusText === '' ? '' : ` ${response.statusText}`}`;
    const serverMessage = extractServerMessage(text);
    return {
      failure: serverMessage === '' ? status : `${status}: ${serverMessage}`,
      retryable:
        response.status === 408 || response.status === 409 || response.status === 429 || response.status >= 500,
      retryAfterMs: parseRetryAfter(response.headers),
    };
  }
  const parsed = parseResponse(text, expectedCount);
  return typeof parsed === 'string' ? { failure: parsed, retryable: false } : { vectors: parsed };
}

/** The vectors of a 200 response sorted by `index`, or a description of what is wrong with it. */
function parseResponse(text: string, expectedCount: number): Float32Array[] | string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return `response is not JSON: ${squeeze(text, 300)}`;
  }
  const data = isRecord(json) ? json.data : undefined;
  if (!Array.isArray(data)) return 'response has no `data` array';
  if (data.length !== expectedCount) return `got ${data.length} vectors for ${expectedCount} inputs`;
  const items = data as unknown[];
  // Some servers leave `index` out; their array order is then the only order there is.
  const indexed = items.every((item) => isRecord(item) && item.index !== undefined);
  const vectors = new Array<Float32Array | undefined>(expectedCount);
  for (const [position, item] of items.entries()) {
    if (!isRecord(item)) return `data[${position}] is not an object`;
    const index = indexed ? item.index : position;
    if (
      typeof index !== 'number' ||
      !Number.isInteger(index) ||
      index < 0 ||
      index >= expectedCount ||
      vectors[index] !== undefined
    ) {
      return `data[${position}] has a missing, duplicate or out-of-range index ${JSON.stringify(index)}`;
    }
    const vector = decodeEmbedding(item.embedding);
    if (vector === undefined)
      return `data[${position}].embedding is neither base64 float32 nor an array of finite numbers`;
    vectors[index] = vector;
  }
  return vectors as Float32Array[];
}

function decodeEmbedding(embedding: unknown): Float32Array | undefined {
  if (typeof embedding === 'string') {
    const bytes = Buffer.from(embedding, 'base64');
    if (bytes.byteLength === 0 || bytes.byteLength % 4 !== 0) return undefined;
    // DataView reads little-endian whatever the host's byte order, as the wire format is little-endian.
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const vector = new Float32Array(bytes.byteLength / 4);
    for (let index = 0; index < vector.length; index += 1) vector[index] = view.getFloat32(index * 4, true);
    return vector.every(Number.isFinite) ? vector : undefined;
  }
  if (
    Array.isArray(embedding) &&
    embedding.length > 0 &&
    embedding.every((value) => typeof value === 'number' && Number.isFinite(value))
  ) {
    return Float32Array.from(embedding as number[]);
  }
  return undefined;
}

/** Scales to unit length in place. An all-zero vector has no direction and stays zero. */
function normalise(vector: Float32Array): Float32Array {
  let sumOfSquares = 0;
  for (const value of vector) sumOfSquares += value * value;
  if (sumOfSquares === 0) return vector;
  const scale = 1 / Math.sqrt(sumOfSquares);
  for (let index = 0; index < vector.length; index += 1) vector[index] = (vector[index] ?? 0) * scale;
  return vector;
}

function backoffMs(settings: Settings, attempt: number): number {
  const exponential = Math.min(settings.retryMaxMs, settings.retryBaseMs * 2 ** (attempt - 1));
  // Jitter spreads out clients that failed together so they do not retry in lockstep.
  return Math.round(exponential * (0.5 + Math.random() * 0.5));
}

/** Milliseconds from `retry-after-ms` (OpenAI's) or `Retry-After` (seconds or an HTTP date); undefined when absent. */
function parseRetryAfter(headers: Headers): number | undefined {
  const milliseconds = headers.get('retry-after-ms');
  if (milliseconds !== null && milliseconds.trim() !== '' && Number(milliseconds) >= 0) return Number(milliseconds);
  const value = headers.get('retry-after');
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** The human part of an error body: OpenAI's `{error:{message}}`, Ollama's `{error}`, vLLM's `{message}` or FastAPI's `{detail}`. */
function extractServerMessage(text: string): string {
  try {
    const json: unknown = JSON.parse(text);
    if (isRecord(json)) {
      const error = json.error;
      const candidates = [isRecord(error) ? error.message : error, json.message, json.detail];
      const found = candidates.find((candidate) => typeof candidate === 'string' && candidate.trim() !== '');
      if (typeof found === 'string') return squeeze(found, 300);
    }
  } catch {
    // Not JSON (a proxy's HTML page, plain text): show its start.
  }
  return squeeze(text, 300);
}

function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // undici reports every failure as "fetch failed" and hides the reason (ECONNREFUSED, ENOTFOUND...) in `cause`.
  const cause: unknown = error.cause;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return `${error.message} (${typeof code === 'string' ? code : cause.message})`;
  }
  return error.message;
}

function failureMessage(settings: Settings, detail: string): string {
  const message = squeeze(
    `Embedding request to ${settings.displayURL} (model ${settings.model}) failed: ${detail}`,
    600,
  );
  return redact(settings, message);
}

function abortedError(settings: Settings, reason: unknown): EmbedderError {
  return new EmbedderError(`Embedding request to ${settings.displayURL} was aborted`, {
    code: 'aborted',
    cause: reason,
  });
}

// Servers sometimes echo the key they rejected; a message must never carry it into logs.
function redact(settings: Settings, message: string): string {
  return settings.apiKey === undefined ? message : message.split(settings.apiKey).join('[redacted]');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
