import { mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { runCli } from '../../src/cli/main.js';
import { SHARED_GLOVE_CACHE_DIR } from './glove.js';

/** A data directory whose word-vector cache is the test run's shared one, and a database inside it. */
export function cliEnvironment(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const home = mkdtempSync(join(tmpdir(), 'mnemo-cli-'));
  mkdirSync(join(home, 'mnemo'), { recursive: true });
  mkdirSync(SHARED_GLOVE_CACHE_DIR, { recursive: true });
  symlinkSync(SHARED_GLOVE_CACHE_DIR, join(home, 'mnemo', 'cache'));
  return { HOME: home, XDG_DATA_HOME: home, MNEMO_DB: join(home, 'test.db'), ...extra };
}

/** Runs one mnemo command line in-process and captures what it printed; stdin as text, or as raw bytes. */
export async function mnemo(
  env: NodeJS.ProcessEnv,
  argv: string[],
  stdin: string | Buffer = '',
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    stdin: Readable.from([stdin]),
    env,
  });
  return { code, stdout, stderr };
}
