import { InputError } from '../memory/errors.js';
import type { Item } from './types.js';

/** Splits one CSV line (RFC 4180 quoting: "a ""quoted"" field", commas inside quotes). */
function csvFields(line: string, lineNumber: number): string[] {
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
  if (quoted) throw new InputError(`line ${lineNumber}: unterminated quoted field`, { code: 'invalid_input' });
  fields.push(field);
  return fields;
}

function toItem(raw: Record<string, unknown>, lineNumber: number): Item {
  const id = raw.id === undefined || raw.id === null ? '' : String(raw.id).trim();
  const title = typeof raw.title === 'string' ? raw.title.trim() : '';
  if (!id) throw new InputError(`line ${lineNumber}: "id" is required`, { code: 'invalid_input' });
  if (!title) throw new InputError(`line ${lineNumber}: "title" is required`, { code: 'invalid_input' });
  const tags = Array.isArray(raw.tags) ? raw.tags.map(String) : typeof raw.tags === 'string' && raw.tags.trim() ? raw.tags.split('|').map((tag) => tag.trim()).filter(Boolean) : [];
  const yearText = raw.year === undefined || raw.year === null || raw.year === '' ? null : Number(raw.year);
  if (yearText !== null && !Number.isInteger(yearText)) throw new InputError(`line ${lineNumber}: "year" must be a whole number, not ${JSON.stringify(raw.year)}`, { code: 'invalid_input' });
  const metadata = raw.metadata && typeof raw.metadata === 'object' && !Array.isArray(raw.metadata) ? (raw.metadata as Record<string, unknown>) : {};
  const description = typeof raw.description === 'string' && raw.description.trim() ? raw.description : null;
  return { id, title, description, tags, year: yearText, metadata };
}

/**
 * Parses a catalog file: JSONL (one {"id","title","description"?,"tags"?: [...],"year"?,"metadata"?} per line) or
 * CSV with a header naming id,title[,description,tags,year] (tags separated by "|"). Every line is checked before
 * anything is written: a bad line is an error naming it.
 */
export function parseCatalog(text: string, format: 'csv' | 'jsonl'): Item[] {
  const lines = text.split(/\r?\n/);
  const items: Item[] = [];
  const seen = new Set<string>();
  const add = (item: Item, lineNumber: number): void => {
    if (seen.has(item.id)) throw new InputError(`line ${lineNumber}: duplicate id "${item.id}"`, { code: 'invalid_input' });
    seen.add(item.id);
    items.push(item);
  };
  if (format === 'jsonl') {
    lines.forEach((line, index) => {
      if (line.trim() === '') return;
      let raw: unknown;
      try {
        raw = JSON.parse(line);
      } catch {
        throw new InputError(`line ${index + 1}: not valid JSON`, { code: 'invalid_input' });
      }
      if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new InputError(`line ${index + 1}: expected a JSON object`, { code: 'invalid_input' });
      add(toItem(raw as Record<string, unknown>, index + 1), index + 1);
    });
    return items;
  }
  const header = csvFields(lines[0] ?? '', 1).map((name) => name.trim().toLowerCase());
  if (!header.includes('id') || !header.includes('title')) throw new InputError('line 1: the CSV header must name at least id and title', { code: 'invalid_input' });
  lines.slice(1).forEach((line, index) => {
    if (line.trim() === '') return;
    const fields = csvFields(line, index + 2);
    if (fields.length !== header.length) throw new InputError(`line ${index + 2}: ${fields.length} fields, the header has ${header.length}`, { code: 'invalid_input' });
    add(toItem(Object.fromEntries(header.map((name, column) => [name, fields[column]])), index + 2), index + 2);
  });
  return items;
}
