import type { TastePreference } from './constraints.js';
import { personaName, strongest, type UserContext } from './context.js';
import { recencyWeights } from './model/ease.js';
import { MINIMUM_AGGREGATE } from './model/privacy.js';
import type { Why } from './types.js';

/** How many people rated an item, and out of how many: the popularity a ranking backed off to. */
export interface Popularity {
  readonly raters: number;
  readonly people: number;
}

/** One ranked item's score parts, as {@link rankingReasons} explains them. */
export interface RankedItem {
  /** Model index; undefined for an item the model has not seen. */
  readonly index: number | undefined;
  /** The user's own (EASE) part of the score. */
  readonly user: number;
  /** The persona-popularity part (or the global one without a model). */
  readonly persona: number;
  /** Stated likes that lifted the item. */
  readonly likes: readonly TastePreference[];
  /** Everyone's ratings of the item, for a popularity reason without a persona. */
  readonly everyone: Popularity;
}

const FEW = `fewer than ${MINIMUM_AGGREGATE}`;

/** Popularity among everyone, said only as a count of at least {@link MINIMUM_AGGREGATE} people. */
function popularReason(everyone: Popularity, anyRatings: boolean): Why {
  if (everyone.raters >= MINIMUM_AGGREGATE)
    return { kind: 'popular', text: `popular: ${everyone.raters} of ${everyone.people} people rated it` };
  if (everyone.raters > 0) return { kind: 'popular', text: `rated, though by ${FEW} people so far` };
  return { kind: 'unrated', text: anyRatings ? 'nobody has rated it yet' : 'nobody has rated anything yet' };
}

/** Popularity within the user's persona; everyone's when the persona rests on nothing about the user. */
function personaReason(context: UserContext, item: RankedItem): Why {
  const personas = context.model?.bundle.personas;
  if (!personas || !context.personaWeights || !context.informed || item.index === undefined)
    return popularReason(item.everyone, item.everyone.people > 0);
  const persona = strongest(context.personaWeights);
  const raters = personas.itemCounts[persona * personas.itemCount + item.index]!;
  const name = personaName(persona);
  if (raters >= MINIMUM_AGGREGATE)
    return {
      kind: 'persona',
      persona: name,
      text: `popular with people like you (${name}): ${raters} of its ${personas.sizes[persona]} members rated it`,
    };
  if (raters > 0)
    return {
      kind: 'persona',
      persona: name,
      text: `rated by people like you (${name}), though by ${FEW} of them so far`,
    };
  return popularReason(item.everyone, true);
}

/**
 * The user's liked ratings that raised the item's EASE score most (recent ratings weigh more, as in the score); a
 * plain statement of co-rating when none of the items behind it were liked.
 */
function userReasons(context: UserContext, index: number): Why[] {
  const ease = context.model!.bundle.ease;
  if (!ease) return [{ kind: 'together', text: 'close to what you rated (by the factor model)' }];
  const weights = recencyWeights(context.known.map((rating) => rating.at.getTime()));
  const named = ease
    .contributions(
      context.itemRatings.map((rating) => rating.item),
      index,
    )
    .map((entry, position) => ({ position, weight: entry.weight * weights[position]! }))
    .filter((entry) => entry.weight > 0 && context.itemRatings[entry.position]!.stars >= 4)
    .sort((a, b) => b.weight - a.weight)
    .slice(0, 2)
    .map(({ position }): Why => {
      const rating = context.known[position]!;
      const title = context.titles.get(rating.itemId) ?? rating.itemId;
      return {
        kind: 'rating',
        itemId: rating.itemId,
        title,
        stars: rating.stars,
        text: `you rated "${title}" ${rating.stars}/5, and people who rated it often rated this too`,
      };
    });
  return named.length > 0
    ? named
    : [{ kind: 'together', text: 'people who rated what you rated often rated this too' }];
}

/**
 * Why an item was recommended: what carried its score first (the user's own items, or the popularity the ranking
 * backed off to, in their persona or among everyone), the other part when it carried a quarter or more, then the
 * stated likes that lifted it. Never empty.
 */
export function rankingReasons(context: UserContext, item: RankedItem): Why[] {
  const index = item.index;
  const parts: Array<{ value: number; reasons: () => Why[] }> = [
    { value: item.persona, reasons: () => [personaReason(context, item)] },
  ];
  // Without ratings the user part is 0 everywhere and is no reason.
  if (index !== undefined && context.model && context.itemRatings.length > 0)
    parts.push({ value: item.user, reasons: () => userReasons(context, index) });
  parts.sort((a, b) => b.value - a.value);
  const total = parts.reduce((sum, part) => sum + Math.max(0, part.value), 0);
  const why: Why[] = parts[0]!.reasons();
  const second = parts[1];
  if (second && second.value > 0 && second.value >= 0.25 * total) why.push(...second.reasons());
  for (const said of item.likes)
    why.push({ kind: 'memory', memoryId: said.memoryId, text: `you said: "${said.text}"` });
  return why;
}

/**
 * The user's ratings of the items most similar to this one (by item factors) that point the way the prediction
 * went: liked neighbours for a high prediction, disliked ones for a low one.
 */
export function ratingReasons(context: UserContext, index: number, direction: 1 | -1): Why[] {
  const factorization = context.model!.bundle.factorization;
  const factors = factorization.factors;
  const similarity = (other: number): number => {
    let dot = 0;
    let a = 0;
    let b = 0;
    for (let k = 0; k < factors; k++) {
      const x = factorization.itemFactors[index * factors + k]!;
      const y = factorization.itemFactors[other * factors + k]!;
      dot += x * y;
      a += x * x;
      b += y * y;
    }
    return dot / (Math.sqrt(a * b) || 1);
  };
  return context.itemRatings
    .map((rating, position) => ({
      rating,
      position,
      similarity: similarity(rating.item),
      weight: similarity(rating.item) * (rating.stars - 3) * direction,
    }))
    .filter((entry) => entry.similarity > 0 && entry.weight > 0 && entry.rating.item !== index)
    .sort((a, b) => b.weight - a.weight)
    .slice(0, 2)
    .map(({ rating, position }) => {
      const itemId = context.known[position]!.itemId;
      const title = context.titles.get(itemId) ?? itemId;
      return {
        kind: 'rating' as const,
        itemId,
        title,
        stars: rating.stars,
        text: `you rated "${title}" ${rating.stars}/5`,
      };
    });
}
