import type { Item, MatchCondition, PutOperation, SearchItem } from '@langchain/langgraph-checkpoint';
import { InputError } from './errors.js';

/** Namespace encoding, item values, JSON paths and filters of the LangGraph store, as SQL. */
export const FILTER_OPERATORS = ['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin'] as const;
export type FilterOperator = (typeof FILTER_OPERATORS)[number];

export interface ItemRow {
  id: number;
  namespace: string;
  key: string;
  value: string;
  created_at: number;
  updated_at: number;
}
export interface Where {
  sql: string;
  params: unknown[];
}
export interface PreparedPut {
  namespace: string;
  key: string;
  /** Serialised JSON, or null to delete. */
  value: string | null;
  texts: Array<{ path: string; text: string }>;
}

export const encodeNamespace = (labels: readonly string[]): string =>
  labels
    .map(
      (label) =>
        `${label.replace(/[%/\0]/g, (char) => `%${char.charCodeAt(0).toString(16).padStart(2, '0').toUpperCase()}`)}/`,
    )
    .join('');

export const decodeNamespace = (encoded: string): string[] => encoded.split('/').slice(0, -1).map(decodeURIComponent);

/** Namespaces under `prefix`: encodings in [prefix, prefix with its final '/' raised to '0'), '0' following '/'. */
export function namespaceRange(prefix: readonly string[]): Where {
  const lower = encodeNamespace(prefix);
  return { sql: 'i.namespace >= ? AND i.namespace < ?', params: [lower, `${lower.slice(0, -1)}0`] };
}

export function validateNamespace(
  namespace: unknown,
  what: string,
  allowEmpty: boolean,
): asserts namespace is string[] {
  if (!Array.isArray(namespace)) throw new InputError(`${what} must be an array of labels, got ${typeof namespace}`);
  if (namespace.length === 0 && !allowEmpty) throw new InputError(`${what} must have at least one label`);
  namespace.forEach((label: unknown, index) => {
    if (typeof label !== 'string') throw new InputError(`${what} label ${index} must be a string, got ${typeof label}`);
    if (label === '')
      throw new InputError(`${what} label ${index} is empty; namespace labels must be non-empty strings`);
  });
}

export function matchesCondition(condition: MatchCondition, namespace: readonly string[]): boolean {
  const { path } = condition;
  if (path.length > namespace.length) return false;
  const start = condition.matchType === 'prefix' ? 0 : namespace.length - path.length;
  return path.every((label, index) => label === '*' || namespace[start + index] === label);
}

export function compareNamespaces(a: readonly string[], b: readonly string[]): number {
  for (let index = 0; index < Math.min(a.length, b.length); index++) {
    if (a[index] !== b[index]) return a[index]! < b[index]! ? -1 : 1;
  }
  return a.length - b.length;
}

// ---- items ----

export function preparePut(operation: PutOperation, defaultFields: readonly string[]): PreparedPut {
  const base = { namespace: encodeNamespace(operation.namespace), key: operation.key };
  if (operation.value === null) return { ...base, value: null, texts: [] };
  const serialised = isRecord(operation.value) ? toJson(operation.value, 'the store value') : undefined;
  // Index the JSON form (dates as strings...), which is what get and search return.
  const stored: unknown = serialised === undefined ? undefined : JSON.parse(serialised);
  if (!isRecord(stored)) throw new InputError('a store value must be a JSON object, or null to delete the item');
  const paths =
    operation.index === false
      ? []
      : operation.index === undefined
        ? defaultFields
        : validatePaths(operation.index, 'index');
  const texts = paths.flatMap((path) => {
    const found = textsAt(stored, path).filter((text) => text.trim() !== '');
    return found.length === 1
      ? [{ path, text: found[0]! }]
      : found.map((text, index) => ({ path: `${path}.${index}`, text }));
  });
  return { ...base, value: serialised!, texts };
}

