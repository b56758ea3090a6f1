import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type App, LogLevel } from '@slack/bolt';
import type Database from 'better-sqlite3';
import { checkBotToken, createSlackApp } from '../../src/adapters/slack/app.js';
import { DeliveryLedger } from '../../src/adapters/slack/dedupe.js';
import { PLACEHOLDER } from '../../src/adapters/slack/turn.js';
import type { SlackDependencies } from '../../src/adapters/slack/types.js';
import type { TurnOptions } from '../../src/agent.js';
import type { AgentEvent } from '../../src/events.js';

export const SIGNING_SECRET = 'test-signing-secret';
export const BOT_USER = 'UBOT';
export const TEAM = 'T1';

/** One Web API call the bot made: the method and its arguments (blocks parsed back from JSON). */
export interface WebApiCall {
  readonly method: string;
  readonly args: Record<string, unknown>;
  readonly token: string | undefined;
  /** What the stub answered. */
  readonly answer: Record<string, unknown>;
  /** When the stub received the call (ms since the epoch). */
  readonly at: number;
}

/** A loopback stand-in for https://slack.com/api/: records every call and answers `ok`. */
export interface WebApiStub {
  readonly url: string;
  readonly calls: WebApiCall[];
  callsTo(method: string): WebApiCall[];
  /** Resolves once `count` calls to `method` were made (fails after two seconds). */
  waitFor(method: string, count?: number): Promise<WebApiCall[]>;
  /**
   * The finished replies, in the order they were finished: a chat.postMessage that is not a placeholder, or the
   * final chat.update of a placeholder (the one that sets blocks), merged over its post (so `thread_ts` is kept).
   * Later updates of a finished reply (a rating) are not replies. Resolves once `count` exist.
   */
  waitForReplies(count?: number, timeoutMs?: number): Promise<WebApiCall[]>;
  /** The stub's replies so far (see {@link waitForReplies}). */
  replies(): WebApiCall[];
  /** The next call to `method` answers `{ ok: false, error }`. */
  failNext(method: string, error?: string): void;
  /** From now on every call is recorded and answered HTTP 503, which the WebClient retries. */
  breakDown(): void;
  close(): Promise<void>;
}

