import { InputError } from './errors.js';
import { FACT_KINDS, type FactKind, type Scope } from './types.js';

/** Longest accepted user or persona id. */
export const MAX_SCOPE_ID = 200;
/** Longest accepted memory text, in characters (a long document should be split before it is stored). */
export const MAX_TEXT = 100_000;

export function validateScope(scope: Scope): Scope {
  if (scope.kind === 'global') return scope;
  if (typeof scope.id !== 'string' || scope.id.trim() === '') throw new InputError(`${scope.kind} id must be a non-empty string`);
  if (scope.id.length > MAX_SCOPE_ID) throw new InputError(`${scope.kind} id is longer than ${MAX_SCOPE_ID} characters`);
  return scope;
}

export function validateText(text: unknown, what = 'text'): string {
  if (typeof text !== 'string' || text.trim() === '') throw new InputError(`${what} must be a non-empty string`);
  if (text.length > MAX_TEXT) throw new InputError(`${what} is longer than ${MAX_TEXT} characters`);
  return text;
}

/** Milliseconds since the epoch of a Date or ISO-8601 string; `fallback` when absent. */
export function validateTime(value: Date | string | undefined, fallback: Date, what = 'time'): number {
  if (value === undefined) return fallback.getTime();
  const time = value instanceof Date ? value.getTime() : typeof value === 'string' && value.trim() !== '' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(time)) throw new InputError(`${what} is not a valid date: ${JSON.stringify(value)} (use ISO-8601, e.g. 2024-05-08T13:56:00Z)`);
  return time;
}

export function validateOptionalString(value: unknown, what: string, max = 500): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new InputError(`${what} must be a string`);
  if (value.length > max) throw new InputError(`${what} is longer than ${max} characters`);
  return value;
}

export function validateFactKind(kind: unknown): FactKind {
  if (kind === undefined) return 'fact';
  if (!FACT_KINDS.includes(kind as FactKind)) throw new InputError(`kind must be one of ${FACT_KINDS.join(', ')}, not ${JSON.stringify(kind)}`);
  return kind as FactKind;
}

export function validateK(k: unknown, max = 1000): number {
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1 || k > max) throw new InputError(`k must be an integer from 1 to ${max}`);
  return k;
}
