import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { DELIVERY_TTL_MS, DeliveryLedger, deliveryKey } from '../../src/adapters/slack/dedupe.js';
import {
  directMessage,
  type LoopbackSlack,
  replyEvents,
  scriptedAgent,
  startLoopbackSlack,
  startWebApiStub,
  TEAM,
  type WebApiStub,
} from './loopback.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDatabase(): { path: string; open: () => Database.Database } {
  const dir = mkdtempSync(join(tmpdir(), 'mnemo-dedupe-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'mnemo.db');
  return {
    path,
    open: () => {
      const db = new Database(path);
      db.pragma('journal_mode = WAL');
      db.pragma('busy_timeout = 5000');
      cleanups.push(() => db.close());
      return db;
    },
  };
}

describe('DeliveryLedger (SQLite)', () => {
  it('grants the first claim of a key and refuses every later one', () => {
    const ledger = new DeliveryLedger(new Database(':memory:'));
    expect(ledger.claim('event:Ev1')).toBe(true);
    expect(ledger.claim('event:Ev1')).toBe(false);
    expect(ledger.claim('event:Ev1')).toBe(false);
    expect(ledger.claim('event:Ev2')).toBe(true);
  });

  it('grants a key once across two connections to one file, and keeps it across a reopen', () => {
    const file = tempDatabase();
    const first = new DeliveryLedger(file.open());
    const second = new DeliveryLedger(file.open());
    expect([first.claim('event:Ev1'), second.claim('event:Ev1')]).toEqual([true, false]);
    expect([second.claim('event:Ev2'), first.claim('event:Ev2')]).toEqual([true, false]);
    expect(new DeliveryLedger(file.open()).claim('event:Ev1')).toBe(false);
  });

  it('forgets claims older than a day, so the table holds about a day of deliveries', () => {
    const db = new Database(':memory:');
    let now = 1_700_000_000_000;
    const ledger = new DeliveryLedger(db, { now: () => now });
    expect(ledger.claim('event:old')).toBe(true);
    now += DELIVERY_TTL_MS / 2;
    expect(ledger.claim('event:recent')).toBe(true);
    now += DELIVERY_TTL_MS / 2 + 60_000;
    expect(ledger.claim('event:new')).toBe(true);
    const keys = db.prepare('SELECT key FROM slack_deliveries ORDER BY key').pluck().all();
    expect(keys).toEqual(['event:new', 'event:recent']);
    expect(ledger.claim('event:recent')).toBe(false);
  });
});

describe('deliveryKey', () => {
  it("is the event's event_id, else the trigger_id of a command or interaction, else none", () => {
    expect(deliveryKey({ type: 'event_callback', event_id: 'Ev9', event: {} })).toBe('event:Ev9');
    expect(deliveryKey({ command: '/mnemo-forget', trigger_id: '123.456' })).toBe('trigger:123.456');
    expect(deliveryKey({ type: 'block_actions', trigger_id: '789.1' })).toBe('trigger:789.1');
    expect(deliveryKey({ type: 'url_verification' })).toBeUndefined();
    expect(deliveryKey(null)).toBeUndefined();
  });
});

describe('mnemo slack answers each delivery once (loopback Bolt app)', () => {
  const noMemory = { forget: async () => ({ deleted: 0 }) };
  const noRecommender = { rate: async () => Promise.reject(new Error('no recommender in this test')) };

  async function start(options: { database?: Database.Database; api?: WebApiStub } = {}) {
    const agent = scriptedAgent(() => replyEvents('ok'));
    const slack: LoopbackSlack = await startLoopbackSlack(
      { agent, memory: noMemory, recommender: noRecommender },
      options,
    );
    cleanups.push(() => slack.close());
    return { agent, slack };
  }

  it('answers an event delivered 40 times once, and acknowledges every delivery with 200', async () => {
    const { agent, slack } = await start();
    const event = directMessage('U1', 'hello once', '1700000000.000100');
    const statuses = [(await slack.send(event)).status];
    // Slack's retries carry the retry headers; a replay need not.
    for (let retry = 1; retry < 40; retry += 1)
      statuses.push(
        (
          await slack.send(
            event,
            retry % 2 === 0
              ? {}
              : { headers: { 'x-slack-retry-num': String(retry), 'x-slack-retry-reason': 'http_timeout' } },
          )
        ).status,
      );
    expect(statuses).toEqual(Array(40).fill(200));
    await slack.api.waitForReplies();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(agent.turns.map((turn) => turn.input)).toEqual(['hello once']);
    expect(slack.api.callsTo('chat.postMessage')).toHaveLength(1);
  });

  it("answers a retry whose first delivery never arrived (Slack's retry after the bot was down)", async () => {
    const { agent, slack } = await start();
    const event = directMessage('U1', 'are you back?', '1700000000.000200');
    const retry = { headers: { 'x-slack-retry-num': '2', 'x-slack-retry-reason': 'http_error' } };
    expect((await slack.send(event, retry)).status).toBe(200);
    await slack.api.waitForReplies();
    expect(agent.turns.map((turn) => turn.input)).toEqual(['are you back?']);
  });

  it('answers a slash command once per trigger_id, acknowledging the repeat', async () => {
    const forgotten: string[] = [];
    const agent = scriptedAgent(() => replyEvents('ok'));
    const slack = await startLoopbackSlack({
      agent,
      memory: {
        forget: async (scope) => {
          forgotten.push(JSON.stringify(scope));
          return { deleted: 0 };
        },
      },
      recommender: noRecommender,
    });
    cleanups.push(() => slack.close());
    const command = new URLSearchParams({
      command: '/mnemo-forget',
      team_id: TEAM,
      user_id: 'U1',
      channel_id: 'D1',
      text: '',
      trigger_id: '1700000000.1.abc',
    }).toString();
    const form = { contentType: 'application/x-www-form-urlencoded' };
    const first = await slack.send(command, form);
    const repeat = await slack.send(command, form);
    expect([first.status, repeat.status]).toEqual([200, 200]);
    expect(forgotten).toHaveLength(1);
  });

  it('answers an event once when two replicas sharing one database file both receive it', async () => {
    const file = tempDatabase();
    const api = await startWebApiStub();
    cleanups.push(() => api.close());
    const first = await start({ database: file.open(), api });
    const second = await start({ database: file.open(), api });
    const event = directMessage('U1', 'which one of you?', '1700000000.000300');
    const statuses = await Promise.all([first.slack.send(event), second.slack.send(event)]);
    expect(statuses.map((answer) => answer.status)).toEqual([200, 200]);
    await api.waitForReplies();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(first.agent.turns.length + second.agent.turns.length).toBe(1);
    expect(api.callsTo('chat.postMessage')).toHaveLength(1);
  });
});
