import { EventEmitter } from 'node:events';
import type { render } from 'ink-testing-library';
import type { ChatAgent } from '../../src/adapters/tui/use-agent-turn.js';
import type { TurnOptions } from '../../src/agent.js';
import type { AgentEvent } from '../../src/events.js';

type Instance = ReturnType<typeof render>;

/** Waits until the last frame satisfies `predicate` (or fails with the frame it saw). */
export async function waitForFrame(
  instance: Instance,
  predicate: (frame: string) => boolean,
  timeoutMs = 3000,
): Promise<string> {
  const started = Date.now();
  for (;;) {
    const frame = instance.lastFrame() ?? '';
    if (predicate(frame)) return frame;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for a frame; last frame:\n${frame}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Waits until the chat shows `text` and listens for keys: the first frame is drawn before its key handlers are
 * attached, and a key written before that is lost.
 */
export async function waitForChat(instance: Instance, text: string): Promise<string> {
  return waitForFrame(instance, (frame) => frame.includes(text) && instance.stdin.listenerCount('readable') > 0);
}

/** Types a line, waits until the input shows it, then presses Enter (the caller waits for the outcome). */
export async function typeLine(instance: Instance, line: string): Promise<void> {
  instance.stdin.write(line);
  // The input row sits just above the status line; earlier echoes of the same text are in the transcript above.
  await waitForFrame(instance, (frame) => frame.split('\n').at(-2)?.trimEnd() === `> ${line}`);
  instance.stdin.write('\r');
}

/** A scripted turn: events to yield, optionally pausing before an index until `release()` is called. */
export interface ScriptedTurn {
  events: AgentEvent[];
  /** Pause before yielding the event at this index. */
  pauseBefore?: number;
}

/** A fake agent: each `stream` call plays the next scripted turn, honouring the abort signal like the real one. */
export function fakeAgent(
  turns: ScriptedTurn[],
): ChatAgent & { calls: Array<{ input: string; options: TurnOptions }>; release(): void; finished: number } {
  let releaseGate: () => void = () => {};
  const agent = {
    calls: [] as Array<{ input: string; options: TurnOptions }>,
    finished: 0,
    release: () => releaseGate(),
    async *stream(input: string, options: TurnOptions): AsyncGenerator<AgentEvent> {
      agent.calls.push({ input, options });
      const turn = turns.shift() ?? { events: [] };
      for (const [index, event] of turn.events.entries()) {
        if (index === turn.pauseBefore) {
          await new Promise<void>((resolve, reject) => {
            releaseGate = resolve;
            options.signal?.addEventListener(
              'abort',
              () => reject(Object.assign(new Error('Aborted'), { name: 'AbortError' })),
              { once: true },
            );
          });
        }
        options.signal?.throwIfAborted();
        await new Promise((resolve) => setTimeout(resolve, 1));
        yield event;
      }
      agent.finished += 1;
    },
  };
  return agent;
}

export const turnEnd = (
  reply: string,
  extra: Partial<{ total: number; input: number; output: number }> = {},
): AgentEvent => ({
  type: 'turn-end',
  threadId: 't1',
  reply,
  latencyMs: { recall: 1, model: 2, tools: 0, writeBack: 1, total: extra.total ?? 1234 },
  usage: { input: extra.input ?? 100, output: extra.output ?? 20 },
  counts: { recalled: 0, written: 0, toolCalls: 0 },
});

/** The row the input field is drawn on: just above the status line. */
export const inputRow = (frame: string): string => frame.split('\n').at(-2)?.trimEnd() ?? '';

/**
 * Streams for `runChat` outside a real terminal: stdin delivers each `write` as one chunk, as a terminal delivers a
 * keypress or a paste, and `ready()` resolves once the chat listens for keys.
 */
export function fakeTerminal() {
  let listening = false;
  const stdin = Object.assign(new EventEmitter(), {
    isTTY: true,
    pending: [] as string[],
    setRawMode: (enabled: boolean) => {
      listening = enabled;
    },
    setEncoding: () => undefined,
    ref: () => undefined,
    unref: () => undefined,
    resume: () => undefined,
    pause: () => undefined,
    read: (): string | null => stdin.pending.shift() ?? null,
    write(data: string) {
      stdin.pending.push(data);
      stdin.emit('readable');
    },
  });
  const output = () => Object.assign(new EventEmitter(), { columns: 100, rows: 40, isTTY: true, write: () => true });
  return {
    stdin,
    streams: {
      stdin: stdin as unknown as NodeJS.ReadStream,
      stdout: output() as unknown as NodeJS.WriteStream,
      stderr: output() as unknown as NodeJS.WriteStream,
    },
    /** Resolves once the chat has put the terminal in raw mode and its key handlers are attached. */
    async ready(): Promise<void> {
      while (!listening) await new Promise((resolve) => setTimeout(resolve, 5));
      await new Promise((resolve) => setTimeout(resolve, 20));
    },
  };
}
