import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { HTTPModuleFunctions, verifySlackRequest } from '@slack/bolt';
import { EVENTS_PATH } from './manifest.js';
import type { SlackLogger } from './types.js';

/**
 * Largest request body read, in bytes (1 MiB). Slack's own payloads stay far below it: a message's text is at most
 * 40,000 characters, and the largest payload, a block action, carries one message of at most 50 blocks. Bolt's
 * default is 4 MB.
 */
export const BODY_LIMIT_BYTES = 1024 * 1024;

/** How far a request's `x-slack-request-timestamp` may be from the local clock. */
const MAX_CLOCK_SKEW_SECONDS = 5 * 60;

/** Options of {@link guardRequests}. */
export interface RequestGuardOptions {
  /** The app's signing secret, checked against `x-slack-signature`. */
  readonly signingSecret: string;
  /** Where refused requests are logged (at warn; nothing from the body is logged). */
  readonly logger: SlackLogger;
  /** Largest body read, in bytes. @default BODY_LIMIT_BYTES */
  readonly bodyLimit?: number;
}

/**
 * Wraps Bolt's HTTP request listener so that only a signed, well-formed Slack payload reaches it. Bolt 5.1 itself
 * answers a body that is not JSON with 400, but a signed body of valid JSON that is not an object (`null`, or a
 * form whose `payload` is `null`) throws inside its unawaited request handler: an unhandled rejection, which ends
 * a Node process. Numbers, arrays and objects it cannot route hang for three seconds and then get a 404.
 *
 * Here every POST to the events path is read (bounded), its signature checked (401), and its body parsed exactly
 * as Bolt will parse it and required to be a Slack payload (400). Bolt then finds the body already read
 * (`rawBody`), checks the signature again and routes it. Other paths go to Bolt untouched.
 */
export function guardRequests(next: RequestListener, options: RequestGuardOptions): RequestListener {
  const { signingSecret, logger, bodyLimit = BODY_LIMIT_BYTES } = options;
  const refuse = (response: ServerResponse, status: number, reason: string): void => {
    logger.warn(`mnemo slack: refused a request (${status}): ${reason}`);
    if (!response.headersSent) response.writeHead(status);
    response.end();
  };
  const guard = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const rawBody = await readBody(request, bodyLimit);
    if (!rawBody) {
      // The rest of the body is never read, so the connection cannot carry another request: close it rather than
      // leave the client stalled mid-upload until the server's timeouts end it.
      response.setHeader('connection', 'close');
      response.on('finish', () => request.destroy());
      return refuse(response, 413, `the body is over ${bodyLimit} bytes`);
    }
    const text = rawBody.toString('utf8');
    const form = request.headers['content-type'] === 'application/x-www-form-urlencoded';
    // Slack's ssl_check is unsigned; Bolt answers it and drops anything else the body carries.
    if (form && new URLSearchParams(text).get('ssl_check') === '1') return pass(request, response, rawBody, next);
    const unsigned = signatureProblem(request, text, signingSecret);
    if (unsigned) return refuse(response, 401, unsigned);
    let body: unknown;
    try {
      body = HTTPModuleFunctions.parseHTTPRequestBody(Object.assign(request, { rawBody }));
    } catch (error) {
      return refuse(response, 400, `malformed body: ${(error as Error).message}`);
    }
    const malformed = payloadProblem(body);
    if (malformed) return refuse(response, 400, malformed);
    pass(request, response, rawBody, next);
  };
  return (request, response) => {
    if (request.method !== 'POST' || pathOf(request) !== EVENTS_PATH) {
      next(request, response);
      return;
    }
    guard(request, response).catch((error: unknown) => {
      // A client that hangs up mid-body, or a fault of our own: answer if still possible, never throw.
      logger.warn('mnemo slack: could not read a request', error);
      if (!response.headersSent) response.writeHead(400);
      response.end();
    });
  };
}

/** Hands a request whose body is already read to Bolt, which uses `rawBody` instead of reading the stream. */
function pass(request: IncomingMessage, response: ServerResponse, rawBody: Buffer, next: RequestListener): void {
  next(Object.assign(request, { rawBody }), response);
}

function pathOf(request: IncomingMessage): string | undefined {
  try {
    return new URL(request.url ?? '', 'http://localhost').pathname;
  } catch {
    return undefined;
  }
}

/**
 * Reads the body, or resolves `undefined` as soon as it is known to exceed `limit` bytes: at once when the declared
 * `content-length` does, else when the bytes read so far do (the rest is not read). Rejects when the request fails.
 */
function readBody(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  if (Number(request.headers['content-length']) > limit) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        request.off('data', onData);
        request.pause();
        resolve(undefined);
      } else chunks.push(chunk);
    };
    request.on('data', onData);
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
    request.on('aborted', () => reject(new Error('the client aborted the request')));
  });
}

/** Why a request is not signed by Slack with `signingSecret`, or `undefined` when it is. */
function signatureProblem(request: IncomingMessage, body: string, signingSecret: string): string | undefined {
  const signature = request.headers['x-slack-signature'];
  const timestamp = request.headers['x-slack-request-timestamp'];
  if (typeof signature !== 'string' || typeof timestamp !== 'string') return 'missing signature headers';
  // Bolt refuses timestamps over five minutes old only; Slack's advice is five minutes either way, so a signed
  // request cannot be kept and replayed later by stamping it with a time ahead.
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > MAX_CLOCK_SKEW_SECONDS)
    return 'the request timestamp is more than five minutes from now';
  try {
    verifySlackRequest({
      signingSecret,
      body,
      headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': Number(timestamp) },
    });
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Why a parsed body is not something Slack sends, or `undefined`. Every Slack payload is an object with a `type`
 * (events, interactions, url_verification) or a `command` (slash commands); an event envelope's `event` is an
 * object with a `type`.
 */
function payloadProblem(body: unknown): string | undefined {
  if (!isRecord(body))
    return `the body is ${body === null ? 'null' : Array.isArray(body) ? 'an array' : typeof body}, not an object`;
  if ('event' in body) {
    const event = body.event;
    if (!isRecord(event) || typeof event.type !== 'string') return 'the event is not an object with a type';
    return undefined;
  }
  if (typeof body.type !== 'string' && typeof body.command !== 'string')
    return 'the body has neither a type nor a command';
  return undefined;
}
