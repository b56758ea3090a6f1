import { render } from 'ink';
import { App, type AppProps } from './App.js';

/** Options of {@link runChat}: the App's props plus the terminal streams. */
export interface RunChatOptions extends Omit<AppProps, 'onExit'> {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

/** Renders the chat in the terminal and resolves when the user quits (`/quit` or Ctrl+C). */
export async function runChat({ stdin, stdout, stderr, ...props }: RunChatOptions): Promise<void> {
  // Ctrl+C is handled by the App, so a reply being written back to memory can finish before the process exits.
  const instance = render(<App {...props} />, { stdin, stdout, stderr, exitOnCtrlC: false, patchConsole: true });
  await instance.waitUntilExit();
}
