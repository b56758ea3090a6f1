import { parseArgs } from 'node:util';
import { SqliteMemoryStore } from '../../memory/sqlite/store.js';
import { loadConfig } from '../config.js';
import { MnemoError, UsageError } from '../errors.js';
import { createEmbedder } from '../providers.js';
import { askCommand } from './commands/ask.js';
import { benchCommand } from './commands/bench.js';
import { chatCommand } from './commands/chat.js';
import { ingestCommand } from './commands/ingest.js';
import { exportCommand, forgetCommand, memoriesCommand, rememberCommand } from './commands/memories.js';
import { reindexCommand } from './commands/reindex.js';
import { catalogCommand, importCommand, personaCommand, predictCommand, rateCommand, recommendCommand, trainCommand } from './commands/recommender.js';
import { searchCommand } from './commands/search.js';
import { slackCommand } from './commands/slack.js';
import type { Command, CommandContext } from './command.js';
import { progressBar, type CliIo } from './io.js';

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
      parsed = parseArgs({ args, options: { ...GLOBAL_OPTIONS, ...command.options }, allowPositionals: true, strict: true }) as typeof parsed;
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
    const config = loadConfig({ env: io.env, ...(typeof parsed.values.db === 'string' ? { db: parsed.values.db } : {}) });
    const context: CommandContext = {
      values: parsed.values,
      positionals: parsed.positionals,
      io,
      config,
      async openStore(options = {}) {
        if (options.embedder === false) return SqliteMemoryStore.open(config.db, {});
        const bar = progressBar(io, 'preparing word vectors (first run only)');
        const embedder = await createEmbedder(config.embedder, { onProgress: ({ done, total }) => bar.update(done, total) });
        bar.finish();
        return SqliteMemoryStore.open(config.db, { embedder });
      },
    };
    return (await command.run(context)) ?? 0;
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`mnemo${command ? ` ${command.name}` : ''}: ${error.message}\n`);
      return 2;
    }
    if (error instanceof MnemoError) {
      io.stderr.write(`mnemo${command ? ` ${command.name}` : ''}: ${error.message}\n`);
      return 1;
    }
    io.stderr.write(`mnemo${command ? ` ${command.name}` : ''}: unexpected error: ${(error as Error)?.message ?? String(error)}\n`);
    if (io.env.MNEMO_DEBUG) io.stderr.write(`${(error as Error)?.stack ?? ''}\n`);
    return 1;
  }
}
