import { Console } from 'node:console';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { RecommenderService, recommenderStorage } from '../../recommender/index.js';
import { runChat } from '../../src/adapters/tui/run.js';
import type { ChatAgent } from '../../src/adapters/tui/use-agent-turn.js';
import type { AgentEvent } from '../../src/events.js';
import { memoryStoreForTests } from '../../src/testing.js';
import { fakeTerminal } from './helpers.js';

const CTRL_C = '\u0003';
const tick = (ms = 20) => new Promise((resolve) => setTimeout(resolve, ms));

/** An agent whose turn waits for the abort, then takes until `finishStoring()` to store the message (or forever). */
function slowToStore() {
  const state = { calls: 0, stored: [] as string[], finishStoring: () => {} };
  const agent: ChatAgent = {
    async *stream(_input, options): AsyncGenerator<AgentEvent> {
      state.calls += 1;
      yield { type: 'text-delta', text: 'Let me see' };
      await new Promise((_resolve, reject) =>
        options.signal?.addEventListener('abort', () => reject(new Error('Aborted'))),
      );
      yield { type: 'text-delta', text: 'never shown' };
    },
  };
  const storing: ChatAgent = {
    async *stream(input, options) {
      try {
        yield* agent.stream(input, options);
      } finally {
        await new Promise<void>((resolve) => (state.finishStoring = resolve));
        state.stored.push(input);
      }
    },
  };
  return { agent: storing, state };
}

/** Starts the chat, sends one message, and presses Ctrl+C twice while the reply is pending. */
async function quitMidReply(agent: ChatAgent, settleTimeoutMs?: number) {
  const terminal = fakeTerminal();
  const memory = await memoryStoreForTests();
  let ended = false;
  const running = runChat({
    ...terminal.streams,
    memory,
    recommender: new RecommenderService({ storage: recommenderStorage(memory.backend), memory }),
    agent,
    userId: 'ada',
    threadId: 't1',
    exportDir: mkdtempSync(join(tmpdir(), 'mnemo-run-')),
    ...(settleTimeoutMs === undefined ? {} : { settleTimeoutMs }),
  }).then(() => (ended = true));
  await terminal.ready();
  terminal.stdin.write('My second favourite colour is mauve');
  await tick();
  terminal.stdin.write('\r');
  await tick();
  terminal.stdin.write(CTRL_C);
  await tick();
  terminal.stdin.write(CTRL_C);
  await tick();
  return { running, ended: () => ended };
}

describe('runChat', () => {
  // runChat lets Ink patch the console, which builds a `console.Console`; Vitest's console has none.
  beforeAll(() => void Object.assign(console, { Console: console.Console ?? Console }));

  it('resolves only once a turn cancelled by quitting has stored the message', async () => {
    const { agent, state } = slowToStore();
    const chat = await quitMidReply(agent);
    expect(state.calls).toBe(1);
    expect(chat.ended()).toBe(false);
    state.finishStoring();
    await chat.running;
    expect(state.stored).toEqual(['My second favourite colour is mauve']);
  });

  it('does not wait longer than settleTimeoutMs for a turn that never ends', async () => {
    const { agent, state } = slowToStore();
    const chat = await quitMidReply(agent, 50);
    await chat.running;
    expect(state.calls).toBe(1);
    expect(state.stored).toEqual([]);
  });
});
