import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeEmbedder, userScope } from '../../memory/index.js';
import { SqliteMemoryStore } from '../../memory/sqlite/store.js';
import { STORAGE_MODULES } from '../../src/storage.js';
import { FULL_FAULTS } from '../helpers/faults.js';
import {
  directMessage,
  type LoopbackSlack,
  replyEvents,
  type SendOptions,
  scriptedAgent,
  startLoopbackSlack,
  startWebApiStub,
  TEAM,
  type WebApiStub,
} from '../slack/loopback.js';

/**
 * A hostile Slack: the real app in HTTP mode on 127.0.0.1 (Bolt's receiver behind mnemo's guard, the delivery ledger
 * in a SQLite file shared with the memory store, as `mnemo slack` runs it) and a stub Web API, sent forged, stale,
 * headerless, malformed and oversized requests, replays of one event with Slack's retry headers, and a burst of
 * distinct direct messages. Every attempt has one right outcome; the table printed at the end counts the attempts
 * that did not get it, and the test asserts there were none.
 *
 * MNEMO_FAULTS=full raises the counts (1000 burst, 200 replays); the default short form runs in a few seconds.
 */
const COUNTS = FULL_FAULTS
  ? { forged: 200, stale: 200, burst: 1000, replays: 200, replicaReplays: 50 }
  : { forged: 20, stale: 20, burst: 100, replays: 40, replicaReplays: 10 };
/** Requests in flight at once during the burst and the replays. */
const CONCURRENCY = 25;
const FORM = 'application/x-www-form-urlencoded';
const FIVE_MB = 5 * 1024 * 1024;

interface Row {
  readonly fault: string;
  readonly expected: string;
  tried: number;
  failed: number;
  readonly examples: string[];
}

const rows: Row[] = [];
function row(fault: string, expected: string): Row {
  const entry: Row = { fault, expected, tried: 0, failed: 0, examples: [] };
  rows.push(entry);
  return entry;
}
/** Counts one attempt; a failure keeps its first few descriptions for the table. */
function record(entry: Row, ok: boolean, description: string): void {
  entry.tried += 1;
  if (ok) return;
  entry.failed += 1;
  if (entry.examples.length < 3) entry.examples.push(description);
}

let dir: string;
let store: SqliteMemoryStore;
let slack: LoopbackSlack;
const agent = scriptedAgent((input) => replyEvents(`answer to ${input}`));
const noRecommender = { rate: async () => Promise.reject(new Error('no recommender in this test')) };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mnemo-slack-faults-'));
  store = SqliteMemoryStore.open(join(dir, 'mnemo.db'), {
    modules: STORAGE_MODULES,
    embedder: new FakeEmbedder({ dims: 16 }),
  });
  slack = await startLoopbackSlack({ agent, memory: store, recommender: noRecommender }, { database: store.db });
});

afterAll(async () => {
  await slack?.close();
  await store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  const width = Math.max(...rows.map((entry) => entry.fault.length));
  const lines = rows.map(
    (entry) =>
      `${entry.fault.padEnd(width)}  ${String(entry.tried).padStart(5)}  ${String(entry.failed).padStart(6)}  ${entry.expected}${entry.examples.length ? `  e.g. ${entry.examples.join('; ')}` : ''}`,
  );
  console.log(
    [
      `hostile Slack (${FULL_FAULTS ? 'full' : 'short'} form)`,
      `${'fault'.padEnd(width)}  tried  failed  expected`,
      ...lines,
    ].join('\n'),
  );
});

/** Sends, and turns a request that is never answered (or a dropped connection) into a status of 0. */
async function send(target: LoopbackSlack, body: string, options: SendOptions = {}): Promise<number> {
  try {
    return (await target.send(body, { timeoutMs: 5000, ...options })).status;
  } catch {
    return 0;
  }
}

/** Runs `work` over `items`, `limit` at a time. */
async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** How many chat.postMessage calls each thread got (a reply is one post, then updates of it). */
function postsPerThread(api: WebApiStub): Map<string, number> {
  const posts = new Map<string, number>();
  for (const call of api.callsTo('chat.postMessage')) {
    const thread = String(call.args.thread_ts);
    posts.set(thread, (posts.get(thread) ?? 0) + 1);
  }
  return posts;
}

/** Waits until every thread in `threads` has a finished reply, or `timeoutMs` passes. */
async function settle(api: WebApiStub, threads: readonly string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const allAnswered = (): boolean => {
    const answered = new Set(api.replies().map((reply) => String(reply.args.thread_ts)));
    return threads.every((thread) => answered.has(thread));
  };
  while (Date.now() < deadline && !allAnswered()) await new Promise((resolve) => setTimeout(resolve, 20));
  // Late duplicates, had there been any, would land within this.
  await new Promise((resolve) => setTimeout(resolve, 200));
}

