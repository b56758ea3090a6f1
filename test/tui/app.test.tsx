import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AIMessage } from '@langchain/core/messages';
import { cleanup, render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import type { MemoryStore } from '../../memory/index.js';
import { userScope } from '../../memory/types.js';
import { RecommenderService, recommenderStorage } from '../../recommender/index.js';
import { App, type ChatExit } from '../../src/adapters/tui/App.js';
import { StatusLine } from '../../src/adapters/tui/StatusLine.js';
import type { ChatAgent } from '../../src/adapters/tui/use-agent-turn.js';
import { createAgent } from '../../src/agent.js';
import { NO_MODEL_HELP } from '../../src/config.js';
import { fakeModel, memoryStoreForTests } from '../../src/testing.js';
import { fakeAgent, turnEnd, typeLine, waitForChat, waitForFrame } from './helpers.js';

afterEach(() => cleanup());

async function chat(options: { agent?: ChatAgent; onExit?: (exit: ChatExit) => void; memory?: MemoryStore } = {}) {
  const memory = options.memory ?? (await memoryStoreForTests());
  const recommender = new RecommenderService({ storage: recommenderStorage(memory.backend), memory });
  const instance = render(
    <App
      memory={memory}
      recommender={recommender}
      agent={options.agent}
      userId="ada"
      threadId="t1"
      modelName="fake-model"
      exportDir={mkdtempSync(join(tmpdir(), 'mnemo-tui-'))}
      {...(options.onExit ? { onExit: options.onExit } : {})}
    />,
  );
  return { instance, memory };
}

const ESC = '\u001b';
/** How often `needle` appears once the terminal's line wrapping is undone. */
const occurrences = (frame: string, needle: string): number =>
  frame.replace(/\s+/g, ' ').split(needle.replace(/\s+/g, ' ')).length - 1;
const CTRL_C = '\u0003';

describe('StatusLine', () => {
  it('shows the user, the model or its absence, counts and the last turn', () => {
    const withModel = render(
      <StatusLine
        userId="ada"
        modelName="gpt-4o-mini"
        counts={{ facts: 1, episodes: 4 }}
        lastTurn={{ latencyMs: 2500, inputTokens: 812, outputTokens: 64 }}
      />,
    );
    expect(withModel.lastFrame()).toBe(
      'ada · gpt-4o-mini · 1 fact, 4 episodes · last turn 2.5 s, 812→64 tokens · /help',
    );
    const without = render(
      <StatusLine userId="bob" modelName={undefined} counts={{ facts: 0, episodes: 0 }} lastTurn={undefined} busy />,
    );
    expect(without.lastFrame()).toBe('bob · no model: commands only · 0 facts, 0 episodes · Esc cancels');
  });
});

describe('chat without a model', () => {
  it('opens with one line on configuring a model, and the commands work', async () => {
    const { instance, memory } = await chat();
    let frame = await waitForFrame(instance, (text) => text.includes('no model: commands only'));
    expect(occurrences(frame, NO_MODEL_HELP)).toBe(1);

    await typeLine(instance, '/remember allergic to cats');
    // The status line's counts are re-read from the store after the command, a moment after its lines show.
    frame = await waitForFrame(
      instance,
      (text) => /remembered: allergic to cats \(f\d+\)/.test(text) && text.includes('1 fact, 0 episodes'),
    );
    const id = /\((f\d+)\)/.exec(frame)![1]!;

    await typeLine(instance, '/memories');
    frame = await waitForFrame(instance, (text) =>
      new RegExp(`${id}\\s+\\d{4}-\\d\\d-\\d\\d fact: allergic to cats`).test(text),
    );

    await typeLine(instance, `/forget ${id}`);
    frame = await waitForFrame(
      instance,
      (text) => text.includes(`forgot ${id}`) && text.includes('0 facts, 0 episodes'),
    );
    expect((await memory.count(userScope('ada'))).fact).toBe(0);

    await typeLine(instance, '/memories');
    await waitForFrame(instance, (text) => text.includes('no facts or preferences stored for ada'));

    await typeLine(instance, '/frob');
    frame = await waitForFrame(instance, (text) => text.includes('unknown command /frob (try /help)'));
    expect(frame.split('\n').filter((line) => line.includes('frob'))).toHaveLength(2); // the echo and the one error line

    await typeLine(instance, 'hello there');
    // A message with no model is kept as an episode, and answered by one line that says so.
    frame = await waitForFrame(
      instance,
      (text) =>
        occurrences(text, `message kept in memory; ${NO_MODEL_HELP}`) === 1 && text.includes('0 facts, 1 episode'),
    );
    expect((await memory.list(userScope('ada'), { kinds: ['episode'] })).map((episode) => episode.text)).toEqual([
      'hello there',
    ]);
  });

  it('keeps a pasted multi-line message with its line breaks as \\n', async () => {
    const { instance, memory } = await chat();
    await waitForChat(instance, 'no model: commands only');
    instance.stdin.write('first line alpha\r\nsecond line beta\rthird line gamma');
    await waitForFrame(instance, (text) => text.includes('alpha⏎second line beta⏎third'));
    instance.stdin.write('\r');
    await waitForFrame(instance, (text) => text.includes('message kept in memory'));
    expect((await memory.list(userScope('ada'), { kinds: ['episode'] })).map((episode) => episode.text)).toEqual([
      'first line alpha\nsecond line beta\nthird line gamma',
    ]);
  });

  it('switches user with /user and quits with /quit', async () => {
    let exited = 0;
    const { instance } = await chat({ onExit: () => exited++ });
    await waitForFrame(instance, (text) => text.includes('ada · no model'));
    await typeLine(instance, '/remember likes jazz');
    await waitForFrame(instance, (text) => text.includes('remembered: likes jazz'));
    await typeLine(instance, '/user bob');
    const frame = await waitForFrame(instance, (text) => text.includes('bob · no model') && text.includes('0 facts'));
    expect(frame).toContain('now talking as bob');
    await typeLine(instance, '/quit');
    await waitForFrame(instance, () => exited === 1);
  });
});

describe('chat with an agent', () => {
  it('streams the reply, shows memory lines and the last turn in the status line', async () => {
    const agent = fakeAgent([
      {
        events: [
          {
            type: 'memory-recalled',
            query: 'pet',
            memories: [{ id: 'f1', kind: 'fact', text: 'allergic to cats' }],
            profile: [],
          },
          { type: 'text-delta', text: 'Maybe a ' },
          { type: 'text-delta', text: 'greyhound?' },
          {
            type: 'memory-written',
            episodes: [{ id: 'e1', kind: 'episode', text: 'which pet?' }],
            facts: [{ op: 'add', id: 'f2', text: 'wants a pet' }],
          },
          turnEnd('Maybe a greyhound?', { total: 1432, input: 812, output: 64 }),
        ],
        pauseBefore: 2,
      },
    ]);
    const { instance } = await chat({ agent });
    await waitForFrame(instance, (text) => text.includes('fake-model'));
    expect(instance.lastFrame()).not.toContain(NO_MODEL_HELP);
    await typeLine(instance, 'Which pet should I get?');
    // Mid-stream: the partial reply is on screen and the input is replaced by a spinner.
    let frame = await waitForFrame(instance, (text) => text.includes('Maybe a') && text.includes('Esc cancels'));
    expect(frame).toContain('recalled 1: allergic to cats');
    expect(frame).not.toContain('greyhound');
    agent.release();
    frame = await waitForFrame(instance, (text) => text.includes('last turn 1.4 s, 812→64 tokens'));
    const lines = frame.split('\n');
    const order = [
      '> Which pet should I get?',
      'recalled 1: allergic to cats',
      'Maybe a greyhound?',
      'remembered: wants a pet',
    ].map((needle) => lines.findIndex((line) => line.includes(needle)));
    expect(order.every((index) => index >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(lines.filter((line) => line.includes('Maybe a greyhound?'))).toHaveLength(1);
    expect(agent.calls).toEqual([
      { input: 'Which pet should I get?', options: expect.objectContaining({ userId: 'ada', threadId: 't1' }) },
    ]);
  });

  it('cancels a reply in flight with Esc and takes the next message', async () => {
    const agent = fakeAgent([
      {
        events: [{ type: 'text-delta', text: 'Let me think' }, { type: 'text-delta', text: ' harder' }, turnEnd('')],
        pauseBefore: 1,
      },
      { events: [{ type: 'text-delta', text: 'Second answer' }, turnEnd('Second answer')] },
    ]);
    const { instance } = await chat({ agent });
    await waitForFrame(instance, (text) => text.includes('fake-model'));
    await typeLine(instance, 'first');
    await waitForFrame(instance, (text) => text.includes('Let me think') && text.includes('Esc cancels'));
    instance.stdin.write(ESC);
    let frame = await waitForFrame(instance, (text) => text.includes('cancelled') && text.includes('/help'));
    expect(frame).toContain('Let me think …');
    expect(frame).not.toContain('harder');
    expect(agent.calls[0]!.options.signal?.aborted).toBe(true);
    await typeLine(instance, 'second');
    frame = await waitForFrame(instance, (text) => text.includes('Second answer') && text.includes('last turn'));
    expect(agent.calls).toHaveLength(2);
  });

  it('shows a failing turn as one error line', async () => {
    const agent: ChatAgent = {
      // biome-ignore lint/correctness/useYield: a stream that fails before its first event
      async *stream() {
        throw new Error('model endpoint refused');
      },
    };
    const { instance } = await chat({ agent });
    await waitForFrame(instance, (text) => text.includes('fake-model'));
    await typeLine(instance, 'hi');
    const frame = await waitForFrame(instance, (text) => text.includes('model endpoint refused'));
    expect(frame).not.toMatch(/^\s+at |app\.test\.tsx/m); // no stack trace
    expect(frame.split('\n').filter((line) => line.includes('model endpoint refused'))).toHaveLength(1);
  });

  it('on Ctrl+C mid-turn, lets the turn finish (so it is stored) before exiting; twice quits at once', async () => {
    let exited = 0;
    const agent = fakeAgent([
      { events: [{ type: 'text-delta', text: 'Working on it' }, turnEnd('Working on it')], pauseBefore: 1 },
    ]);
    const { instance } = await chat({ agent, onExit: () => exited++ });
    await waitForFrame(instance, (text) => text.includes('fake-model'));
    await typeLine(instance, 'remember this');
    await waitForFrame(instance, (text) => text.includes('Working on it'));
    instance.stdin.write(CTRL_C);
    await waitForFrame(instance, (text) => text.includes('quitting once this reply is stored'));
    expect(exited).toBe(0);
    expect(agent.calls[0]!.options.signal?.aborted).toBe(false);
    agent.release();
    await waitForFrame(instance, () => exited === 1);
    expect(agent.finished).toBe(1);

    let exitedAgain = 0;
    const stuck = fakeAgent([{ events: [{ type: 'text-delta', text: 'Slow' }, turnEnd('Slow')], pauseBefore: 1 }]);
    const second = await chat({ agent: stuck, onExit: () => exitedAgain++ });
    await waitForFrame(second.instance, (text) => text.includes('fake-model'));
    await typeLine(second.instance, 'hello');
    await waitForFrame(second.instance, (text) => text.includes('Slow'));
    second.instance.stdin.write(CTRL_C);
    await waitForFrame(second.instance, (text) => text.includes('Ctrl+C again quits now'));
    second.instance.stdin.write(CTRL_C);
    await waitForFrame(second.instance, () => exitedAgain === 1);
    expect(stuck.calls[0]!.options.signal?.aborted).toBe(true);
  });

  it('on a second Ctrl+C, hands over a promise that settles once the cancelled turn has stored the message', async () => {
    const stored: string[] = [];
    let finishStoring: () => void = () => {};
    const agent: ChatAgent = {
      async *stream(input, options) {
        yield { type: 'text-delta', text: 'Let me see' };
        try {
          await new Promise((_resolve, reject) =>
            options.signal?.addEventListener('abort', () => reject(new Error('Aborted'))),
          );
        } catch (error) {
          // As the real agent does: keep what the user said before giving up.
          await new Promise<void>((resolve) => (finishStoring = resolve));
          stored.push(input);
          throw error;
        }
      },
    };
    const exits: ChatExit[] = [];
    const { instance } = await chat({ agent, onExit: (exit) => exits.push(exit) });
    await waitForChat(instance, 'fake-model');
    await typeLine(instance, 'My second favourite colour is mauve');
    await waitForFrame(instance, (text) => text.includes('Let me see'));
    instance.stdin.write(CTRL_C);
    await waitForFrame(instance, (text) => text.includes('Ctrl+C again quits now'));
    instance.stdin.write(CTRL_C);
    await waitForFrame(instance, () => exits.length === 1);
    let settled = false;
    void exits[0]!.settled.then(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(settled).toBe(false);
    finishStoring();
    await exits[0]!.settled;
    expect(stored).toEqual(['My second favourite colour is mauve']);
    expect(exits).toHaveLength(1);
  });

  it('marks a reply the model broke off as cut off, followed by the error', async () => {
    const agent = fakeAgent([
      {
        events: [
          { type: 'text-delta', text: 'The three best' },
          { type: 'error', stage: 'model', code: 'model_failed', message: 'the model failed: Request timed out.' },
          turnEnd(''),
        ],
      },
    ]);
    const { instance } = await chat({ agent });
    await waitForChat(instance, 'fake-model');
    await typeLine(instance, 'Name three films');
    const frame = await waitForFrame(instance, (text) => text.includes('last turn'));
    const lines = frame.split('\n');
    const cut = lines.indexOf('The three best …');
    expect(cut).toBeGreaterThan(0);
    expect(lines[cut + 2]).toBe('✗ model error: the model failed: Request timed out.');
  });

  it('renders the real agent’s turn: reply, written fact, counts (scripted LangChain model)', async () => {
    const memory = await memoryStoreForTests();
    const model = fakeModel()
      .respond(new AIMessage('Noted, no cats then.'))
      .respond(new AIMessage('{"changes": [{"op": "add", "kind": "profile", "text": "is allergic to cats"}]}'));
    const agent = createAgent({ store: memory, model });
    const { instance } = await chat({ agent, memory });
    await waitForFrame(instance, (text) => text.includes('fake-model'));
    await typeLine(instance, 'By the way, I am allergic to cats.');
    const frame = await waitForFrame(
      instance,
      (text) => text.includes('last turn') && text.includes('1 fact, 2 episodes'),
    );
    expect(frame).toContain('Noted, no cats then.');
    expect(frame).toContain('remembered: is allergic to cats');
    expect((await memory.list(userScope('ada'), { kinds: ['profile'] })).map((fact) => fact.text)).toEqual([
      'is allergic to cats',
    ]);
  });
});
