import { matchingLikes, type TastePreference } from './constraints.js';
import type { UserContext } from './context.js';
import type { Popularity } from './explain.js';
import { clampStars } from './model/data.js';
import { rankingScores } from './model/ranking.js';
import type { Item } from './types.js';

/** Ranking lift of an item per stated like it matches, on the 0–1 scale of the catalog's scores. */
export const LIKE_BOOST = 0.1;

/** A user's scores over the catalog, parallel to its items, with the parts explanations need. */
export interface CatalogRanking {
  /** What recommendations are ranked by: the top-k score rescaled to 0–1 over the catalog, plus the like lift. */
  readonly scores: Float64Array;
  /** The user's own (EASE) part of the raw score. */
  readonly user: Float64Array;
  /** The popularity part (persona, or everyone's without a model). */
  readonly persona: Float64Array;
  /** Stated likes each item matches. */
  readonly likes: ReadonlyArray<readonly TastePreference[]>;
  /** How many people rated the item at the last training (or now, without a model), out of how many. */
  everyone(position: number): Popularity;
}

/** How many users rated each item, and how many rated anything (`RecommenderStorage.raters`). */
export interface Raters {
  readonly byItem: ReadonlyMap<string, number>;
  readonly people: number;
}

/** Whether {@link rankCatalog} ranks `context` by everyone's popularity, and so needs the stored {@link Raters}. */
export function ranksByPopularity(context: UserContext): boolean {
  return !(context.model && context.personaWeights && context.vector);
}

/**
 * {@link rankingScores} over the catalog: items the model has not seen score as nobody's pick, and without a model
 * every item scores its global popularity (`raters`, required when {@link ranksByPopularity}). Rescaled to 0–1 over
 * the catalog (order is unchanged), plus {@link LIKE_BOOST} for each stated like an item matches.
 */
export function rankCatalog(context: UserContext, items: readonly Item[], raters?: Raters): CatalogRanking {
  const model = context.model;
  const user = new Float64Array(items.length);
  const persona = new Float64Array(items.length);
  let everyone: (position: number) => Popularity;
  if (model && context.personaWeights && context.vector) {
    const { personas, factorization } = model.bundle;
    const vector = context.vector;
    const indices = items.map((item) => model.itemIndex.get(item.id));
    const parts = rankingScores(model.bundle, {
      items: context.itemRatings.map((rating) => rating.item),
      times: context.known.map((rating) => rating.at.getTime()),
      personaWeights: context.personaWeights,
      // Catalogs too large for EASE rank a user's own part by predicted stars, rescaled to 0–1.
      fallback: (item) => (clampStars(factorization.rawFor(vector, item)) - 1) / 4,
    });
    indices.forEach((index, position) => {
      if (index === undefined) return;
      user[position] = parts.user[index]!;
      persona[position] = parts.persona[index]!;
    });
    const people = personas.sizes.reduce((sum, size) => sum + size, 0);
    everyone = (position) => {
      const index = indices[position];
      return { raters: index === undefined ? 0 : personas.raters(index), people };
    };
  } else {
    if (!raters) throw new Error('rankCatalog: ranking by popularity needs the raters');
    const { byItem: counts, people } = raters;
    for (const [position, item] of items.entries())
      persona[position] = (counts.get(item.id) ?? 0) / Math.max(1, people);
    everyone = (position) => ({ raters: counts.get(items[position]!.id) ?? 0, people });
  }
  let top = -Infinity;
  let bottom = Infinity;
  const raw = Float64Array.from(items, (_, position) => {
    const value = user[position]! + persona[position]!;
    top = Math.max(top, value);
    bottom = Math.min(bottom, value);
    return value;
  });
  const likes = items.map((item) =>
    context.preferences.length === 0 ? [] : matchingLikes(item.tags, context.preferences),
  );
  const scores = Float64Array.from(
    raw,
    (value, position) => (top > bottom ? (value - bottom) / (top - bottom) : 0) + LIKE_BOOST * likes[position]!.length,
  );
  return { scores, user, persona, likes, everyone };
}
