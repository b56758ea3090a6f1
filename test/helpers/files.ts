import { existsSync, readFileSync } from 'node:fs';

/** How often `needle` occurs, as raw bytes, in a database file and its write-ahead log: what a forget must leave at 0. */
export function occurrencesInDatabase(db: string, needle: string): number {
  let count = 0;
  for (const file of [db, `${db}-wal`]) {
    if (!existsSync(file)) continue;
    const bytes = readFileSync(file);
    for (let at = bytes.indexOf(needle); at >= 0; at = bytes.indexOf(needle, at + 1)) count += 1;
  }
  return count;
}
