import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { badLinesError } from '../../memory/index.js';
import type { RatingData } from './data.js';

/** One MovieLens 100K movie (u.item). `index` is the dense item index (movie id − 1). */
export interface MovielensItem {
  readonly index: number;
  readonly id: number;
  readonly title: string;
  readonly year: number | null;
  readonly releaseDate: string;
  readonly url: string;
  readonly genres: readonly string[];
}

/** One MovieLens 100K user (u.user). `index` is the dense user index (user id − 1). */
export interface MovielensUser {
  readonly index: number;
  readonly id: number;
  readonly age: number;
  readonly gender: string;
  readonly occupation: string;
  readonly zip: string;
}

/** The genre columns of u.item, in order (u.genre). */
export const MOVIELENS_GENRES = [
  'unknown',
  'Action',
  'Adventure',
  'Animation',
  "Children's",
  'Comedy',
  'Crime',
  'Documentary',
  'Drama',
  'Fantasy',
  'Film-Noir',
  'Horror',
  'Musical',
  'Mystery',
  'Romance',
  'Sci-Fi',
  'Thriller',
  'War',
  'Western',
] as const;

/**
 * The `|`-separated lines of u.item or u.user. Their ids must count up from 1: ratings address movies and users by
 * id − 1.
 */
function numberedLines(directory: string, file: string, fieldCount: number): string[][] {
  const rows: string[][] = [];
  const problems: string[] = [];
  readFileSync(join(directory, file), 'latin1')
    .split('\n')
    .forEach((line, index) => {
      if (line.trim() === '') return;
      const fields = line.replace(/\r$/, '').split('|');
      // A line cut short (a truncated download) would otherwise pass as an item without genres.
      if (fields.length < fieldCount)
        problems.push(`line ${index + 1}: ${fields.length} "|"-separated fields, expected ${fieldCount} (truncated?)`);
      else if (fields[0] !== String(rows.length + 1))
        problems.push(
          `line ${index + 1}: id "${fields[0]}" where ${rows.length + 1} was expected (ids count up from 1)`,
        );
      rows.push(fields);
    });
  if (problems.length > 0) throw badLinesError(file, problems);
  return rows;
}

/** The movies of u.item (ISO-8859-1, `|`-separated). */
export function readMovielensItems(directory: string): MovielensItem[] {
  return numberedLines(directory, 'u.item', 5 + MOVIELENS_GENRES.length).map((fields) => {
    const id = Number(fields[0]);
    const title = fields[1] ?? '';
    const year = /\((\d{4})\)\s*$/.exec(title)?.[1] ?? /(\d{4})$/.exec(fields[2] ?? '')?.[1];
    const genres = MOVIELENS_GENRES.filter((_, genre) => fields[5 + genre] === '1');
    return {
      index: id - 1,
      id,
      title,
      year: year ? Number(year) : null,
      releaseDate: fields[2] ?? '',
      url: fields[4] ?? '',
      genres,
    };
  });
}

/** The users of u.user. */
export function readMovielensUsers(directory: string): MovielensUser[] {
  return numberedLines(directory, 'u.user', 5).map(([id = '0', age = '0', gender = '', occupation = '', zip = '']) => ({
    index: Number(id) - 1,
    id: Number(id),
    age: Number(age),
    gender,
    occupation,
    zip,
  }));
}

/**
 * Ratings of a MovieLens ratings file (u.data or a fold's uK.base / uK.test: user, item, stars, unix seconds, tab
 * separated) over the full 943 × 1682 index space, so folds share indices. Every line is checked first: bad lines
 * make one error that lists them by number.
 */
export function readMovielensRatings(path: string, counts: { userCount: number; itemCount: number }): RatingData {
  const lines = readFileSync(path, 'latin1').split('\n');
  const rows: Array<{ user: number; item: number; stars: number; time: number }> = [];
  const problems: string[] = [];
  const whole = (text: string | undefined, from: number, to: number): number | undefined => {
    const value = Number(text);
    return text !== undefined && /^\d+$/.test(text.trim()) && value >= from && value <= to ? value : undefined;
  };
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    const fields = line.replace(/\r$/, '').split('\t');
    const [user, item, stars, time] = [
      whole(fields[0], 1, counts.userCount),
      whole(fields[1], 1, counts.itemCount),
      whole(fields[2], 1, 5),
      whole(fields[3], 0, Number.MAX_SAFE_INTEGER),
    ];
    const problem =
      fields.length !== 4
        ? `expected 4 tab-separated fields (user, item, stars, time), found ${fields.length}`
        : user === undefined
          ? `user "${fields[0]}" is not a user id of u.user (1 to ${counts.userCount})`
          : item === undefined
            ? `item "${fields[1]}" is not a movie id of u.item (1 to ${counts.itemCount})`
            : stars === undefined
              ? `stars must be a whole number from 1 to 5, not "${fields[2]}"`
              : time === undefined
                ? `time must be unix seconds, not "${fields[3]}"`
                : undefined;
    if (problem) problems.push(`line ${index + 1}: ${problem}`);
    else rows.push({ user: user! - 1, item: item! - 1, stars: stars!, time: time! * 1000 });
  });
  if (problems.length > 0) throw badLinesError(basename(path), problems);
  return {
    ...counts,
    users: Int32Array.from(rows, (row) => row.user),
    items: Int32Array.from(rows, (row) => row.item),
    stars: Float32Array.from(rows, (row) => row.stars),
    times: Float64Array.from(rows, (row) => row.time),
  };
}

/** Everything the benchmark and `mnemo import movielens` need from a MovieLens 100K directory. */
export interface MovielensData {
  readonly items: MovielensItem[];
  readonly users: MovielensUser[];
  /** All of u.data. */
  readonly ratings: RatingData;
}

export function readMovielens(directory: string): MovielensData {
  const items = readMovielensItems(directory);
  const users = readMovielensUsers(directory);
  const counts = { userCount: users.length, itemCount: items.length };
  return { items, users, ratings: readMovielensRatings(join(directory, 'u.data'), counts) };
}
