import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { SqliteMemoryStore } from '../../memory/index.js';
import { loadConfig } from '../config.js';
import { ConfigError, MnemoError, UsageError } from '../errors.js';
import { openMemoryStore } from '../providers.js';
import { type Command, type CommandContext, checkScopeIds } from './command.js';
import { askCommand } from './commands/ask.js';
import { benchCommand } from './commands/bench.js';
import { chatCommand } from './commands/chat.js';
import { ingestCommand } from './commands/ingest.js';
import { exportCommand, forgetCommand, memoriesCommand, rememberCommand } from './commands/memories.js';
import {
  catalogCommand,
  importCommand,
  personaCommand,
  predictCommand,
  rateCommand,
  recommendCommand,
  trainCommand,
} from './commands/recommender.js';
import { reindexCommand } from './commands/reindex.js';
import { searchCommand } from './commands/search.js';
import { slackCommand } from './commands/slack.js';
import { type CliIo, progressBar } from './io.js';

export const COMMANDS: readonly Command[] = [
  chatCommand,
  askCommand,
  slackCommand,
  ingestCommand,
  searchCommand,
  rememberCommand,
  memoriesCommand,
  forgetCommand,
  exportCommand,
  reindexCommand,
  catalogCommand,
  importCommand,
  rateCommand,
  predictCommand,
  recommendCommand,
  personaCommand,
  trainCommand,
  benchCommand,
];

const GLOBAL_OPTIONS = { db: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;

/** What the CLI says when another process holds the write lock for longer than the busy timeout. */
const BUSY_MESSAGE = 'the database is busy (another mnemo process is writing); try again';

/** SQLite's SQLITE_BUSY (and its variants), also when wrapped in a StoreError. */
const isBusy = (error: unknown): boolean =>
  [error, (error as { cause?: unknown })?.cause].some((candidate) =>
    String((candidate as { code?: unknown })?.code).startsWith('SQLITE_BUSY'),
  );

/**
 * Joins a string option and a negative number after it (`--k -3` → `--k=-3`): node's parseArgs calls that value
 * ambiguous, and the command's own range check explains the mistake better.
 */
function joinNegativeValues(args: readonly string[], options: NonNullable<ParseArgsConfig['options']>): string[] {
  const joined: string[] = [];
  for (let index = 0; index < args.length; index++) {
    const arg = args[index]!;
    const next = args[index + 1];
    if (arg === '--') return [...joined, ...args.slice(index)];
    const name = arg.startsWith('--')
      ? arg.slice(2)
      : Object.keys(options).find((key) => arg === `-${options[key]!.short}`);
    if (name !== undefined && options[name]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      joined.push(`--${name}=${next}`);
      index++;
    } else {
      joined.push(arg);
    }
  }
  return joined;
}

/**
 * The database path a command line names. An explicit path (--db or MNEMO_DB) must lie in an existing directory:
 * a typo would otherwise create directories and an empty database. Only the default location is created.
 */
function checkDatabasePath(db: string | boolean | undefined, env: NodeJS.ProcessEnv, path: string): void {
  if (typeof db === 'string' && db.trim() === '') throw new UsageError('--db needs a file path');
  const explicit = typeof db === 'string' ? '--db' : env.MNEMO_DB?.trim() ? 'MNEMO_DB' : undefined;
  if (!explicit || path === ':memory:' || existsSync(dirname(path))) return;
  const message = `${explicit} ${path}: directory ${dirname(path)} does not exist`;
  throw explicit === '--db' ? new UsageError(message) : new ConfigError(message);
}

export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length));
  return `mnemo — a conversational agent with long-term memory, in one SQLite file

Usage: mnemo <command> [options]

Commands:
${COMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`).join('\n')}

