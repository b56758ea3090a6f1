import { InputError } from './errors.js';
import { FACT_KINDS, type FactKind, type Scope } from './types.js';

/** Longest accepted user or persona id. */
export const MAX_SCOPE_ID = 200;
/** Longest accepted memory text, in characters (a long document should be split before it is stored). */
export const MAX_TEXT = 100_000;
/** Longest accepted speaker (`role`) of an episode. */
export const MAX_ROLE = 200;
/** Longest accepted session or source id. */
export const MAX_FIELD = 500;

export function validateScope(scope: Scope): Scope {
  if (scope.kind === 'global') return scope;
  if (typeof scope.id !== 'string' || scope.id.trim() === '')
    throw new InputError(`${scope.kind} id must be a non-empty string`);
  if (scope.id.length > MAX_SCOPE_ID)
    throw new InputError(`${scope.kind} id is longer than ${MAX_SCOPE_ID} characters`);
  // " ada" would silently be another user than "ada".
  if (scope.id !== scope.id.trim()) throw new InputError(`${scope.kind} id must not start or end with whitespace`);
  return scope;
}

export function validateText(text: unknown, what = 'text'): string {
  if (typeof text !== 'string' || text.trim() === '') throw new InputError(`${what} must be a non-empty string`);
  if (text.length > MAX_TEXT) throw new InputError(`${what} is longer than ${MAX_TEXT} characters`);
  return text;
}

/**
 * Milliseconds since the epoch of a date string, or NaN. Stricter than `Date.parse`, which moves an impossible
 * calendar date to a real one (2024-02-30 becomes 2024-03-01): the year, month and day written must exist.
 */
export function parseTime(value: string): number {
  const time = value.trim() === '' ? Number.NaN : Date.parse(value);
  const written = /^\s*([+-]\d{6}|\d{4})-(\d{2})-(\d{2})/.exec(value);
  if (Number.isNaN(time) || !written) return time;
  const [year, month, day] = [Number(written[1]), Number(written[2]) - 1, Number(written[3])];
  const date = new Date(0);
  date.setUTCFullYear(year, month, day); // an impossible day rolls over into the next month
  return date.getUTCMonth() === month && date.getUTCDate() === day ? time : Number.NaN;
}

/** Milliseconds since the epoch of a Date or ISO-8601 string; `fallback` when absent. */
export function validateTime(value: Date | string | undefined, fallback: Date, what = 'time'): number {
  if (value === undefined) return fallback.getTime();
  const time = value instanceof Date ? value.getTime() : typeof value === 'string' ? parseTime(value) : Number.NaN;
  if (Number.isNaN(time))
    throw new InputError(
      `${what} is not a valid date: ${JSON.stringify(value)} (use ISO-8601, e.g. 2024-05-08T13:56:00Z)`,
    );
  return time;
}

export function validateOptionalString(value: unknown, what: string, max = MAX_FIELD): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new InputError(`${what} must be a string`);
  if (value.length > max) throw new InputError(`${what} is longer than ${max} characters`);
  return value;
}

export function validateFactKind(kind: unknown): FactKind {
  if (kind === undefined) return 'fact';
  if (!FACT_KINDS.includes(kind as FactKind))
    throw new InputError(`kind must be one of ${FACT_KINDS.join(', ')}, not ${JSON.stringify(kind)}`);
  return kind as FactKind;
}

export function validateK(k: unknown, max = 1000): number {
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1 || k > max)
    throw new InputError(`k must be an integer from 1 to ${max}`);
  return k;
}
