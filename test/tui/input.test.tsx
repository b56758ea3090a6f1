import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanup, render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { RecommenderService, recommenderStorage } from '../../recommender/index.js';
import { App } from '../../src/adapters/tui/App.js';
import type { ChatAgent } from '../../src/adapters/tui/use-agent-turn.js';
import { memoryStoreForTests } from '../../src/testing.js';
import { fakeAgent, inputRow, turnEnd, typeLine, waitForChat, waitForFrame } from './helpers.js';

afterEach(() => cleanup());

/** The chat with an agent that answers "ok" to every message and records what it was sent. */
async function chat(
  agent: ChatAgent & { calls: Array<{ input: string }> } = fakeAgent(
    Array.from({ length: 5 }, () => ({ events: [{ type: 'text-delta' as const, text: 'ok' }, turnEnd('ok')] })),
  ),
) {
  const memory = await memoryStoreForTests();
  const instance = render(
    <App
      memory={memory}
      recommender={new RecommenderService({ storage: recommenderStorage(memory.backend), memory })}
      agent={agent}
      userId="ada"
      threadId="t1"
      modelName="fake-model"
      exportDir={mkdtempSync(join(tmpdir(), 'mnemo-tui-'))}
    />,
  );
  return { instance, agent, sent: () => agent.calls.map((call) => call.input) };
}

const LEFT = '\u001b[D';
const BACKSPACE = '\u007f';

describe('the input field', () => {
  it('applies every key that arrives before the next frame', async () => {
    const { instance, sent } = await chat();
    await waitForChat(instance, 'fake-model');
    instance.stdin.write('abcd');
    await waitForFrame(instance, (frame) => inputRow(frame) === '> abcd');
    // Written back to back: the field has not been drawn again between these keys.
    for (const key of ['Z', LEFT, LEFT, 'Q']) instance.stdin.write(key);
    await waitForFrame(instance, (frame) => inputRow(frame) === '> abcQdZ');
    for (const key of ['\u0001', '<', '\u0005', '>']) instance.stdin.write(key);
    await waitForFrame(instance, (frame) => inputRow(frame) === '> <abcQdZ>');
    for (let index = 0; index < 8; index++) instance.stdin.write(BACKSPACE);
    await waitForFrame(instance, (frame) => inputRow(frame) === '> message, or /help');
    await typeLine(instance, 'hello world');
    await waitForFrame(instance, (frame) => frame.includes('ok') && frame.includes('last turn'));
    instance.stdin.write(`hello world${BACKSPACE.repeat(8)}`); // a burst of Backspaces in the same chunk
    await waitForFrame(instance, (frame) => inputRow(frame) === '> hel');
    expect(sent()).toEqual(['hello world']);
  });

  it('keeps the whole of a long paste, in one chunk or many', async () => {
    const { instance, sent } = await chat();
    await waitForChat(instance, 'fake-model');
    const pasted = `${Array.from({ length: 4889 }, (_, index) => 'abcdefghij'[index % 10])
      .join('')
      .slice(0, 4880)} the end.`;
    instance.stdin.write(pasted);
    await waitForFrame(instance, (frame) => inputRow(frame).endsWith('the end.'));
    // The field shows a window of the text, so the live area stays smaller than the terminal.
    expect(instance.lastFrame()!.split('\n')).toHaveLength(5);
    instance.stdin.write('\r');
    await waitForFrame(instance, (frame) => frame.includes('last turn'));
    for (let start = 0; start < pasted.length; start += 1000) instance.stdin.write(pasted.slice(start, start + 1000));
    await waitForFrame(instance, (frame) => inputRow(frame).endsWith('the end.') && !frame.includes('Esc cancels'));
    instance.stdin.write('\r');
    await waitForFrame(instance, () => sent().length === 2);
    expect(sent()).toEqual([pasted, pasted]);
  });

  it('keeps the lines of a multi-line paste in one message, shown with ⏎, sent on Enter', async () => {
    const { instance, sent } = await chat();
    await waitForChat(instance, 'fake-model');
    instance.stdin.write('first line alpha\rsecond line beta\rthird line gamma');
    await waitForFrame(instance, (frame) => inputRow(frame) === '> first line alpha⏎second line beta⏎third line gamma');
    expect(sent()).toEqual([]);
    instance.stdin.write('\r');
    const frame = await waitForFrame(instance, (text) => text.includes('last turn'));
    expect(sent()).toEqual(['first line alpha\nsecond line beta\nthird line gamma']);
    expect(frame).toContain('> first line alpha\nsecond line beta\nthird line gamma');
    instance.stdin.write('one\r\ntwo\n');
    await waitForFrame(instance, (text) => inputRow(text) === '> one⏎two⏎');
    instance.stdin.write('\u001b\r'); // Alt+Enter
    instance.stdin.write('\n'); // Ctrl+J
    instance.stdin.write('three');
    await waitForFrame(instance, (text) => inputRow(text) === '> one⏎two⏎⏎⏎three');
    expect(sent()).toHaveLength(1);
  });

  it('takes typing while a reply streams, and keeps a message sent meanwhile in the field until the reply ends', async () => {
    const agent = fakeAgent([
      { events: [{ type: 'text-delta', text: 'Thinking it over' }, turnEnd('Thinking it over')], pauseBefore: 1 },
      { events: [{ type: 'text-delta', text: 'Second reply' }, turnEnd('Second reply')] },
    ]);
    const { instance, sent } = await chat(agent);
    await waitForChat(instance, 'fake-model');
    await typeLine(instance, 'first question');
    await waitForFrame(instance, (frame) => frame.includes('Thinking it over') && frame.includes('Esc cancels'));
    await typeLine(instance, 'next question');
    await waitForFrame(instance, (frame) => frame.includes('your message waits here'));
    expect(sent()).toEqual(['first question']);
    agent.release();
    let frame = await waitForFrame(instance, (text) => text.includes('last turn') && !text.includes('Esc cancels'));
    expect(inputRow(frame)).toBe('> next question');
    expect(frame).not.toContain('your message waits here');
    instance.stdin.write('\r');
    frame = await waitForFrame(
      instance,
      (text) => text.includes('Second reply') && inputRow(text) === '> message, or /help',
    );
    expect(sent()).toEqual(['first question', 'next question']);
  });
});
