import { request } from 'node:http';
import type { Socket } from 'node:net';
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
    memory: { forget: async () => ({ deleted: 0 }) },
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

  it('refuses a body over 1 MiB with 413, however it is sent, and stops reading it', async () => {
    const { agent, slack } = await start();
    const padded = (bytes: number) =>
      JSON.stringify({ ...JSON.parse(directMessage('U1', 'big', '1700000000.000400')), pad: 'x'.repeat(bytes) });
    // Declared with content-length: refused without reading, but answered (the client sees the 413).
    expect((await slack.send(padded(2 * 1024 * 1024))).status).toBe(413);
    // Streamed without a length: refused once past the limit, and the connection closed rather than drained.
    const sent = await streamBody(slack, 16 * 1024 * 1024);
    expect(sent.status).toBe(413);
    expect(sent.serverRead).toBeLessThan(4 * 1024 * 1024);
    // Just under the limit is an ordinary event.
    expect((await slack.send(padded(1024 * 1024 - 2000))).status).toBe(200);
    await slack.api.waitForReplies();
    expect(agent.turns.map((turn) => turn.input)).toEqual(['big']);
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

/**
 * Streams `bytes` of a JSON body in 64 KiB chunks without a content-length, as fast as the server reads them; the
 * status the server answered and how many bytes its side of the connection read.
 */
async function streamBody(slack: LoopbackSlack, bytes: number): Promise<{ status: number; serverRead: number }> {
  const port = Number(new URL(slack.url).port);
  const serverRead = new Promise<number>((resolve) =>
    slack.server.once('connection', (socket: Socket) => socket.on('close', () => resolve(socket.bytesRead))),
  );
  const status = await new Promise<number>((resolve, reject) => {
    const upload = request({ host: '127.0.0.1', port, path: '/slack/events', method: 'POST' });
    upload.setHeader('content-type', 'application/json');
    upload.setHeader('x-slack-request-timestamp', String(Math.floor(Date.now() / 1000)));
    upload.setHeader('x-slack-signature', 'v0=0');
    upload.on('response', (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    upload.on('error', (error) => reject(error));
    const chunk = Buffer.alloc(64 * 1024, 'x');
    let written = 0;
    const pump = (): void => {
      while (written < bytes && !upload.destroyed) {
        written += chunk.length;
        if (!upload.write(chunk)) return void upload.once('drain', pump);
      }
      if (!upload.destroyed) upload.end();
    };
    upload.write('{"pad": "');
    pump();
  });
  return { status, serverRead: await serverRead };
}