Global options:
  --db PATH   database file (default: $MNEMO_DB, else $XDG_DATA_HOME/mnemo/mnemo.db,
              else ~/.local/share/mnemo/mnemo.db)
  -h, --help  show help; \`mnemo <command> --help\` for a command
  --version   print the version

Environment:
  MNEMO_DB                database file
  XDG_DATA_HOME           the data directory is $XDG_DATA_HOME/mnemo (else ~/.local/share/mnemo): the
                          database and, in cache/, the word-vector cache (41 MB, built on first use)
  MNEMO_EMBEDDER          glove (default: offline GloVe word vectors) or openai
  OPENAI_BASE_URL         OpenAI-compatible endpoint for MNEMO_EMBEDDER=openai (Ollama, vLLM, ...)
  OPENAI_API_KEY          its key
  MNEMO_EMBEDDING_MODEL   embedding model (default text-embedding-3-small)
  MNEMO_MODEL             chat model for chat, ask and slack (default gpt-4o-mini); a model is
                          configured by OPENAI_API_KEY and/or OPENAI_BASE_URL (any OpenAI-compatible server)
  MNEMO_USER              who you are in the terminal chat (default: your OS user name)
`;
}

/**
 * Runs one mnemo command line and returns the exit status: 0 done, 1 failed, 2 usage error. User mistakes are
 * one line on stderr, never a stack trace (set MNEMO_DEBUG=1 to see one for unexpected errors).
 */
export async function runCli(argv: readonly string[], io: CliIo, version = '0.0.0'): Promise<number> {
  const name = argv.find((arg, index) => !arg.startsWith('-') && argv[index - 1] !== '--db');
  const command = COMMANDS.find((candidate) => candidate.name === name);
  try {
    if (!name) {
      if (argv.includes('--version')) {
        io.stdout.write(`${version}\n`);
        return 0;
      }
      const asked = argv.includes('--help') || argv.includes('-h') || argv.length === 0;
      (asked ? io.stdout : io.stderr).write(mainHelp());
      return asked ? 0 : 2;
    }
    if (!command) throw new UsageError(`unknown command "${name}" (see mnemo --help)`);
    const args = argv.filter((arg, index) => !(arg === name && index === argv.indexOf(name)));
    let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
    try {
      const options = { ...GLOBAL_OPTIONS, ...command.options };
      parsed = parseArgs({
        args: joinNegativeValues(args, options),
        options,
        allowPositionals: true,
        strict: true,
      }) as typeof parsed;
    } catch (error) {
      throw new UsageError((error as Error).message.split('\n')[0]!.replace(/\. To specify a positional.*$/, ''));
    }
    if (parsed.values.help) {
      io.stdout.write(command.help);
      return 0;
    }
    const [min, max] = command.positionals;
    if (parsed.positionals.length < min || parsed.positionals.length > max) {
      throw new UsageError(
        parsed.positionals.length < min
          ? `mnemo ${command.name} needs ${min === 1 ? 'an argument' : `${min} arguments`} (see mnemo ${command.name} --help)`
          : `unexpected argument "${parsed.positionals[max]}" (see mnemo ${command.name} --help)`,
      );
    }
    checkScopeIds(parsed.values);
    const config = loadConfig({
      env: io.env,
      ...(typeof parsed.values.db === 'string' ? { db: parsed.values.db } : {}),
    });
    checkDatabasePath(parsed.values.db, io.env, config.db);
    const context: CommandContext = {
      values: parsed.values,
      positionals: parsed.positionals,
      io,
      config,
      async openStore({ embedder = true, busyTimeoutMs } = {}) {
        const lock = busyTimeoutMs === undefined ? {} : { busyTimeoutMs };
        if (!embedder) return SqliteMemoryStore.open(config.db, lock);
        const bar = progressBar(io, 'preparing word vectors (first run only)');
        try {
          return await openMemoryStore(config.db, config.embedder, {
            ...lock,
            onProgress: ({ done, total }) => bar.update(done, total),
          });
        } finally {
          bar.finish();
        }
      },
    };
    return (await command.run(context)) ?? 0;
  } catch (error) {
    const say = (message: string): void =>
      void io.stderr.write(`mnemo${command ? ` ${command.name}` : ''}: ${message}\n`);
    if (error instanceof UsageError) {
      say(error.message);
      return 2;
    }
    if (isBusy(error)) say(BUSY_MESSAGE);
    else if (error instanceof MnemoError) say(error.message);
    else {
      say(`unexpected error: ${(error as Error)?.message ?? String(error)}`);
      if (io.env.MNEMO_DEBUG) io.stderr.write(`${(error as Error)?.stack ?? ''}\n`);
    }
    return 1;
  }
}
