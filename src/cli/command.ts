import type { MemoryStore } from '../../memory/index.js';
import { globalScope, personaScope, type Scope, userScope, validateScope, validateText } from '../../memory/index.js';
import type { EnvironmentName, MnemoConfig } from '../config.js';
import { InputError, UsageError } from '../errors.js';
import type { CliIo } from './io.js';

/** One `--name` option of a command: parsed by node's parseArgs, checked, typed and listed in `--help` from this. */
export type OptionSpec = StringOption | IntegerOption | BooleanOption;

interface OptionBase {
  /** The one-letter alias: `-u` for `--user`. */
  readonly short?: string;
  /** What the option does, one sentence; `--help` wraps it and appends the default and "(required)". */
  readonly description: string;
}

/** `--name VALUE`, read as a string. */
export interface StringOption extends OptionBase {
  readonly type: 'string';
  /** How help names the value: `--user U`. */
  readonly value: string;
  /** Checked before `run`: missing or blank is `--name is required` (exit 2); `values.name` is then a string. */
  readonly required?: boolean;
  /**
   * Options with the same group name exclude each other and one of them is required: `--user U | --persona NAME |
   * --global` (usage shows them in parentheses).
   */
  readonly oneOf?: string;
}

/** `--name N`, an integer checked against its range before `run` (a mistake is a usage error naming the range). */
export interface IntegerOption extends OptionBase {
  readonly type: 'integer';
  readonly value: string;
  readonly min: number;
  readonly max: number;
  /** Used when the option is absent, and shown in help; `values.name` is then a number. */
  readonly default?: number;
  readonly required?: boolean;
}

/** `--name`, a switch. */
export interface BooleanOption extends OptionBase {
  readonly type: 'boolean';
  readonly oneOf?: string;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** A positional argument, by the name `--help` shows (`"query"`, `FILE`). */
export interface PositionalSpec {
  readonly name: string;
  /** Absent arguments are the command's to explain (`catalog import` says which FILE is missing). @default false */
  readonly optional?: boolean;
}

type OptionValue<S extends OptionSpec> = S extends { type: 'boolean' }
  ? boolean
  : S extends { type: 'integer' }
    ? number
    : string;
type Always<S extends OptionSpec> = S extends { required: true } ? true : S extends { default: number } ? true : false;

/** The parsed flags of a command, typed from its option declarations, plus the global `--db`. */
export type OptionValues<O extends OptionSpecs> = {
  readonly [K in keyof O]: Always<O[K]> extends true ? OptionValue<O[K]> : OptionValue<O[K]> | undefined;
} & { readonly db: string | undefined };

/** Options of {@link CommandContext.openStore}. */
export interface OpenStoreOptions {
  /** Open with the configured embedder (needed to write or search). @default true */
  embedder?: boolean;
  /** How long to wait for another process's write lock, in milliseconds. @default 5000 */
  busyTimeoutMs?: number;
  /**
   * Whether the command may write. One that only reads opens a read-only file (or one in a read-only directory)
   * read-only; one that writes is refused with one line naming the file before anything is written. @default true
   */
  writes?: boolean;
}

/** What a command's `run` receives: checked flags, positionals, io, the resolved configuration and services. */
export interface CommandContext<O extends OptionSpecs = OptionSpecs> {
  readonly values: OptionValues<O>;
  readonly positionals: readonly string[];
  readonly io: CliIo;
  readonly config: MnemoConfig;
  /** Opens the database with the configured embedder (building the word-vector cache on first use). */
  openStore(options?: OpenStoreOptions): Promise<MemoryStore>;
}

/** One `mnemo <name>` command, declared once: parsing, checks, typed values and `--help` all come from this. */
export interface CommandSpec<O extends OptionSpecs = OptionSpecs> {
  readonly name: string;
  /** One line for the command list of `mnemo --help`. */
  readonly summary: string;
  /** What the command does: the paragraphs of `--help` under the usage line, as written (keep lines ≤ 110). */
  readonly description: string;
  readonly options: O;
  readonly positionals: readonly PositionalSpec[];
  /** Environment variables of the configuration that `--help` lists for this command, as `mnemo --help` says them. */
  readonly environment?: readonly EnvironmentName[];
  /** What `--help` ends with: model settings, alternative forms. */
  readonly notes?: string;
  /** Whether the command opens the database (its help then shows `--db`). @default true */
  readonly database?: boolean;
  // biome-ignore lint/suspicious/noConfusingVoidType: a command that returns nothing exits 0
  run(context: CommandContext<O>): Promise<number | void>;
}

/** A declared command, as the CLI keeps it in its list (its option types erased). */
export type Command = CommandSpec<OptionSpecs>;

/**
 * Declares a command. `run` gets `values` typed from `options`: a string option is `string | undefined` (a
 * `string` when required), an integer option a `number`, a boolean one `boolean | undefined`.
 *
 * @example
 * defineCommand({
 *   name: 'hello', summary: 'say hello', description: 'Says hello.\n', positionals: [{ name: 'NAME' }],
 *   options: { times: { type: 'integer', value: 'N', min: 1, max: 9, default: 1, description: 'how often' } },
 *   async run({ values, positionals, io }) { io.stdout.write(`hello ${positionals[0]}\n`.repeat(values.times)); },
 * });
 */
export function defineCommand<const O extends OptionSpecs>(spec: CommandSpec<O>): Command {
  // `run` is a method, so a command with narrower values is assignable: the CLI passes values parsed from `options`.
  return spec as unknown as Command;
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
export function textArgument(context: Pick<CommandContext, 'positionals'>, what: string): string {
  return checkArgument(() => validateText(context.positionals[0], what));
}

/**
 * Reads an integer flag whose range is known only at run time (bench's --user-episodes depends on --episodes); the
 * same check and message as a declared `integer` option.
 */
export function integerArgument(name: string, raw: string, range: { min: number; max: number }): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < range.min || value > range.max)
    throw new UsageError(`--${name} must be an integer from ${range.min} to ${range.max}, not "${raw}"`);
  return value;
}