export function toItem(row: ItemRow): Item {
  return {
    value: JSON.parse(row.value) as Record<string, unknown>,
    key: row.key,
    namespace: decodeNamespace(row.namespace),
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

export const withScore = (row: ItemRow, score: number | undefined): SearchItem =>
  score === undefined ? toItem(row) : { ...toItem(row), score };

export function toJson(value: unknown, what: string): string {
  try {
    return JSON.stringify(value);
  } catch (error) {
    throw new InputError(`${what} is not JSON-serialisable: ${(error as Error).message}`, { cause: error });
  }
}

export function validateCount(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0)
    throw new InputError(`${what} must be a non-negative integer, got ${String(value)}`);
  return value;
}

export function validatePaths(paths: unknown, what: string): string[] {
  if (!Array.isArray(paths) || paths.some((path) => typeof path !== 'string' || path === '')) {
    throw new InputError(`${what} must be an array of JSON paths such as '$', 'text' or 'chapters[*].title'`);
  }
  return paths as string[];
}

// ---- indexed text ----

/** Splits `a.b[0].c{d,e}` into `a`, `b`, `[0]`, `c`, `{d,e}`. */
export function tokenizePath(path: string): string[] {
  return path.match(/\[[^\]]*\]|\{[^}]*\}|[^.[{]+/g) ?? [];
}

/**
 * The texts at a JSON path, following LangGraph's store path syntax: `$` is the whole value as JSON, `a.b` a nested
 * field, `list[*]` every element, `list[0]` / `list[-1]` one, `*` every field, `{a,b}` several fields. Objects found
 * at the end of the path are indexed as JSON, numbers and booleans as text.
 */
export function textsAt(value: unknown, path: string): string[] {
  const tokens = tokenizePath(path);
  // A leading '$' is the root, so '$.title' is 'title'.
  if (tokens[0] === '$') tokens.shift();
  const walk = (node: unknown, position: number): string[] => {
    if (node === null || node === undefined) return [];
    const token = tokens[position];
    if (token === undefined) {
      if (typeof node === 'string') return [node];
      if (typeof node === 'number' || typeof node === 'boolean') return [String(node)];
      return typeof node === 'object' ? [JSON.stringify(node, null, 2)] : [];
    }
    const next = (child: unknown): string[] => walk(child, position + 1);
    if (token.startsWith('[')) {
      if (!Array.isArray(node)) return [];
      const index = token.slice(1, -1).trim();
      if (index === '*') return node.flatMap(next);
      const at = Number.parseInt(index, 10);
      return Number.isNaN(at) ? [] : next(node.at(at));
    }
    if (typeof node !== 'object') return [];
    if (token === '*') return Object.values(node).flatMap(next);
    if (token.startsWith('{')) {
      return token
        .slice(1, -1)
        .split(',')
        .flatMap((field) =>
          next(
            field
              .trim()
              .split('.')
              .reduce<unknown>((child, part) => (isRecord(child) ? child[part] : undefined), node),
          ),
        );
    }
    return Object.hasOwn(node, token) ? next((node as Record<string, unknown>)[token]) : [];
  };
  return walk(value, 0);
}

/** An FTS5 query matching any word of `query`, or undefined when it has none. */
export function ftsMatch(query: string): string | undefined {
  const words = [...new Set(query.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [])].slice(0, 64);
  return words.length === 0 ? undefined : words.map((word) => `"${word}"`).join(' OR ');
}

// ---- filters ----

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A top-level field of the item with this name. */
export const FIELD = 'SELECT 1 FROM json_each(i.value) AS field WHERE field.key = ?';
/** The field equals one of the JSON values bound as an array (any number equals an equal number). */
export const EQUALS_ONE_OF = `EXISTS (${FIELD} AND EXISTS (SELECT 1 FROM json_each(?) AS wanted WHERE
  (field.type = wanted.type OR (field.type IN ('integer', 'real') AND wanted.type IN ('integer', 'real'))) AND field.value IS wanted.value))`;
export const COMPARATORS = { $gt: '>', $gte: '>=', $lt: '<', $lte: '<=' } as const;

/**
 * SQL for a LangGraph search filter: `{ field: value }` or `{ field: { $op: value } }` on top-level fields, every
 * condition required. Equality is JSON equality; `$gt`/`$gte`/`$lt`/`$lte` compare numbers with numbers and strings
 * with strings (a Date compares as its ISO string, which is how dates are stored); `$ne`/`$nin` match items without
 * the field. Values are bound, so the SQL text only depends on the filter's shape.
 */
export function whereClause(namespacePrefix: readonly string[], filter: Record<string, unknown> | undefined): Where {
  const conditions: string[] = [];
  const params: unknown[] = [];
  if (namespacePrefix.length > 0) {
    const range = namespaceRange(namespacePrefix);
    conditions.push(range.sql);
    params.push(...range.params);
  }
  if (filter !== undefined && !isRecord(filter))
    throw new InputError('a search filter must be an object of field conditions');
  for (const [field, expected] of Object.entries(filter ?? {})) {
    if (expected === undefined) continue;
    const operators =
      isRecord(expected) && Object.keys(expected).some((key) => key.startsWith('$'))
        ? Object.entries(expected)
        : [['$eq', expected] as const];
    for (const [operator, operand] of operators) {
      if (!(FILTER_OPERATORS as readonly string[]).includes(operator)) {
        throw new InputError(
          `unknown filter operator ${operator} on ${field}; use one of ${FILTER_OPERATORS.join(', ')}`,
        );
      }
      const condition = filterCondition(field, operator as FilterOperator, operand);
      conditions.push(condition.sql);
      params.push(...condition.params);
    }
  }
  return { sql: conditions.length > 0 ? conditions.join(' AND ') : '1', params };
}

export function filterCondition(field: string, operator: FilterOperator, operand: unknown): Where {
  if (operator === '$eq' || operator === '$ne' || operator === '$in' || operator === '$nin') {
    const many = operator === '$in' || operator === '$nin';
    if (many && !Array.isArray(operand))
      throw new InputError(`filter ${operator} on ${field} needs an array of values`);
    const sql = operator === '$eq' || operator === '$in' ? EQUALS_ONE_OF : `NOT ${EQUALS_ONE_OF}`;
    return { sql, params: [field, toJson(many ? operand : [operand], `filter value of ${field}`)] };
  }
  const value = operand instanceof Date ? operand.toISOString() : operand;
  const comparator = COMPARATORS[operator];
  if (typeof value === 'number' && Number.isFinite(value)) {
    return {
      sql: `EXISTS (${FIELD} AND field.type IN ('integer', 'real') AND field.value ${comparator} ?)`,
      params: [field, value],
    };
  }
  if (typeof value === 'string')
    return { sql: `EXISTS (${FIELD} AND field.type = 'text' AND field.value ${comparator} ?)`, params: [field, value] };
  throw new InputError(`filter ${operator} on ${field} needs a finite number, a string or a Date`);
}
