import type { ParseArgsConfig } from 'node:util';
import type { SqliteMemoryStore } from '../../memory/index.js';
import { globalScope, personaScope, type Scope, userScope, validateScope, validateText } from '../../memory/index.js';
import type { MnemoConfig } from '../config.js';
import { InputError, UsageError } from '../errors.js';
import type { CliIo } from './io.js';

type OptionSpecs = NonNullable<ParseArgsConfig['options']>;

/** Options of {@link CommandContext.openStore}. */
export interface OpenStoreOptions {
  /** Open with the configured embedder (needed to write or search). @default true */
  embedder?: boolean;
  /** How long to wait for another process's write lock, in milliseconds. @default 5000 */
  busyTimeoutMs?: number;
}

/** What a command's `run` receives: parsed flags, positionals, io, and lazily built services. */
export interface CommandContext {
  readonly values: Record<string, string | boolean | undefined>;
  readonly positionals: readonly string[];
  readonly io: CliIo;
  readonly config: MnemoConfig;
  /** Opens the database with the configured embedder (building the word-vector cache on first use). */
  openStore(options?: OpenStoreOptions): Promise<SqliteMemoryStore>;
}

/** One `mnemo <name>` command. Its `help` is printed verbatim by `--help`. */
export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly help: string;
  readonly options: OptionSpecs;
  /** Positional arguments the command takes: [min, max]. */
  readonly positionals: readonly [number, number];
  // biome-ignore lint/suspicious/noConfusingVoidType: a command that returns nothing exits 0
  run(context: CommandContext): Promise<number | void>;
}

/** Runs a library validator on a command-line argument: what it rejects is a usage mistake (exit 2), not a failure. */
export function checkArgument<T>(validate: () => T): T {
  try {
    return validate();
  } catch (error) {
    if (error instanceof InputError) throw new UsageError(error.message);
    throw error;
  }
}

/** The command's text argument (a fact, a query): non-empty and within the stored length. */
export function textArgument(context: CommandContext, what: string): string {
  return checkArgument(() => validateText(context.positionals[0], what));
}

/** Reads a required string flag or explains which one is missing. */
export function requireFlag(context: CommandContext, name: string): string {
  const value = context.values[name];
  if (typeof value !== 'string' || value.trim() === '') throw new UsageError(`--${name} is required`);
  return value;
}

/** Reads an optional positive integer flag. */
export function integerFlag(context: CommandContext, name: string, fallback: number, range: [number, number]): number {
  const raw = context.values[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (typeof raw !== 'string' || !Number.isInteger(value) || value < range[0] || value > range[1]) {
    throw new UsageError(`--${name} must be an integer from ${range[0]} to ${range[1]}, not "${String(raw)}"`);
  }
  return value;
}

export const JSON_OPTION = { json: { type: 'boolean' } } as const satisfies OptionSpecs;
export const USER_OPTION = { user: { type: 'string', short: 'u' } } as const satisfies OptionSpecs;
/** Whose memory a command reads or writes: a user, a persona or the global scope (see {@link scopeFlag}). */
export const SCOPE_OPTIONS = {
  ...USER_OPTION,
  persona: { type: 'string' },
  global: { type: 'boolean' },
} as const satisfies OptionSpecs;

/** {@link SCOPE_OPTIONS} in a usage line. */
export const SCOPE_USAGE = '(--user U | --persona NAME | --global)';
/** The help lines of {@link SCOPE_OPTIONS}, aligned with the `--db` lines below them. */
export const SCOPE_HELP = `  -u, --user U         a user's memory (one of --user, --persona, --global is required)
      --persona NAME   a persona's shared memory
      --global         the memory shared by everyone
`;

/** The help lines every command that opens the database ends with (as the top-level help says). */
export const DB_HELP = `      --db PATH        database file (default: $MNEMO_DB, else $XDG_DATA_HOME/mnemo/mnemo.db,
                       else ~/.local/share/mnemo/mnemo.db)
  -h, --help           show this help
`;

/** The one scope named by --user U, --persona NAME or --global. */
export function scopeFlag(context: CommandContext): Scope {
  const { user, persona, global } = context.values;
  if ([user !== undefined, persona !== undefined, global === true].filter(Boolean).length !== 1) {
    throw new UsageError('give exactly one of --user U, --persona NAME, --global');
  }
  if (global) return globalScope;
  return typeof persona === 'string' ? personaScope(persona) : userScope(requireFlag(context, 'user'));
}

/** Checks the ids given to the shared --user and --persona options of any command, once, as usage mistakes. */
export function checkScopeIds(values: CommandContext['values']): void {
  for (const kind of ['user', 'persona'] as const) {
    const id = values[kind];
    if (typeof id === 'string') checkArgument(() => validateScope({ kind, id }));
  }
}
