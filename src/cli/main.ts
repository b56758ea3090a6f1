import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { databaseError, isPostgresLocation, readOnlyReason } from '../../memory/index.js';
import { ENVIRONMENT, type EnvironmentName, loadConfig, type MnemoConfig } from '../config.js';
import { ConfigError, MnemoError, UsageError } from '../errors.js';
import { openConfiguredStore } from '../providers.js';
import { openStore } from '../storage.js';
import { type Command, type CommandContext, checkScopeIds, integerArgument, type OptionSpecs } from './command.js';
import { askCommand } from './commands/ask.js';
import { benchCommand } from './commands/bench.js';
import { chatCommand } from './commands/chat.js';
import { ingestCommand } from './commands/ingest.js';
import { exportCommand, forgetCommand, memoriesCommand, rememberCommand } from './commands/memories.js';
import { migrateCommand } from './commands/migrate.js';
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
import { columns, commandHelp, environmentRows, GLOBAL_OPTIONS, groupFlags, optionRows } from './help.js';
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
  migrateCommand,
  catalogCommand,
  importCommand,
  rateCommand,
  predictCommand,
  recommendCommand,
  personaCommand,
  trainCommand,
  benchCommand,
];

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
function checkDatabasePath({ db: path, dbNamedBy: explicit }: MnemoConfig): void {
  if (!explicit || path === ':memory:' || isPostgresLocation(path) || existsSync(dirname(path))) return;
  const message = `${explicit} ${path}: directory ${dirname(path)} does not exist`;
  throw explicit === '--db' ? new UsageError(message) : new ConfigError(message);
}

/**
 * A message as one line: scripts read the first line of stderr, and a listing (a file's bad lines) stays readable
 * joined by "; " after its headline.
 */
function oneLine(message: string): string {
  const [headline = '', ...rest] = message.split(/\r?\n/).map((line) => line.trim());
  const details = rest.filter(Boolean);
  return details.length === 0 ? headline : `${headline}: ${details.join('; ')}`;
}

type ParsedLine = { values: Record<string, string | boolean | undefined>; positionals: string[] };

/** Parses a command's arguments with node's parseArgs, from the command's declared options and the global ones. */
function parseCommandLine(command: Command, args: readonly string[]): ParsedLine {
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const [name, spec] of Object.entries({ ...GLOBAL_OPTIONS, ...command.options } as OptionSpecs))
    options[name] = {
      type: spec.type === 'boolean' ? 'boolean' : 'string',
      ...(spec.short ? { short: spec.short } : {}),
    };
  try {
    return parseArgs({
      args: joinNegativeValues(args, options),
      options,
      allowPositionals: true,
      strict: true,
    }) as ParsedLine;
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0]!.replace(/\. To specify a positional.*$/, ''));
  }
}

/**
 * Checks a parsed command line against the declaration, as usage mistakes: the number of positionals, required
 * options, integer ranges (applying defaults), and `oneOf` groups. Returns the values `run` is typed to receive.
 */
function checkValues(command: Command, parsed: ParsedLine): Record<string, string | number | boolean | undefined> {
  const { positionals } = parsed;
  const min = command.positionals.filter((positional) => !positional.optional).length;
  const max = command.positionals.length;
  if (positionals.length < min || positionals.length > max) {
    throw new UsageError(
      positionals.length < min
        ? `mnemo ${command.name} needs ${min === 1 ? 'an argument' : `${min} arguments`} (see mnemo ${command.name} --help)`
        : `unexpected argument "${positionals[max]}" (see mnemo ${command.name} --help)`,
    );
  }
  const values: Record<string, string | number | boolean | undefined> = { ...parsed.values };
  if (typeof values.db === 'string' && values.db.trim() === '')
    throw new UsageError('--db needs a file path or a postgres:// URL');
  const given = new Map<string, string[]>();
  for (const [name, spec] of Object.entries(command.options)) {
    const raw = parsed.values[name];
    if (spec.type === 'boolean') {
      if (spec.oneOf !== undefined && raw === true) given.set(spec.oneOf, [...(given.get(spec.oneOf) ?? []), name]);
      continue;
    }
    if (spec.required && (typeof raw !== 'string' || raw.trim() === '')) throw new UsageError(`--${name} is required`);
    if (spec.type === 'string') {
      if (spec.oneOf !== undefined && raw !== undefined)
        given.set(spec.oneOf, [...(given.get(spec.oneOf) ?? []), name]);
      continue;
    }
    values[name] = typeof raw === 'string' ? integerArgument(name, raw, spec) : spec.default;
  }
  const groups = new Map<string, string[]>();
  for (const [name, spec] of Object.entries(command.options))
    if ('oneOf' in spec && spec.oneOf !== undefined) groups.set(spec.oneOf, [...(groups.get(spec.oneOf) ?? []), name]);
  for (const [group, members] of groups) {
    if ((given.get(group) ?? []).length !== 1)
      throw new UsageError(`give exactly one of ${groupFlags(command.options, members)}`);
  }
  return values;
}

