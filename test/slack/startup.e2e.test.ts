import { type ChildProcess, spawn } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkBotToken } from '../../src/adapters/slack/app.js';
import { cliEnvironment } from '../helpers/cli.js';
import { directMessage, SIGNING_SECRET, sendSigned, startWebApiStub, type WebApiStub } from './loopback.js';

// `mnemo slack` as a real process (built by `npm test`'s pretest): what it prints, how it exits, whether it stops.
const binary = join(import.meta.dirname, '../../dist/bin/mnemo.js');

interface Running {
  readonly child: ChildProcess;
  stderr(): string;
  /** Resolves with the exit code (or the signal's name) once the process has ended. */
  readonly exited: Promise<number | string>;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function runSlack(env: NodeJS.ProcessEnv): Running {
  const child = spawn(process.execPath, [binary, 'slack'], {
    env: cliEnvironment({
      PATH: process.env.PATH,
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
      SLACK_BOT_TOKEN: 'xoxb-test',
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      PORT: '0',
      ...env,
    }),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  cleanups.push(() => void (child.exitCode === null && child.signalCode === null && child.kill('SIGKILL')));
  return { child, stderr: () => stderr, exited };
}

async function stub(): Promise<WebApiStub> {
  const api = await startWebApiStub();
  cleanups.push(() => api.close());
  return api;
}

/** Resolves with what `within` ms brought: the process's end, or 'still running'. */
const endWithin = (running: Running, within: number): Promise<number | string> =>
  Promise.race([
    running.exited,
    new Promise<string>((resolve) => setTimeout(() => resolve('still running'), within).unref()),
  ]);

describe('mnemo slack starting and stopping (real process)', () => {
  it('refuses a token Slack rejects: one line, exit 1, never "listening"', async () => {
    const api = await stub();
    api.failNext('auth.test', 'invalid_auth');
    const running = runSlack({ SLACK_API_URL: api.url });
    expect(await endWithin(running, 20_000)).toBe(1);
    expect(running.stderr()).toBe(
      "mnemo slack: Slack rejected SLACK_BOT_TOKEN (auth.test: invalid_auth); give the app's Bot User OAuth Token, xoxb-...\n",
    );
    expect(api.callsTo('auth.test').map((call) => call.token)).toEqual(['xoxb-test']);
  });

  it('says in one line that the Web API cannot be reached, and exits 1 at once', async () => {
    const closed = await startWebApiStub();
    await closed.close();
    const running = runSlack({ SLACK_API_URL: closed.url });
    expect(await endWithin(running, 20_000)).toBe(1);
    const port = new URL(closed.url).port;
    expect(running.stderr()).toBe(
      `mnemo slack: could not check SLACK_BOT_TOKEN with the Slack Web API at ${closed.url}: connect ECONNREFUSED 127.0.0.1:${port}\n`,
    );
  });

  it('refuses an app token Slack rejects in Socket Mode: one line, exit 1', async () => {
    const api = await stub();
    api.failNext('apps.connections.open', 'invalid_auth');
    const running = runSlack({ SLACK_API_URL: api.url, SLACK_APP_TOKEN: 'xapp-wrong' });
    expect(await endWithin(running, 20_000)).toBe(1);
    expect(running.stderr()).toMatch(
      /^(\[ERROR\].*\n)*mnemo slack: Slack rejected SLACK_APP_TOKEN \(apps\.connections\.open: invalid_auth\); .*\n$/,
    );
  });

  it('stops on the first SIGTERM even while a reply is being retried against a Web API that went down', async () => {
    const api = await stub();
    const running = runSlack({ SLACK_API_URL: api.url });
    const port = await new Promise<string>((resolve, reject) => {
      const poll = setInterval(() => {
        const listening = /listening on port (\d+),/.exec(running.stderr());
        if (listening) resolve(listening[1]!);
        else if (running.child.exitCode !== null) reject(new Error(`mnemo slack exited: ${running.stderr()}`));
        if (listening || running.child.exitCode !== null) clearInterval(poll);
      }, 20);
    });
    expect(port).not.toBe('0');
    api.breakDown();
    // "forget me" needs no model; its confirmation is posted and, answered 503, retried.
    expect(
      (await sendSigned(`http://127.0.0.1:${port}`, directMessage('U1', 'forget me', '1700000000.000100'))).status,
    ).toBe(200);
    await api.waitFor('chat.postMessage');

    running.child.kill('SIGTERM');
    expect(await endWithin(running, 5000)).toBe(0);
    expect(running.stderr()).not.toMatch(/at .*\.js:\d+/);
  });
});

describe('checkBotToken', () => {
  it('gives up on a Web API that never answers, after the timeout', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => {
      for (const socket of sockets) socket.destroy();
      silent.close();
    });
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/api/`;
    expect(await checkBotToken({ botToken: 'xoxb-test', slackApiUrl: url, timeoutMs: 200 })).toEqual({
      ok: false,
      problem: 'unreachable',
      reason: 'no answer within 0.2 s',
    });
  });

  it("calls an answer that is not Slack's (a proxy's HTML page) unreachable, in one short line", async () => {
    const page = createHttpServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end(`<html>\n<body>${'Please sign in to the proxy. '.repeat(20)}</body>\n</html>`);
    });
    await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => void page.close());
    const check = await checkBotToken({
      botToken: 'xoxb-test',
      slackApiUrl: `http://127.0.0.1:${(page.address() as AddressInfo).port}/api/`,
    });
    expect(check).toMatchObject({
      ok: false,
      problem: 'unreachable',
      reason: expect.stringMatching(/^the answer is not the Slack Web API's: <html>/),
    });
    expect((check as { reason: string }).reason).not.toContain('\n');
    expect((check as { reason: string }).reason.length).toBeLessThan(130);
  });

  it('returns the bot ids, and refuses a token auth.test names no bot for', async () => {
    const api = await stub();
    expect(await checkBotToken({ botToken: 'xoxb-test', slackApiUrl: api.url })).toEqual({
      ok: true,
      botUserId: 'UBOT',
      botId: 'BBOT',
    });
    const userToken = await startWebApiStub({ 'auth.test': { user_id: 'U1', bot_id: undefined } });
    cleanups.push(() => userToken.close());
    expect(await checkBotToken({ botToken: 'xoxp-user', slackApiUrl: userToken.url })).toMatchObject({
      ok: false,
      problem: 'rejected',
      reason: expect.stringMatching(/^not a bot token/),
    });
  });
});
