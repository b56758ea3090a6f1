import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import {
  directMessage,
  eventBody,
  type LoopbackSlack,
  replyEvents,
  scriptedAgent,
  startLoopbackSlack,
} from './loopback.js';

const running: LoopbackSlack[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((slack) => slack.close()));
});

async function start() {
  const agent = scriptedAgent(() => replyEvents('ok'));
  const slack = await startLoopbackSlack({
    agent,
    memory: { forget: () => ({ deleted: 0 }) },
    recommender: { rate: async () => Promise.reject(new Error('no recommender in this test')) },
  });
  running.push(slack);
  return { agent, slack };
}

const FORM = 'application/x-www-form-urlencoded';

describe('mnemo slack refuses requests that are not signed Slack payloads (loopback Bolt app)', () => {
  it('answers 400 to signed bodies that are not Slack payloads, at once, and keeps answering', async () => {
    const { agent, slack } = await start();
    const bodies: Array<{ body: string; contentType?: string }> = [
      { body: '{"type": "event_callback", "event": ' },
      { body: '' },
      // Valid JSON that is not an object: `null` threw inside Bolt's request handler, an unhandled rejection.
      { body: 'null' },
      { body: '42' },
      { body: '"event_callback"' },
      { body: '[]' },
      { body: '{}' },
      { body: JSON.stringify({ type: 'event_callback', event_id: 'Ev0', event: null }) },
      { body: 'payload=%7Bbroken', contentType: FORM },
      { body: 'payload=null', contentType: FORM },
      { body: 'text=hello', contentType: FORM },
    ];
    const answers = [];
    // One at a time, so a request that takes the server down is the one that fails.
    for (const { body, contentType } of bodies)
      answers.push({
        body,
        status: (await slack.send(body, { timeoutMs: 2000, ...(contentType ? { contentType } : {}) })).status,
      });

    expect(answers).toEqual(bodies.map(({ body }) => ({ body, status: 400 })));
    expect((await slack.send(directMessage('U1', 'still there?', '1700000000.000100'))).status).toBe(200);
    await slack.api.waitForReplies();
    expect(agent.turns.map((turn) => turn.input)).toEqual(['still there?']);
  });

  it('answers 401 to forged, stale, future-dated and headerless requests, whatever their body', async () => {
    const { agent, slack } = await start();
    const now = Math.floor(Date.now() / 1000);
    const bodies = ['null', '{not json', directMessage('U1', 'hi', '1700000000.000200')];
    const statuses: number[] = [];
    for (const body of bodies) {
      statuses.push((await slack.send(body, { secret: 'not-the-secret' })).status);
      statuses.push((await slack.send(body, { timestamp: now - 6 * 60 })).status);
      statuses.push((await slack.send(body, { timestamp: now + 6 * 60 })).status);
      const headerless = await fetch(`${slack.url}/slack/events`, { method: 'POST', body });
      statuses.push(headerless.status);
    }
    expect(statuses).toEqual(bodies.flatMap(() => [401, 401, 401, 401]));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(agent.turns).toEqual([]);
  });

  it('keeps serving after a client hangs up halfway through a body', async () => {
    const { agent, slack } = await start();
    const port = Number(new URL(slack.url).port);
    await new Promise<void>((resolve) => {
      const half = request({ host: '127.0.0.1', port, path: '/slack/events', method: 'POST' });
      half.setHeader('content-length', 1000);
      half.on('error', () => resolve());
      half.write('{"type": "event_callback", ', () => setTimeout(() => half.destroy(), 20));
      half.on('close', () => resolve());
    });
    expect(
      (
        await slack.send(
          eventBody({
            type: 'message',
            channel: 'D1',
            channel_type: 'im',
            user: 'U1',
            text: 'after',
            ts: '1700000000.000300',
          }),
        )
      ).status,
    ).toBe(200);
    await slack.api.waitForReplies();
    expect(agent.turns.map((turn) => turn.input)).toEqual(['after']);
  });
});