/** `mnemo --help`: the commands, the global options, and every environment variable of the configuration. */
export function mainHelp(): string {
  const globalOptions = optionRows({
    db: GLOBAL_OPTIONS.db,
    help: { ...GLOBAL_OPTIONS.help, description: 'show help; `mnemo <command> --help` for a command' },
    version: { type: 'boolean', description: 'print the version' },
  });
  return `mnemo — a conversational agent with long-term memory, in one SQLite file or a PostgreSQL database

Usage: mnemo <command> [options]

Commands:
${columns(COMMANDS.map((command) => [command.name, command.summary]))}

Global options:
${columns(globalOptions)}

Environment:
${columns(environmentRows(Object.keys(ENVIRONMENT) as EnvironmentName[]))}
`;
}

/**
 * Runs one mnemo command line and returns the exit status: 0 done, 1 failed, 2 usage error. User mistakes are
 * one line on stderr, never a stack trace (set MNEMO_DEBUG=1 to see one for unexpected errors).
 */
export async function runCli(argv: readonly string[], io: CliIo, version = '0.0.0'): Promise<number> {
  const name = argv.find((arg, index) => !arg.startsWith('-') && argv[index - 1] !== '--db');
  const command = COMMANDS.find((candidate) => candidate.name === name);
  let config: MnemoConfig | undefined;
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
    const parsed = parseCommandLine(command, args);
    if (parsed.values.help) {
      io.stdout.write(commandHelp(command));
      return 0;
    }
    const values = checkValues(command, parsed);
    checkScopeIds(values);
    const db = typeof values.db === 'string' ? values.db : undefined;
    config = loadConfig({ env: io.env, ...(db !== undefined ? { db } : {}) });
    checkDatabasePath(config);
    const resolved = config;
    const context: CommandContext = {
      values: values as CommandContext['values'],
      positionals: parsed.positionals,
      io,
      config,
      async openStore({ embedder = true, busyTimeoutMs, writes = true } = {}) {
        // A command that only reads opens a file it may not write read-only; one that writes is refused by
        // openDatabase before anything is written.
        const readonly = !writes && existsSync(resolved.db) && readOnlyReason(resolved.db) !== undefined;
        const lock = { ...(busyTimeoutMs === undefined ? {} : { busyTimeoutMs }), ...(readonly ? { readonly } : {}) };
        if (!embedder) return openStore(resolved.db, lock);
        const bar = progressBar(io, 'preparing word vectors (first run only)');
        try {
          return await openConfiguredStore(resolved.db, resolved.embedder, {
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
      void io.stderr.write(`mnemo${command ? ` ${command.name}` : ''}: ${oneLine(message)}\n`);
    if (error instanceof UsageError) {
      say(error.message);
      return 2;
    }
    // A damaged file may only show when a query reaches the broken page, as a bare SQLite or sqlite-vec error.
    const fileError = config && !(error instanceof MnemoError) ? databaseError(config.db, error) : undefined;
    if (isBusy(error)) say(BUSY_MESSAGE);
    else if (fileError) say(fileError.message);
    else if (error instanceof MnemoError) say(error.message);
    else {
      say(`unexpected error: ${(error as Error)?.message ?? String(error)}`);
      if (config?.debug) io.stderr.write(`${(error as Error)?.stack ?? ''}\n`);
    }
    return 1;
  }
}
