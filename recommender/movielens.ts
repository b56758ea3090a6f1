import type { RatingData } from './model/data.js';
import { MOVIELENS_GENRES, type MovielensData, type MovielensUser } from './model/movielens.js';
import type { Demographics } from './model/personas.js';
import type { RecommenderStorage } from './storage.js';
import type { Item, Rating } from './types.js';

/** The age bands MovieLens' own documentation groups users by. */
function ageBand(age: number): string {
  return age < 18
    ? 'under 18'
    : age < 25
      ? '18-24'
      : age < 35
        ? '25-34'
        : age < 45
          ? '35-44'
          : age < 56
            ? '45-55'
            : '56+';
}

export function movielensDemographics(users: readonly MovielensUser[]): Demographics[] {
  return users.map((user) => ({ gender: user.gender, age: ageBand(user.age), occupation: user.occupation }));
}

/**
 * Writes MovieLens into the recommender's tables in one transaction: items "ml<movie id>" with their genres as tags,
 * users "ml<user id>" with age band, gender and occupation, and `ratings` (all of u.data unless given, e.g. a fold's
 * training part).
 */
export async function storeMovielens(
  storage: RecommenderStorage,
  movielens: MovielensData,
  ratings: RatingData = movielens.ratings,
): Promise<{ items: number; ratings: number; users: number }> {
  const items: Item[] = movielens.items.map((item) => ({
    id: `ml${item.id}`,
    title: item.title,
    description: null,
    tags: [...item.genres].filter((genre) => genre !== MOVIELENS_GENRES[0]),
    year: item.year,
    metadata: { releaseDate: item.releaseDate, url: item.url },
  }));
  const rows: Rating[] = Array.from(ratings.stars, (stars, index) => ({
    userId: `ml${ratings.users[index]! + 1}`,
    itemId: `ml${ratings.items[index]! + 1}`,
    stars,
    at: new Date(ratings.times[index]!),
    source: 'explicit' as const,
  }));
  const demographics = movielensDemographics(movielens.users);
  await storage.importDataset({
    items,
    ratings: rows,
    demographics: movielens.users.map((user, index) => ({
      userId: `ml${user.id}`,
      demographics: { ...demographics[index]! },
    })),
  });
  return { items: items.length, ratings: rows.length, users: movielens.users.length };
}
