import type { ParseArgsConfig } from 'node:util';
import type { SqliteMemoryStore } from '../../memory/sqlite/store.js';
import type { MnemoConfig } from '../config.js';
import { UsageError } from '../errors.js';
import type { CliIo } from './io.js';

type OptionSpecs = NonNullable<ParseArgsConfig['options']>;

/** What a command's `run` receives: parsed flags, positionals, io, and lazily built services. */
export interface CommandContext {
  readonly values: Record<string, string | boolean | undefined>;
  readonly positionals: readonly string[];
  readonly io: CliIo;
  readonly config: MnemoConfig;
  /** Opens the database with the configured embedder (building the word-vector cache on first use). */
  openStore(options?: { embedder?: boolean }): Promise<SqliteMemoryStore>;
}

/** One `mnemo <name>` command. Its `help` is printed verbatim by `--help`. */
export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly help: string;
  readonly options: OptionSpecs;
  /** Positional arguments the command takes: [min, max]. */
  readonly positionals: readonly [number, number];
  run(context: CommandContext): Promise<number | void>;
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
