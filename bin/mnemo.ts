#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { runCli } from '../src/cli/main.js';

// The thin entry: hand argv and the real process streams to the CLI, set the exit status.
// A reader that stops early (`mnemo memories | head`) closes the pipe: that ends the output, not in a crash.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(process.exitCode ?? 0);
});
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};
process.exitCode = await runCli(
  process.argv.slice(2),
  { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env },
  version,
);