export const JSON_OPTION = { json: { type: 'boolean', description: 'print JSON' } } as const satisfies OptionSpecs;
export const USER_OPTION = {
  user: { type: 'string', short: 'u', value: 'U', description: 'user id' },
} as const satisfies OptionSpecs;
/** Whose memory a command reads or writes: a user, a persona or the global scope (see {@link scopeFlag}). */
export const SCOPE_OPTIONS = {
  user: { ...USER_OPTION.user, oneOf: 'scope', description: "a user's memory" },
  persona: { type: 'string', value: 'NAME', oneOf: 'scope', description: "a persona's shared memory" },
  global: { type: 'boolean', oneOf: 'scope', description: 'the memory shared by everyone' },
} as const satisfies OptionSpecs;

/** What the help of a command that talks to the model ends with. */
export const MODEL_NOTE = 'Model: OPENAI_API_KEY and/or OPENAI_BASE_URL (any OpenAI-compatible server), MNEMO_MODEL.';

/** The one scope named by --user U, --persona NAME or --global (the CLI has checked that exactly one is given). */
export function scopeFlag(values: OptionValues<typeof SCOPE_OPTIONS>): Scope {
  if (values.global) return globalScope;
  if (values.persona !== undefined) return personaScope(values.persona);
  return userScope(values.user ?? '');
}

/** Checks the ids given to the shared --user and --persona options of any command, once, as usage mistakes. */
export function checkScopeIds(values: Readonly<Record<string, unknown>>): void {
  for (const kind of ['user', 'persona'] as const) {
    const id = values[kind];
    if (typeof id === 'string') checkArgument(() => validateScope({ kind, id }));
  }
}
