import { Box, Text, useApp, useInput } from 'ink';
import { useCallback, useEffect, useRef, useState } from 'react';
import {
  type ChatMemory,
  type ChatRecommender,
  keepUnanswered,
  parseCommand,
  runCommand,
} from '../../chat/commands.js';
import type { TranscriptLine } from '../../chat/transcript.js';
import { memoryCounts } from '../../chat/user-memory.js';
import { NO_MODEL_HELP } from '../../config.js';
import { errorLine } from '../../errors.js';
import { InputLine } from './InputLine.js';
import { StatusLine } from './StatusLine.js';
import { Transcript, type TranscriptEntry } from './Transcript.js';
import { type ChatAgent, useAgentTurn } from './use-agent-turn.js';

/** What the chat hands over as it ends. */
export interface ChatExit {
  /** Settles once the work in flight has ended: a cancelled turn has stored what was said, a command has finished. */
  readonly settled: Promise<void>;
}

/** Props of {@link App}. */
export interface AppProps {
  /** The memory store slash commands and the status line use. */
  memory: ChatMemory;
  recommender: ChatRecommender;
  /** The agent; undefined when no model is configured (the chat says how to configure one; commands still work). */
  agent: ChatAgent | undefined;
  /** Who is talking at start (`/user` changes it). */
  userId: string;
  /** The conversation thread turns continue. */
  threadId: string;
  /** Shown in the status line. @default undefined (no model) */
  modelName?: string | undefined;
  /** Where `/export` writes. */
  exportDir: string;
  /** Called once when the chat ends (`/quit` or Ctrl+C), just before Ink exits: close the store once `settled`. */
  onExit?: (exit: ChatExit) => void;
}

/** The terminal chat: transcript, the streaming reply, the input line and the status line. Renders events only. */
export function App({
  memory,
  recommender,
  agent,
  userId: initialUser,
  threadId,
  modelName,
  exportDir,
  onExit,
}: AppProps) {
  const { exit } = useApp();
  const nextId = useRef(0);
  const stamp = useCallback(
    (lines: readonly TranscriptLine[]): TranscriptEntry[] => lines.map((line) => ({ ...line, id: nextId.current++ })),
    [],
  );
  const [entries, setEntries] = useState<TranscriptEntry[]>(() =>
    stamp([
      { kind: 'info', text: `mnemo chat — talking as ${initialUser}; /help lists the commands` },
      ...(agent ? [] : [{ kind: 'error' as const, text: NO_MODEL_HELP }]),
    ]),
  );
  const append = useCallback(
    (lines: readonly TranscriptLine[]) => setEntries((previous) => [...previous, ...stamp(lines)]),
    [stamp],
  );
  const [userId, setUserId] = useState(initialUser);
  const [running, setRunning] = useState(false);
  const [exiting, setExiting] = useState(false);
  // Memory counts are re-read after every command and turn, not on every streamed token.
  const [version, setVersion] = useState(0);
  const turn = useAgentTurn({ agent, userId, threadId, onLines: append });
  const busy = turn.busy || running;
  // Key handlers read these refs, not state: keys can arrive before the render that would show them the new state.
  const inFlight = useRef<Promise<void> | undefined>(undefined);
  const leaving = useRef({ asked: false, done: false });

  const [counts, setCounts] = useState({ facts: 0, episodes: 0 });
  // biome-ignore lint/correctness/useExhaustiveDependencies: version and busy are when the counts change on disk
  useEffect(() => {
    let current = true;
    memoryCounts(memory, userId).then(
      (read) => current && setCounts(read),
      () => current && setCounts({ facts: 0, episodes: 0 }),
    );
    return () => {
      current = false;
    };
  }, [memory, userId, version, busy]);

  const quit = useCallback(() => {
    if (leaving.current.done) return;
    leaving.current.done = true;
    onExit?.({ settled: inFlight.current ?? Promise.resolve() });
    exit();
  }, [exit, onExit]);

  const askToLeave = (): void => {
    leaving.current.asked = true;
    setExiting(true);
  };

  useEffect(() => {
    if (exiting && !busy) quit();
  }, [exiting, busy, quit]);

  useInput((input, key) => {
    if (key.escape && turn.cancel()) return;
    if (!(key.ctrl && input === 'c')) return;
    if (inFlight.current === undefined) return askToLeave();
    if (leaving.current.asked) {
      // The cancelled turn still stores what was said: the caller waits for `settled` before closing the store.
      turn.cancel();
      quit();
      return;
    }
    // The agent stores the turn when it ends: let it finish unless asked twice.
    askToLeave();
    append([{ kind: 'info', text: 'quitting once this reply is stored; Ctrl+C again quits now' }]);
  });

  const perform = async (line: string): Promise<void> => {
    append([{ kind: 'user', text: line }]);
    if (!parseCommand(line)) {
      if (agent) await turn.send(line);
      else append(await keepUnanswered(line, { memory, userId, threadId }));
      setVersion((value) => value + 1);
      return;
    }
    const result = await runCommand(line, { memory, recommender, userId, exportDir });
    append(result.lines);
    setVersion((value) => value + 1);
    if (result.action?.type === 'switch-user') setUserId(result.action.userId);
    // Quit after this render, so the transcript's last lines reach the terminal first.
    if (result.action?.type === 'quit') askToLeave();
  };

  /** Starts a message or command unless one is in flight (then the input keeps the text). */
  const submit = (line: string): boolean => {
    if (inFlight.current !== undefined) return false;
    setRunning(true);
    inFlight.current = perform(line)
      .catch((error: unknown) => append([{ kind: 'error', text: errorLine(error) }]))
      .finally(() => {
        inFlight.current = undefined;
        setRunning(false);
      });
    return true;
  };

  return (
    <Box flexDirection="column">
      <Transcript entries={entries} />
      {turn.streaming ? <Text>{turn.streaming}</Text> : null}
      {/* On the way out only the transcript stays on the terminal. */}
      {exiting && !busy ? null : (
        <>
          <InputLine
            onSubmit={submit}
            busyLabel={busy ? (turn.busy ? 'thinking… (Esc cancels)' : 'working…') : undefined}
          />
          <StatusLine
            userId={userId}
            modelName={agent ? (modelName ?? 'model') : undefined}
            counts={counts}
            lastTurn={turn.lastTurn}
            busy={turn.busy}
          />
        </>
      )}
    </Box>
  );
}
