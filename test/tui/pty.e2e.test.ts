import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SqliteMemoryStore } from '../../memory/sqlite/store.js';
import { type MemoryKind, userScope } from '../../memory/types.js';
import { STORAGE_MODULES } from '../../src/storage.js';
import { cliEnvironment } from '../helpers/cli.js';
import { sharedGloveEmbedder } from '../helpers/glove.js';
import { startOpenAIServer } from '../helpers/openai-server.js';

const binary = join(import.meta.dirname, '../../dist/bin/mnemo.js');
// util-linux `script` gives the chat a real pseudo-terminal (raw mode, cursor control) without tmux.
const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

const running = new Set<ReturnType<typeof spawn>>();
afterEach(() => {
  // A failed test must not leave a chat running.
  for (const child of running) if (child.exitCode === null) child.kill('SIGKILL');
  running.clear();
});

// biome-ignore lint/suspicious/noControlCharactersInRegex: terminal escape sequences start with ESC
const plain = (text: string): string => text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');

/** Starts `mnemo chat` in a pseudo-terminal 120 columns wide; `until` waits for text on its screen. */
function startChat(env: NodeJS.ProcessEnv, args: string[]) {
  const command = `stty cols 120 rows 40; exec ${[process.execPath, binary, 'chat', ...args].map((part) => `'${part}'`).join(' ')}`;
  const child = spawn('script', ['-qfec', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  running.add(child);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    exited,
    output: () => plain(output),
    async until(condition: RegExp | ((screen: string) => boolean), timeoutMs = 20_000): Promise<void> {
      const met = typeof condition === 'function' ? condition : (screen: string) => condition.test(screen);
      const started = Date.now();
      while (!met(plain(output))) {
        if (Date.now() - started > timeoutMs)
          throw new Error(`timed out waiting for ${String(condition)}; screen so far:\n${plain(output).slice(-2000)}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
  };
}

/** Types a line, waits for the terminal to echo it, then presses Enter. */
async function type(chat: ReturnType<typeof startChat>, line: string): Promise<void> {
  const before = chat.output().split(line).length;
  chat.child.stdin.write(line);
  await chat.until((screen) => screen.split(line).length > before);
  chat.child.stdin.write('\r');
}

function noModelEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...cliEnvironment(), TERM: 'xterm-256color' };
  for (const name of ['OPENAI_API_KEY', 'OPENAI_BASE_URL', 'MNEMO_EMBEDDER', 'MNEMO_USER']) delete env[name];
  return env;
}

function modelEnvironment(server: { baseURL: string }): NodeJS.ProcessEnv {
  return {
    ...noModelEnvironment(),
    OPENAI_BASE_URL: server.baseURL,
    OPENAI_API_KEY: 'sk-test',
    MNEMO_MODEL: 'test-model',
  };
}

/** The texts of ada's memories of these kinds in the chat's database, read once the chat has exited. */
async function storedTexts(env: NodeJS.ProcessEnv, kinds?: MemoryKind[]): Promise<string[]> {
  const store = SqliteMemoryStore.open(env.MNEMO_DB!, { modules: STORAGE_MODULES });
  try {
    return (await store.list(userScope('ada'), kinds ? { kinds } : {})).map((memory) => memory.text);
  } finally {
    await store.close();
  }
}

beforeAll(async () => {
  await sharedGloveEmbedder(); // the chat then finds the word-vector cache instead of building it
});

describe.skipIf(!hasScript)('mnemo chat in a pseudo-terminal', () => {
  it('opens without a model, remembers, and /quit exits 0 with the fact stored', async () => {
    const env = noModelEnvironment();
    const chat = startChat(env, ['--user', 'ada']);
    await chat.until(/ada · no model: commands only · 0 facts/);
    expect(chat.output()).toContain('no model configured: set OPENAI_API_KEY');
    await type(chat, '/remember allergic to cats');
    await chat.until(/remembered: allergic to cats \(f\d+\)/);
    await chat.until(/1 fact, 0 episodes/);
    await type(chat, '/quit');
    expect(await chat.exited).toBe(0);
    expect(chat.output()).not.toMatch(/^\s+at /m);
    expect(await storedTexts(env)).toEqual(['allergic to cats']);
  });

  it('exits cleanly on Ctrl+C, keeping what was shown', async () => {
    const chat = startChat(noModelEnvironment(), ['--user', 'bob']);
    await chat.until(/bob · no model: commands only/);
    await type(chat, '/memories');
    await chat.until(/no facts or preferences stored for bob/);
    chat.child.stdin.write('\u0003');
    expect(await chat.exited).toBe(0);
    expect(chat.output()).toContain('no facts or preferences stored for bob');
  });

  it('keeps a message said without a model, a multi-line paste as one message with its line breaks', async () => {
    const env = noModelEnvironment();
    const chat = startChat(env, ['--user', 'ada']);
    await chat.until(/ada · no model: commands only · 0 facts/);
    // A paste must reach the chat's own line editor in raw mode: before that, the terminal's line discipline would
    // turn each \r into an Enter. The editor draws a probe key after its prompt once it has it.
    chat.child.stdin.write('x');
    await chat.until(/> x/);
    chat.child.stdin.write('\x7f');
    await chat.until((screen) => !/> x/.test(screen.slice(screen.lastIndexOf('> '))));
    chat.child.stdin.write('first line alpha\rsecond line beta\rthird line gamma');
    await chat.until(/> first line alpha⏎second line beta⏎third line gamma/);
    chat.child.stdin.write('\r');
    await chat.until(/0 facts, 1 episode/);
    expect(chat.output()).toMatch(/message kept in memory; no model configured/);
    await type(chat, '/quit');
    expect(await chat.exited).toBe(0);
    expect(await storedTexts(env, ['episode'])).toEqual(['first line alpha\nsecond line beta\nthird line gamma']);
  });

  it('a second Ctrl+C during a slow reply quits at once, keeping what was said', async () => {
    let answer: () => void = () => {};
    const answered = new Promise<void>((resolve) => (answer = resolve));
    const server = await startOpenAIServer({
      fallback: async () => {
        await answered;
        return { text: 'Too late.' };
      },
    });
    try {
      const env = modelEnvironment(server);
      const chat = startChat(env, ['--user', 'ada']);
      await chat.until(/ada · test-model · 0 facts/);
      await type(chat, 'My second favourite colour is mauve');
      await chat.until(() => server.chatRequests().length === 1);
      chat.child.stdin.write('\u0003');
      await chat.until(/Ctrl\+C again quits now/);
      chat.child.stdin.write('\u0003');
      expect(await chat.exited).toBe(0);
      expect(await storedTexts(env, ['episode'])).toEqual(['My second favourite colour is mauve']);
    } finally {
      answer();
      await server.close();
    }
  });

  it('talks to a real OpenAI-compatible model: streams the reply, shows the written fact and the turn in the status line', async () => {
    const server = await startOpenAIServer();
    try {
      server.respond(
        { text: 'Noted: no cats for you.', usage: { prompt_tokens: 321, completion_tokens: 7 } },
        { text: '{"changes": [{"op": "add", "kind": "profile", "text": "is allergic to cats"}]}' },
      );
      const env = modelEnvironment(server);
      const chat = startChat(env, ['--user', 'ada', '--thread', 'monday']);
      await chat.until(/ada · test-model · 0 facts/);
      expect(chat.output()).not.toContain('no model configured');
      await type(chat, "I'm allergic to cats.");
      await chat.until(/last turn \d+(\.\d)? s, \d+→\d+ tokens/);
      // The counts are re-read from the store once the turn ends, a moment after the turn's lines show.
      await chat.until(/1 fact, 2 episodes/);
      const screen = chat.output();
      expect(screen).toContain('Noted: no cats for you.');
      expect(screen).toContain('remembered: is allergic to cats');
      chat.child.stdin.write('\u0003');
      expect(await chat.exited).toBe(0);
      expect(await storedTexts(env, ['profile'])).toEqual(['is allergic to cats']);
    } finally {
      await server.close();
    }
  });
});