/** `answers` adds or overrides the answer of a method (merged into `{ ok: true }`). */
export async function startWebApiStub(answers: Record<string, Record<string, unknown>> = {}): Promise<WebApiStub> {
  const calls: WebApiCall[] = [];
  let messages = 0;
  const failing = new Map<string, string>();
  let broken = false;
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      const method = (request.url ?? '').replace(/^\/api\//, '').split('?')[0]!;
      const args: Record<string, unknown> = {};
      if ((request.headers['content-type'] ?? '').includes('application/json'))
        Object.assign(args, JSON.parse(body || '{}'));
      else
        for (const [key, value] of new URLSearchParams(body)) args[key] = key === 'blocks' ? JSON.parse(value) : value;
      const failure = failing.get(method);
      failing.delete(method);
      const answer: Record<string, unknown> = broken
        ? { ok: false, error: 'service_unavailable' }
        : failure !== undefined
          ? { ok: false, error: failure }
          : method === 'auth.test'
            ? {
                ok: true,
                url: 'https://test.slack.com/',
                team: 'Test',
                user: 'mnemo',
                team_id: TEAM,
                user_id: BOT_USER,
                bot_id: 'BBOT',
                ...answers[method],
              }
            : method === 'chat.postMessage'
              ? {
                  ok: true,
                  channel: args.channel,
                  ts: `1800000000.${String(++messages).padStart(6, '0')}`,
                  message: { text: args.text },
                }
              : { ok: true, ...answers[method] };
      calls.push({
        method,
        args,
        token: request.headers.authorization?.replace(/^Bearer /, ''),
        answer,
        at: Date.now(),
      });
      response.writeHead(broken ? 503 : 200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const callsTo = (method: string) => calls.filter((call) => call.method === method);
  const replies = (): WebApiCall[] => {
    const placeholders = new Map<string, WebApiCall>();
    const finished: WebApiCall[] = [];
    for (const call of calls) {
      if (call.answer.ok !== true) continue;
      if (call.method === 'chat.postMessage') {
        if (call.args.text === PLACEHOLDER) placeholders.set(String(call.answer.ts), call);
        else finished.push(call);
      } else if (call.method === 'chat.update' && 'blocks' in call.args) {
        const placeholder = placeholders.get(String(call.args.ts));
        if (!placeholder) continue;
        placeholders.delete(String(call.args.ts));
        finished.push({ ...call, args: { ...placeholder.args, ...call.args } });
      }
    }
    return finished;
  };
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`,
    calls,
    callsTo,
    async waitFor(method, count = 1) {
      const deadline = Date.now() + 2000;
      while (callsTo(method).length < count) {
        if (Date.now() > deadline)
          throw new Error(
            `expected ${count} ${method} call(s), saw ${callsTo(method).length}: ${JSON.stringify(calls.map((call) => call.method))}`,
          );
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return callsTo(method);
    },
    replies,
    async waitForReplies(count = 1, timeoutMs = 4000) {
      const deadline = Date.now() + timeoutMs;
      while (replies().length < count) {
        if (Date.now() > deadline)
          throw new Error(
            `expected ${count} repl(ies), saw ${replies().length}: ${JSON.stringify(calls.map((call) => [call.method, call.args.text]))}`,
          );
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return replies();
    },
    failNext(method, error = 'internal_error') {
      failing.set(method, error);
    },
    breakDown() {
      broken = true;
    },
    close: () => closeServer(server),
  };
}

/** A running loopback Bolt app (HTTP receiver on 127.0.0.1, random port) talking to a Web API stub. */
export interface LoopbackSlack {
  readonly app: App;
  readonly api: WebApiStub;
  /** The app's base URL, `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** The HTTP server Bolt's receiver started. */
  readonly server: Server;
  /** POSTs a body to /slack/events, signed unless told otherwise. */
  send(body: string, options?: SendOptions): Promise<{ status: number; text: string }>;
  close(): Promise<void>;
}

export interface SendOptions {
  /** @default 'application/json' */
  contentType?: string;
  /** Seconds since the epoch for x-slack-request-timestamp. @default now */
  timestamp?: number;
  /** The secret the signature is made with. @default SIGNING_SECRET */
  secret?: string;
  /** More headers, e.g. `x-slack-retry-num`. */
  headers?: Record<string, string>;
  /** How long to wait for the answer before failing: a request the app never answers fails the test. @default 5000 */
  timeoutMs?: number;
}

/** Options of {@link startLoopbackSlack}. */
export interface LoopbackOptions {
  /** Where deliveries are claimed (the app's default otherwise: a private in-memory database). */
  database?: Database.Database;
  /** A Web API stub to share with another app (not closed by `close()`). @default a new stub */
  api?: WebApiStub;
}

export async function startLoopbackSlack(
  dependencies: SlackDependencies,
  options: LoopbackOptions = {},
): Promise<LoopbackSlack> {
  const api = options.api ?? (await startWebApiStub());
  // As `mnemo slack` starts: the token is checked first, and the app is given the bot's ids.
  const identity = await checkBotToken({ botToken: 'xoxb-test', slackApiUrl: api.url });
  if (!identity.ok) throw new Error(`the stub refused the token: ${identity.reason}`);
  const app = createSlackApp({
    connection: { mode: 'http', signingSecret: SIGNING_SECRET },
    botToken: 'xoxb-test',
    identity,
    slackApiUrl: api.url,
    logLevel: LogLevel.ERROR,
    ...(options.database ? { deliveries: new DeliveryLedger(options.database) } : {}),
    ...dependencies,
  });
  const server = (await app.start({ port: 0, host: '127.0.0.1' })) as Server;
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    app,
    api,
    url: base,
    server,
    send: (body, options) => sendSigned(base, body, options),
    async close() {
      await app.stop();
      if (!options.api) await api.close();
    },
  };
}

/** POSTs a body to `base`/slack/events as Slack does, signed unless told otherwise. */
export async function sendSigned(
  base: string,
  body: string,
  options: SendOptions = {},
): Promise<{ status: number; text: string }> {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const signature = `v0=${createHmac('sha256', options.secret ?? SIGNING_SECRET)
    .update(`v0:${timestamp}:${body}`)
    .digest('hex')}`;
  const response = await fetch(`${base}/slack/events`, {
    method: 'POST',
    headers: {
      'content-type': options.contentType ?? 'application/json',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': signature,
      ...options.headers,
    },
    body,
    signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
  });
  return { status: response.status, text: await response.text() };
}

let events = 0;
/** An Events API envelope around one event. */
export function eventBody(event: Record<string, unknown>): string {
  return JSON.stringify({
    token: 'legacy',
    team_id: TEAM,
    api_app_id: 'A1',
    type: 'event_callback',
    event_id: `Ev${++events}`,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [{ team_id: TEAM, user_id: BOT_USER, is_bot: true, is_enterprise_install: false }],
    event: { event_ts: event.ts, team: TEAM, ...event },
  });
}

/** A direct message from `user`. */
export const directMessage = (user: string, text: string, ts: string, extra: Record<string, unknown> = {}) =>
  eventBody({ type: 'message', channel: 'D1', channel_type: 'im', user, text, ts, ...extra });

/** `@mnemo text` from `user` in channel C1. */
export const mention = (user: string, text: string, ts: string, extra: Record<string, unknown> = {}) =>
  eventBody({ type: 'app_mention', channel: 'C1', user, text: `<@${BOT_USER}> ${text}`, ts, ...extra });

/** A form-encoded interactive payload (what Slack posts for a button click). */
export const interactionBody = (payload: Record<string, unknown>): string =>
  new URLSearchParams({ payload: JSON.stringify(payload) }).toString();

/**
 * A scripted agent: records each turn and yields what `script` returns (or throws what it throws); with
 * `delayMs`, it waits that long before each event, as a model streaming its reply does.
 */
export function scriptedAgent(
  script: (input: string, options: TurnOptions) => AgentEvent[],
  timing: { delayMs?: number } = {},
) {
  const turns: Array<{ input: string; options: TurnOptions }> = [];
  return {
    turns,
    async *stream(input: string, options: TurnOptions): AsyncGenerator<AgentEvent> {
      turns.push({ input, options });
      for (const event of script(input, options)) {
        if (timing.delayMs) await new Promise((resolve) => setTimeout(resolve, timing.delayMs));
        yield event;
      }
    },
  };
}

/** The events of a turn that answered `reply`. */
export function replyEvents(reply: string, threadId = 't'): AgentEvent[] {
  return [
    ...reply.split(/(?<= )/).map((text): AgentEvent => ({ type: 'text-delta', text })),
    {
      type: 'turn-end',
      threadId,
      reply,
      latencyMs: { recall: 0, model: 0, tools: 0, writeBack: 0, total: 0 },
      usage: { input: 0, output: 0 },
      counts: { recalled: 0, written: 0, toolCalls: 0 },
    },
  ];
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
}
