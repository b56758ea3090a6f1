import type { Rating } from './types.js';

/** Most weight content similarity gets next to a trained collaborative prediction. */
export const CONTENT_WEIGHT = 0.25;
/** Rated items that vote in a content-based prediction. */
const CONTENT_NEIGHBOURS = 20;

/**
 * A content-based prediction: the user's ratings of the items whose text embeddings are most like this item's,
 * as deviations from their mean, weighted by similarity. `evidence` in [0, 1) grows with the similarity mass.
 */
export function contentPrediction(
  context: { ratings: readonly Rating[]; embeddings: ReadonlyMap<string, Float32Array> },
  itemId: string,
):
  | { predicted: number; evidence: number; neighbours: Array<{ itemId: string; stars: number; similarity: number }> }
  | undefined {
  const target = context.embeddings.get(itemId);
  if (!target || context.ratings.length === 0) return undefined;
  const mean = context.ratings.reduce((sum, rating) => sum + rating.stars, 0) / context.ratings.length;
  const neighbours = context.ratings
    .map((rating) => {
      const vector = context.embeddings.get(rating.itemId);
      if (!vector || rating.itemId === itemId) return undefined;
      let dot = 0;
      for (let i = 0; i < vector.length; i++) dot += vector[i]! * target[i]!;
      return { itemId: rating.itemId, stars: rating.stars, similarity: dot };
    })
    .filter(
      (entry): entry is { itemId: string; stars: number; similarity: number } =>
        entry !== undefined && entry.similarity > 0,
    )
    .sort((a, b) => b.similarity - a.similarity)
    .slice(0, CONTENT_NEIGHBOURS);
  const mass = neighbours.reduce((sum, entry) => sum + entry.similarity, 0);
  if (mass === 0) return undefined;
  const deviation = neighbours.reduce((sum, entry) => sum + entry.similarity * (entry.stars - mean), 0) / mass;
  return { predicted: mean + deviation, evidence: mass / (mass + 1), neighbours };
}
