import { badLinesError, InputError } from '../memory/errors.js';
import type { Item } from './types.js';

/** What is wrong with one line; {@link parseCatalog} prefixes the line number and collects them. */
class LineProblem extends Error {}

/** Splits one CSV line (RFC 4180 quoting: "a ""quoted"" field", commas inside quotes). */
function csvFields(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let index = 0; index < line.length; index++) {
    const character = line[index]!;
    if (quoted) {
      if (character === '"' && line[index + 1] === '"') {
        field += '"';
        index++;
      } else if (character === '"') quoted = false;
      else field += character;
    } else if (character === '"' && field === '') quoted = true;
    else if (character === ',') {
      fields.push(field);
      field = '';
    } else field += character;
  }
  if (quoted) throw new LineProblem('unterminated quoted field');
  fields.push(field);
  return fields;
}

function toItem(raw: Record<string, unknown>): Item {
  const id = raw.id === undefined || raw.id === null ? '' : String(raw.id).trim();
  const title = typeof raw.title === 'string' ? raw.title.trim() : '';
  if (!id) throw new LineProblem('"id" is required');
  if (!title) throw new LineProblem('"title" is required');
  const tags = Array.isArray(raw.tags) ? raw.tags.map(String) : typeof raw.tags === 'string' && raw.tags.trim() ? raw.tags.split('|').map((tag) => tag.trim()).filter(Boolean) : [];
  const yearText = raw.year === undefined || raw.year === null || raw.year === '' ? null : Number(raw.year);
  if (yearText !== null && !Number.isInteger(yearText)) throw new LineProblem(`"year" must be a whole number, not ${JSON.stringify(raw.year)}`);
  const metadata = raw.metadata && typeof raw.metadata === 'object' && !Array.isArray(raw.metadata) ? (raw.metadata as Record<string, unknown>) : {};
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
 * CSV with a header naming id,title[,description,tags,year] (tags separated by "|"). Every line is checked before
 * anything is written: bad lines make one error that lists them by number.
 */
export function parseCatalog(text: string, format: 'csv' | 'jsonl', name = 'catalog'): Item[] {
  // Spreadsheet exports start with a byte order mark. An empty file is an empty catalog in either format.
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  if (lines.every((line) => line.trim() === '')) return [];
  let header: string[] = [];
  if (format === 'csv') {
    try {
      header = csvFields(lines[0] ?? '').map((column) => column.trim().toLowerCase());
    } catch (error) {
      throw new InputError(`${name}: line 1: ${(error as Error).message}`, { code: 'invalid_input' });
    }
    if (!header.includes('id') || !header.includes('title')) throw new InputError(`${name}: line 1: the CSV header must name at least id and title`, { code: 'invalid_input' });
  }
  const items: Item[] = [];
  const problems: string[] = [];
  const lineNumbers = new Map<string, number>();
  lines.forEach((line, index) => {
    if (line.trim() === '' || (format === 'csv' && index === 0)) return;
    try {
      let raw: Record<string, unknown>;
      if (format === 'jsonl') raw = jsonObject(line);
      else {
        const fields = csvFields(line);
        if (fields.length !== header.length) throw new LineProblem(`${fields.length} fields, the header has ${header.length}`);
        raw = Object.fromEntries(header.map((column, position) => [column, fields[position]]));
      }
      const item = toItem(raw);
      const first = lineNumbers.get(item.id);
      if (first !== undefined) throw new LineProblem(`duplicate id "${item.id}" (first on line ${first})`);
      lineNumbers.set(item.id, index + 1);
      items.push(item);
    } catch (error) {
      if (!(error instanceof LineProblem)) throw error;
      problems.push(`line ${index + 1}: ${error.message}`);
    }
  });
  if (problems.length > 0) throw badLinesError(name, problems);
  return items;
}
