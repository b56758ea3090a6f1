import { render } from 'ink';
import { App, type AppProps } from './App.js';

/** Options of {@link runChat}: the App's props plus the terminal streams. */
export interface RunChatOptions extends Omit<AppProps, 'onExit'> {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  /** Longest wait, after the chat closes, for the work in flight to store what was said. @default 5000 */
  settleTimeoutMs?: number;
}

/**
 * Renders the chat in the terminal and resolves when the user has quit (`/quit` or Ctrl+C) and the work in flight
 * has ended (a cancelled turn stores the message in its last steps), or after `settleTimeoutMs`: only then may the
 * caller close the store.
 */
export async function runChat({
  stdin,
  stdout,
  stderr,
  settleTimeoutMs = 5000,
  ...props
}: RunChatOptions): Promise<void> {
  let settled: Promise<void> = Promise.resolve();
  // Ctrl+C is handled by the App, so a reply being written back to memory can finish before the process exits.
  const instance = render(<App {...props} onExit={(exit) => (settled = exit.settled)} />, {
    stdin,
    stdout,
    stderr,
    exitOnCtrlC: false,
    patchConsole: true,
  });
  await instance.waitUntilExit();
  let timer: NodeJS.Timeout | undefined;
  // Quitting never hangs on a model or a store that does not answer.
  await Promise.race([settled, new Promise<void>((resolve) => (timer = setTimeout(resolve, settleTimeoutMs)))]);
  clearTimeout(timer);
}
