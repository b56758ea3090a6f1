import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { LogLevel } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { createSlackApp } from '../../src/adapters/slack/app.js';
import { directMessage, replyEvents, scriptedAgent, startWebApiStub } from './loopback.js';

// `ws` comes with @slack/socket-mode (Bolt's Socket Mode client); it has no types of its own here, so the test
// names the little it uses.
interface Socket {
  send(data: string): void;
  on(event: 'message', listener: (data: Buffer) => void): void;
  terminate(): void;
}
interface SocketServer {
  on(event: 'connection', listener: (socket: Socket) => void): void;
  address(): AddressInfo;
  close(callback: () => void): void;
}
const { WebSocketServer } = createRequire(import.meta.url)('ws') as {
  WebSocketServer: new (options: { port: number; host: string }, ready: () => void) => SocketServer;
};

describe('mnemo slack in Socket Mode (loopback websocket)', () => {
  it('answers a DM delivered over the socket and acknowledges its envelope', async () => {
    const acks: string[] = [];
    const sockets: Socket[] = [];
    let server!: SocketServer;
    await new Promise<void>((resolve) => (server = new WebSocketServer({ port: 0, host: '127.0.0.1' }, resolve)));
    server.on('connection', (socket) => {
      sockets.push(socket);
      socket.on('message', (data) => acks.push((JSON.parse(data.toString()) as { envelope_id: string }).envelope_id));
      socket.send(
        JSON.stringify({
          type: 'hello',
          num_connections: 1,
          connection_info: { app_id: 'A1' },
          debug_info: { approximate_connection_time: 3600 },
        }),
      );
      socket.send(
        JSON.stringify({
          type: 'events_api',
          envelope_id: 'env-1',
          accepts_response_payload: false,
          payload: JSON.parse(directMessage('U1', 'hi over the socket', '1700000000.000100')),
        }),
      );
    });
    const api = await startWebApiStub({ 'apps.connections.open': { url: `ws://127.0.0.1:${server.address().port}/` } });
    const agent = scriptedAgent(() => replyEvents('Hello, socket.'));
    const app = createSlackApp({
      connection: { mode: 'socket', appToken: 'xapp-test' },
      botToken: 'xoxb-test',
      slackApiUrl: api.url,
      logLevel: LogLevel.ERROR,
      agent,
      memory: { forget: async () => ({ deleted: 0 }) },
      recommender: { rate: async () => Promise.reject(new Error('unused')) },
    });
    try {
      await app.start();
      const [posted] = await api.waitForReplies();
      expect(posted!.args).toMatchObject({ channel: 'D1', thread_ts: '1700000000.000100', text: 'Hello, socket.' });
      expect(agent.turns.map((turn) => turn.options.userId)).toEqual(['T1:U1']);
      expect(acks).toContain('env-1');
      expect(api.callsTo('apps.connections.open')[0]!.token).toBe('xapp-test');
    } finally {
      await app.stop();
      for (const socket of sockets) socket.terminate();
      await new Promise<void>((resolve) => server.close(resolve));
      await api.close();
    }
  });
});