let messages = 0;
const nextTs = () => `1700000${String(++messages).padStart(3, '0')}.000100`;

/** A 5 MB body streamed without a content-length; resolves the status, or 0 when the connection failed first. */
function streamFiveMegabytes(target: LoopbackSlack): Promise<number> {
  return new Promise((resolve) => {
    const upload = request(new URL('/slack/events', target.url), { method: 'POST' });
    upload.setHeader('content-type', 'application/json');
    upload.setHeader('x-slack-request-timestamp', String(Math.floor(Date.now() / 1000)));
    upload.setHeader('x-slack-signature', 'v0=0');
    upload.on('response', (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    upload.on('error', () => resolve(0));
    const chunk = Buffer.alloc(64 * 1024, 'x');
    let written = 0;
    const pump = (): void => {
      while (written < FIVE_MB && !upload.destroyed) {
        written += chunk.length;
        if (!upload.write(chunk)) return void upload.once('drain', pump);
      }
      if (!upload.destroyed) upload.end();
    };
    pump();
  });
}

describe('mnemo slack against a hostile Slack', { timeout: FULL_FAULTS ? 300_000 : 60_000 }, () => {
  it('refuses bad requests, survives them, and answers every event exactly once', async () => {
    const now = () => Math.floor(Date.now() / 1000);
    const valid = () => directMessage('U1', 'hello', nextTs());

    const forged = row('bad signature', '401');
    for (let index = 0; index < COUNTS.forged; index += 1) {
      const body = index % 2 === 0 ? valid() : 'null';
      const status = await send(slack, body, { secret: `not-the-secret-${index}` });
      record(forged, status === 401, `${status}`);
    }
    // The right signature of a different body.
    const tampered = await send(slack, valid(), { headers: { 'x-slack-signature': `v0=${'0'.repeat(64)}` } });
    record(forged, tampered === 401, `tampered ${tampered}`);

    const stale = row('stale or future timestamp (>5 min)', '401');
    for (let index = 0; index < COUNTS.stale; index += 1) {
      const offset = (index % 2 === 0 ? -1 : 1) * (6 * 60 + index * 60);
      const status = await send(slack, valid(), { timestamp: now() + offset });
      record(stale, status === 401, `${offset}s: ${status}`);
    }

    const headerless = row('missing or garbled signature headers', '401');
    const headerCases: Array<[string, Record<string, string>]> = [
      ['none', {}],
      ['no signature', { 'x-slack-request-timestamp': String(now()) }],
      ['no timestamp', { 'x-slack-signature': 'v0=abc' }],
      ['timestamp not a number', { 'x-slack-request-timestamp': 'soon', 'x-slack-signature': 'v0=abc' }],
      ['unknown version', { 'x-slack-request-timestamp': String(now()), 'x-slack-signature': 'v1=abc' }],
    ];
    for (const [name, headers] of headerCases) {
      let status = 0;
      try {
        const response = await fetch(`${slack.url}/slack/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: valid(),
          signal: AbortSignal.timeout(5000),
        });
        status = response.status;
      } catch {}
      record(headerless, status === 401, `${name}: ${status}`);
    }

    const malformed = row('malformed JSON body (signed)', '400');
    for (const body of [
      '{"type": "event_callback", "event": ',
      '',
      'null',
      '42',
      '"x"',
      '[]',
      '{}',
      'true',
      '{"event": null}',
    ])
      record(malformed, (await send(slack, body)) === 400, JSON.stringify(body));

    const form = row('broken form payload (signed)', '400');
    for (const body of ['payload=%7Bbroken', 'payload=null', 'payload=%5B%5D', 'payload=', 'text=no+command'])
      record(form, (await send(slack, body, { contentType: FORM })) === 400, body);

    const oversized = row('oversized body (5 MB)', '413');
    const padded = JSON.stringify({ ...JSON.parse(valid()), pad: 'x'.repeat(FIVE_MB) });
    const declared = await send(slack, padded);
    record(oversized, declared === 413, `with content-length: ${declared}`);
    const streamed = await streamFiveMegabytes(slack);
    record(oversized, streamed === 413, `streamed: ${streamed}`);

    const replays = row(`one event replayed ${COUNTS.replays} times`, '200 each, answered once');
    const replayed = directMessage('U1', 'replayed', nextTs());
    const replayedTs = String(JSON.parse(replayed).event.ts);
    const replayStatuses: number[] = [];
    await pool([...Array(COUNTS.replays).keys()], CONCURRENCY, async (attempt) => {
      const headers =
        attempt === 0
          ? {}
          : { 'x-slack-retry-num': String(((attempt - 1) % 3) + 1), 'x-slack-retry-reason': 'http_timeout' };
      replayStatuses.push(await send(slack, replayed, { headers }));
    });
    for (const status of replayStatuses) record(replays, status === 200, `status ${status}`);

    const burst = row(`burst of ${COUNTS.burst} distinct DMs`, '200 each, answered once');
    const burstBodies = Array.from({ length: COUNTS.burst }, (_, index) =>
      directMessage(`U${index % 7}`, `burst ${index}`, nextTs()),
    );
    const burstThreads = burstBodies.map((body) => String(JSON.parse(body).event.ts));
    const burstStatuses = new Map<string, number>();
    await pool(burstBodies, CONCURRENCY, async (body) => {
      burstStatuses.set(String(JSON.parse(body).event.ts), await send(slack, body));
    });
    await settle(slack.api, [replayedTs, ...burstThreads], FULL_FAULTS ? 60_000 : 15_000);
    const posts = postsPerThread(slack.api);
    for (const thread of burstThreads) {
      const status = burstStatuses.get(thread);
      const count = posts.get(thread) ?? 0;
      record(burst, status === 200 && count === 1, `${thread}: status ${status}, ${count} posts`);
    }
    const replayPosts = posts.get(replayedTs) ?? 0;
    record(replays, replayPosts === 1, `${replayPosts} posts`);

    // Nothing refused above reached the agent: it saw the replayed event once and each burst message once.
    const leaked = row('refused requests reaching the agent', 'none');
    const inputs = agent.turns.map((turn) => turn.input);
    record(
      leaked,
      inputs.filter((input) => input === 'hello').length === 0,
      `${inputs.filter((input) => input === 'hello').length} turns`,
    );

    const alive = row('still serving afterwards', 'answered');
    const last = nextTs();
    const lastStatus = await send(slack, directMessage('U1', 'still there?', last));
    await settle(slack.api, [last], 5000);
    record(alive, lastStatus === 200 && postsPerThread(slack.api).get(last) === 1, `status ${lastStatus}`);
    await store.changeFacts(userScope(`${TEAM}:U42`), [{ op: 'add', fact: { text: 'U42 likes film noir' } }]);
    const forget = nextTs();
    const forgetStatus = await send(slack, directMessage('U42', 'forget me', forget));
    await settle(slack.api, [forget], 5000);
    const confirmation = slack.api.replies().find((reply) => reply.args.thread_ts === forget);
    record(
      alive,
      forgetStatus === 200 &&
        /^Done: I forgot everything/.test(String(confirmation?.args.text)) &&
        (await store.list(userScope(`${TEAM}:U42`))).length === 0,
      `forget me: status ${forgetStatus}, ${String(confirmation?.args.text)}`,
    );

    const failures = rows
      .filter((entry) => entry.failed > 0)
      .map((entry) => `${entry.fault}: ${entry.examples.join('; ')}`);
    expect(failures).toEqual([]);
  });

  it('answers an event once when two replicas sharing one database file both receive it', async () => {
    const api = await startWebApiStub();
    const replicaAgent = scriptedAgent((input) => replyEvents(`answer to ${input}`));
    const second = SqliteMemoryStore.open(join(dir, 'mnemo.db'), {
      modules: STORAGE_MODULES,
      embedder: new FakeEmbedder({ dims: 16 }),
    });
    const replicas = [
      await startLoopbackSlack(
        { agent: replicaAgent, memory: store, recommender: noRecommender },
        { database: store.db, api },
      ),
      await startLoopbackSlack(
        { agent: replicaAgent, memory: second, recommender: noRecommender },
        { database: second.db, api },
      ),
    ];
    try {
      const replicated = row(`one event to 2 replicas, ${COUNTS.replicaReplays} times each`, '200 each, answered once');
      const event = directMessage('U1', 'which replica?', nextTs());
      const thread = String(JSON.parse(event).event.ts);
      const statuses: number[] = [];
      await pool([...Array(COUNTS.replicaReplays * 2).keys()], CONCURRENCY, async (attempt) => {
        statuses.push(await send(replicas[attempt % 2]!, event));
      });
      for (const status of statuses) record(replicated, status === 200, `status ${status}`);
      await settle(api, [thread], 5000);
      const count = postsPerThread(api).get(thread) ?? 0;
      record(
        replicated,
        count === 1 && replicaAgent.turns.length === 1,
        `${count} posts, ${replicaAgent.turns.length} turns`,
      );
      expect(replicated.failed).toBe(0);
    } finally {
      for (const replica of replicas) await replica.close();
      await second.close();
      await api.close();
    }
  });
});
