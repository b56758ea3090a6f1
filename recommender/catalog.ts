import { badLinesError, InputError } from '../memory/index.js';
import type { Item } from './types.js';

/** What is wrong with one record; {@link parseCatalog} prefixes the line it starts on and collects them. */
class LineProblem extends Error {}

/** One CSV record and the line it starts on; `problem` when it cannot be split into fields. */
type CsvRecord =
  | { readonly line: number; readonly fields: string[]; readonly blank: boolean }
  | { readonly line: number; readonly problem: string };

/**
 * Splits CSV text into records (RFC 4180): quoted fields may hold commas, doubled quotes ("a ""b""") and line
 * breaks, so one record can span lines. A quote left open runs to the end of the text and fails the record it opened.
 */
function csvRecords(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let anyQuoted = false;
  let line = 1;
  let start = 1;
  const finish = (): void => {
    fields.push(field);
    records.push({ line: start, fields, blank: !anyQuoted && fields.length === 1 && field.trim() === '' });
    fields = [];
    field = '';
    anyQuoted = false;
  };
  for (let index = 0; index < text.length; index++) {
    const character = text[index]!;
    if (character === '\n') line++;
    if (quoted) {
      if (character === '"' && text[index + 1] === '"') {
        field += '"';
        index++;
      } else if (character === '"') quoted = false;
      else field += character;
    } else if (character === '"' && field === '') quoted = anyQuoted = true;
    else if (character === ',') {
      fields.push(field);
      field = '';
    } else if (character === '\n') {
      finish();
      start = line;
    } else field += character;
  }
  if (quoted) records.push({ line: start, problem: 'unterminated quoted field' });
  else if (field !== '' || fields.length > 0 || anyQuoted) finish();
  return records;
}

/** A record of the file, read into an object when checked. */
interface Row {
  readonly line: number;
  read(): Record<string, unknown>;
}

function csvRows(text: string, name: string): Row[] {
  const [first, ...records] = csvRecords(text);
  if (!first || 'problem' in first)
    throw new InputError(`${name}: line 1: ${first?.problem ?? 'no header'}`, { code: 'invalid_input' });
  const header = first.fields.map((column) => column.trim().toLowerCase());
  if (!header.includes('id') || !header.includes('title'))
    throw new InputError(`${name}: line 1: the CSV header must name at least id and title`, { code: 'invalid_input' });
  return records
    .filter((record) => 'problem' in record || !record.blank)
    .map((record) => ({
      line: record.line,
      read: () => {
        if ('problem' in record) throw new LineProblem(record.problem);
        if (record.fields.length !== header.length)
          throw new LineProblem(`${record.fields.length} fields, the header has ${header.length}`);
        return Object.fromEntries(header.map((column, position) => [column, record.fields[position]]));
      },
    }));
}

function jsonlRows(text: string): Row[] {
  return text
    .split('\n')
    .map((line, index) => ({ line: index + 1, read: () => jsonObject(line), blank: line.trim() === '' }))
    .filter((row) => !row.blank);
}

function toItem(raw: Record<string, unknown>): Item {
  const id = raw.id === undefined || raw.id === null ? '' : String(raw.id).trim();
  const title = typeof raw.title === 'string' ? raw.title.trim() : '';
  if (!id) throw new LineProblem('"id" is required');
  if (!title) throw new LineProblem('"title" is required');
  const tags = Array.isArray(raw.tags)
    ? raw.tags.map(String)
    : typeof raw.tags === 'string' && raw.tags.trim()
      ? raw.tags
          .split('|')
          .map((tag) => tag.trim())
          .filter(Boolean)
      : [];
  const yearText = raw.year === undefined || raw.year === null || raw.year === '' ? null : Number(raw.year);
  if (yearText !== null && !Number.isInteger(yearText))
    throw new LineProblem(`"year" must be a whole number, not ${JSON.stringify(raw.year)}`);
  const metadata =
    raw.metadata && typeof raw.metadata === 'object' && !Array.isArray(raw.metadata)
      ? (raw.metadata as Record<string, unknown>)
      : {};
  const description = typeof raw.description === 'string' && raw.description.trim() ? raw.description : null;
  return { id, title, description, tags, year: yearText, metadata };
}

function jsonObject(line: string): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    throw new LineProblem('not valid JSON');
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new LineProblem('expected a JSON object');
  return raw as Record<string, unknown>;
}

/**
 * Parses a catalog file: JSONL (one {"id","title","description"?,"tags"?: [...],"year"?,"metadata"?} per line) or
 * CSV with a header naming id,title[,description,tags,year] (tags separated by "|"; quoted fields may span lines).
 * Every record is checked before anything is written: bad ones make one error that lists them by the line they
 * start on.
 */
export function parseCatalog(text: string, format: 'csv' | 'jsonl', name = 'catalog'): Item[] {
  // Spreadsheet exports start with a byte order mark. An empty file is an empty catalog in either format.
  const source = text.replace(/^\uFEFF/, '').replace(/\r\n/g, '\n');
  if (source.trim() === '') return [];
  const rows = format === 'csv' ? csvRows(source, name) : jsonlRows(source);
  const items: Item[] = [];
  const problems: string[] = [];
  const lineNumbers = new Map<string, number>();
  for (const row of rows) {
    try {
      const item = toItem(row.read());
      const first = lineNumbers.get(item.id);
      if (first !== undefined) throw new LineProblem(`duplicate id "${item.id}" (first on line ${first})`);
      lineNumbers.set(item.id, row.line);
      items.push(item);
    } catch (error) {
      if (!(error instanceof LineProblem)) throw error;
      problems.push(`line ${row.line}: ${error.message}`);
    }
  }
  if (problems.length > 0) throw badLinesError(name, problems);
  return items;
}
