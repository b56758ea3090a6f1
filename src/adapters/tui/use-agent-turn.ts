import { useCallback, useEffect, useRef, useState } from 'react';
import type { Agent } from '../../agent.js';
import { eventLines, type TranscriptLine, type TurnSummary, turnSummary } from '../../chat/transcript.js';
import { errorLine } from '../../errors.js';

/** What the chat needs of an agent: its event stream (a fake in tests). */
export type ChatAgent = Pick<Agent, 'stream'>;

/** Options of {@link useAgentTurn}. */
export interface UseAgentTurnOptions {
  /** The agent; undefined when no model is configured (then `send` only reports that). */
  agent: ChatAgent | undefined;
  /** Whose turn it is; read when a turn starts. */
  userId: string;
  /** The conversation thread every turn continues. */
  threadId: string;
  /** Receives finished transcript lines, in order (the reply is filed as one line once it is complete). */
  onLines: (lines: readonly TranscriptLine[]) => void;
}

/** A turn in flight, and what the last one cost. */
export interface AgentTurn {
  /** A turn is in flight. */
  readonly busy: boolean;
  /** The reply so far, while it streams. */
  readonly streaming: string;
  readonly lastTurn: TurnSummary | undefined;
  /** Runs one turn, resolving when the agent's stream has ended (a cancelled turn's message stored too). */
  send(input: string): Promise<void>;
  /** Aborts the turn in flight; false when there is none. */
  cancel(): boolean;
}

/**
 * Runs agent turns and turns their events into transcript lines: the reply streams into `streaming` and is filed
 * when the next event (memory written, tool call, turn end) arrives, marked cut off (` …`) when the model failed
 * mid-reply. Errors become one line; Esc-style cancelling aborts the turn through its AbortSignal.
 */
export function useAgentTurn({ agent, userId, threadId, onLines }: UseAgentTurnOptions): AgentTurn {
  const [busy, setBusy] = useState(false);
  const [streaming, setStreaming] = useState('');
  const [lastTurn, setLastTurn] = useState<TurnSummary | undefined>(undefined);
  const controller = useRef<AbortController | undefined>(undefined);
  // The latest options, so a turn started before a re-render still reports to the current callback.
  const latest = useRef({ agent, userId, threadId, onLines });
  latest.current = { agent, userId, threadId, onLines };

  useEffect(() => () => controller.current?.abort(), []);

  const send = useCallback(async (input: string) => {
    const { agent: current, userId: user, threadId: thread } = latest.current;
    const report = (lines: readonly TranscriptLine[]): void => {
      if (lines.length > 0) latest.current.onLines(lines);
    };
    if (!current || controller.current) return;
    const abort = new AbortController();
    controller.current = abort;
    setBusy(true);
    let pending = '';
    let streamed = false;
    const file = (suffix = ''): void => {
      if (pending.trim() !== '') report([{ kind: 'assistant', text: `${pending.trim()}${suffix}` }]);
      pending = '';
      setStreaming('');
    };
    try {
      for await (const event of current.stream(input, { userId: user, threadId: thread, signal: abort.signal })) {
        // A cancelled turn runs on until the agent notices, and then stores what was said: draining it (rather than
        // breaking off, which would skip that) keeps the message; nothing more of it is shown.
        if (abort.signal.aborted) continue;
        if (event.type === 'text-delta') {
          pending += event.text;
          streamed = true;
          setStreaming(pending);
          continue;
        }
        // A reply the model stopped sending (a timeout, a dropped connection) is cut off, as a cancelled one is.
        file(event.type === 'error' && event.stage === 'model' ? ' …' : '');
        if (event.type === 'turn-end') {
          // A model that does not stream still has its reply in turn-end.
          if (!streamed && event.reply.trim() !== '') report([{ kind: 'assistant', text: event.reply.trim() }]);
          setLastTurn(turnSummary(event));
        }
        report(eventLines(event));
      }
      if (abort.signal.aborted) {
        file(' …');
        report([{ kind: 'info', text: 'cancelled' }]);
      }
    } catch (error) {
      file(abort.signal.aborted ? ' …' : '');
      report([abort.signal.aborted ? { kind: 'info', text: 'cancelled' } : { kind: 'error', text: errorLine(error) }]);
    } finally {
      controller.current = undefined;
      setBusy(false);
    }
  }, []);

  const cancel = useCallback((): boolean => {
    if (!controller.current || controller.current.signal.aborted) return false;
    controller.current.abort();
    return true;
  }, []);

  return { busy, streaming, lastTurn, send, cancel };
}
