import { readFileSync } from 'node:fs';
import { join } from 'node:path';
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
  'unknown', 'Action', 'Adventure', 'Animation', "Children's", 'Comedy', 'Crime', 'Documentary', 'Drama', 'Fantasy',
  'Film-Noir', 'Horror', 'Musical', 'Mystery', 'Romance', 'Sci-Fi', 'Thriller', 'War', 'Western',
] as const;

/** The movies of u.item (ISO-8859-1, `|`-separated). */
export function readMovielensItems(directory: string): MovielensItem[] {
  const text = readFileSync(join(directory, 'u.item'), 'latin1');
  return text.split('\n').filter((line) => line.trim() !== '').map((line) => {
    const fields = line.split('|');
    const id = Number(fields[0]);
    const title = fields[1] ?? '';
    const year = /\((\d{4})\)\s*$/.exec(title)?.[1] ?? /(\d{4})$/.exec(fields[2] ?? '')?.[1];
    const genres = MOVIELENS_GENRES.filter((_, genre) => fields[5 + genre] === '1');
    return { index: id - 1, id, title, year: year ? Number(year) : null, releaseDate: fields[2] ?? '', url: fields[4] ?? '', genres };
  });
}

/** The users of u.user. */
export function readMovielensUsers(directory: string): MovielensUser[] {
  const text = readFileSync(join(directory, 'u.user'), 'latin1');
  return text.split('\n').filter((line) => line.trim() !== '').map((line) => {
    const [id = '0', age = '0', gender = '', occupation = '', zip = ''] = line.split('|');
    return { index: Number(id) - 1, id: Number(id), age: Number(age), gender, occupation, zip };
  });
}

/**
 * Ratings of a MovieLens ratings file (u.data or a fold's uK.base / uK.test: user, item, stars, unix seconds, tab
 * separated) over the full 943 × 1682 index space, so folds share indices.
 */
export function readMovielensRatings(path: string, counts: { userCount: number; itemCount: number }): RatingData {
  const lines = readFileSync(path, 'latin1').split('\n').filter((line) => line.trim() !== '');
  const users = new Int32Array(lines.length);
  const items = new Int32Array(lines.length);
  const stars = new Float32Array(lines.length);
  const times = new Float64Array(lines.length);
  lines.forEach((line, index) => {
    const [user = '', item = '', value = '', time = ''] = line.split('\t');
    users[index] = Number(user) - 1;
    items[index] = Number(item) - 1;
    stars[index] = Number(value);
    times[index] = Number(time) * 1000;
  });
  return { ...counts, users, items, stars, times };
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
