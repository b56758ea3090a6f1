import { groupRatings, type RatingData } from './data.js';
import type { FactorizationModel, ItemRating } from './factorization.js';
import { MINIMUM_AGGREGATE } from './privacy.js';
import { createRandom } from './random.js';

/** Demographic facts about a user that help place a newcomer (any string attributes: gender, age band...). */
export type Demographics = Readonly<Record<string, string>>;

/**
 * A stated like or dislike of a kind of item ("I love westerns"), as placement evidence: one rating of `stars` of
 * the typical item of that kind, whose persona-level prediction is the mean over `items` (the items with the tag).
 */
export interface StatedTaste {
  readonly items: readonly number[];
  readonly stars: number;
}

/** Options of {@link fitPersonas}. */
export interface PersonaOptions {
  /** Number of personas (4 fitted cold-start best on a validation draw of ML-100K users). @default 4 */
  count?: number;
  /** Users with fewer ratings do not shape the clusters (their factors are mostly prior). @default 10 */
  minimumRatings?: number;
  /** k-means iterations. @default 30 */
  iterations?: number;
  /** Shrinkage of a persona's item offsets towards 0, in ratings' worth. @default 10 */
  offsetShrinkage?: number;
  /** Seed of the k-means++ start. @default 5 */
  seed?: number;
  /** Per user index, their demographics (for the prior of a newcomer's persona). */
  demographics?: ReadonlyArray<Demographics | undefined>;
}

/**
 * Personas: groups of users with similar tastes, found by k-means over their normalised factor vectors. Each
 * persona keeps its members' average bias and, per item, how much more or less its members liked it than the
 * baseline predicted. A new or sparse user is placed by Bayes' rule from their few ratings and demographics.
 */
export class PersonaModel {
  constructor(
    readonly count: number,
    readonly itemCount: number,
    /** Mean and item biases of the factorization the personas were fitted on. */
    readonly mean: number,
    readonly itemBias: Float32Array,
    /** count: members' mean user bias. */
    readonly personaBias: Float32Array,
    /** count × itemCount: shrunk mean residual of members' ratings of each item. */
    readonly itemOffsets: Float32Array,
    /** count: members. */
    readonly sizes: Int32Array,
    /** count × itemCount: how many members rated each item (persona popularity, and the support of its offsets). */
    readonly itemCounts: Int32Array,
    /**
     * attribute → value → per persona log P(value | persona), smoothed; only values held by at least
     * {@link MINIMUM_AGGREGATE} users, so the model keeps no value that points at one person.
     */
    readonly demographicLikelihood: Record<string, Record<string, number[]>>,
    /** Persona of each training user (−1 when they had no ratings). */
    readonly assignments: Int32Array,
  ) {}

  /** Persona-level prediction for a persona mixture, unclamped. */
  raw(weights: ArrayLike<number>, item: number): number {
    let sum = 0;
    for (let persona = 0; persona < this.count; persona++) {
      const weight = weights[persona]!;
      if (weight !== 0)
        sum += weight * (this.personaBias[persona]! + this.itemOffsets[persona * this.itemCount + item]!);
    }
    return this.mean + this.itemBias[item]! + sum;
  }

  /**
   * Posterior over personas from a user's ratings, demographics and stated tastes: prior ∝ persona size ×
   * P(demographics | persona), likelihood of each rating ~ N(persona prediction, 1), and of each stated taste as of
   * one rating of the typical item of its kind.
   */
  assign(
    ratings: readonly ItemRating[],
    demographics?: Demographics,
    stated: readonly StatedTaste[] = [],
  ): Float64Array {
    const logits = new Float64Array(this.count);
    const total = this.sizes.reduce((sum, size) => sum + size, 0);
    for (let persona = 0; persona < this.count; persona++) {
      let logit = Math.log((this.sizes[persona]! + 1) / (total + this.count));
      for (const [attribute, value] of Object.entries(demographics ?? {})) {
        const likelihood = this.demographicLikelihood[attribute]?.[value]?.[persona];
        if (likelihood !== undefined) logit += likelihood;
      }
      const weights = oneHot(this.count, persona);
      for (const rating of ratings) {
        const error = rating.stars - this.raw(weights, rating.item);
        logit -= (error * error) / 2;
      }
      for (const taste of stated) {
        if (taste.items.length === 0) continue;
        const typical = taste.items.reduce((sum, item) => sum + this.raw(weights, item), 0) / taste.items.length;
        logit -= (taste.stars - typical) ** 2 / 2;
      }
      logits[persona] = logit;
    }
    const top = Math.max(...logits);
    let sum = 0;
    for (let persona = 0; persona < this.count; persona++) sum += logits[persona] = Math.exp(logits[persona]! - top);
    for (let persona = 0; persona < this.count; persona++) logits[persona]! /= sum;
    return logits;
  }

  /**
   * Items a persona likes most relative to the baseline, among items at least {@link MINIMUM_AGGREGATE} members
   * rated; none for a persona of fewer members (its favourites would be a few people's ratings).
   */
  favourites(persona: number, limit = 10): Array<{ item: number; offset: number }> {
    if (this.sizes[persona]! < MINIMUM_AGGREGATE) return [];
    const row = persona * this.itemCount;
    return Array.from({ length: this.itemCount }, (_, item) => ({ item, offset: this.itemOffsets[row + item]! }))
      .filter((entry) => this.itemCounts[row + entry.item]! >= MINIMUM_AGGREGATE && entry.offset > 0)
      .sort((a, b) => b.offset - a.offset)
      .slice(0, limit);
  }

  /** Per item, the share of a persona mixture's members who rated it: Σ weight × count / size. */
  popularity(weights: ArrayLike<number>): Float64Array {
    const out = new Float64Array(this.itemCount);
    for (let persona = 0; persona < this.count; persona++) {
      const weight = weights[persona]!;
      const size = this.sizes[persona]!;
      if (weight === 0 || size === 0) continue;
      const row = persona * this.itemCount;
      for (let item = 0; item < this.itemCount; item++) out[item]! += (weight * this.itemCounts[row + item]!) / size;
    }
    return out;
  }

  /** How many training users rated an item, over every persona. */
  raters(item: number): number {
    let sum = 0;
    for (let persona = 0; persona < this.count; persona++) sum += this.itemCounts[persona * this.itemCount + item]!;
    return sum;
  }
}

function oneHot(size: number, index: number): Float64Array {
  const vector = new Float64Array(size);
  vector[index] = 1;
  return vector;
}

/** Clusters the users of a trained factorization into personas. */
export function fitPersonas(data: RatingData, model: FactorizationModel, options: PersonaOptions = {}): PersonaModel {
  const count = options.count ?? 4;
  const dims = model.factors;
  const random = createRandom(options.seed ?? 5);
  const byUser = groupRatings(data, 'user');
  const ratingsOf = (user: number): number => byUser.offsets[user + 1]! - byUser.offsets[user]!;
  const eligible = Array.from({ length: data.userCount }, (_, user) => user).filter(
    (user) => ratingsOf(user) >= (options.minimumRatings ?? 10),
  );
  // Direction of taste, not its strength: heavy raters have longer vectors but the same kind of taste.
  const points = new Float64Array(data.userCount * dims);
  for (let user = 0; user < data.userCount; user++) {
    let norm = 0;
    for (let k = 0; k < dims; k++) norm += model.userVectors[user * dims + k]! ** 2;
    norm = Math.sqrt(norm) || 1;
    for (let k = 0; k < dims; k++) points[user * dims + k] = model.userVectors[user * dims + k]! / norm;
  }
  const distance = (user: number, centroids: Float64Array, cluster: number): number => {
    let sum = 0;
    for (let k = 0; k < dims; k++) sum += (points[user * dims + k]! - centroids[cluster * dims + k]!) ** 2;
    return sum;
  };
  const centroids = new Float64Array(count * dims);
  // k-means++ start.
  const first = eligible[random.integer(eligible.length)] ?? 0;
  centroids.set(points.subarray(first * dims, (first + 1) * dims), 0);
  for (let cluster = 1; cluster < count; cluster++) {
    const weights = eligible.map((user) =>
      Math.min(...Array.from({ length: cluster }, (_, other) => distance(user, centroids, other))),
    );
    let target = random.next() * weights.reduce((sum, weight) => sum + weight, 0);
    let chosen = eligible[eligible.length - 1] ?? 0;
    for (let index = 0; index < eligible.length; index++) {
      target -= weights[index]!;
      if (target <= 0) {
        chosen = eligible[index]!;
        break;
      }
    }
    centroids.set(points.subarray(chosen * dims, (chosen + 1) * dims), cluster * dims);
  }
  const assignments = new Int32Array(data.userCount).fill(-1);
  const nearest = (user: number): number => {
    let best = 0;
    let bestDistance = Infinity;
    for (let cluster = 0; cluster < count; cluster++) {
      const value = distance(user, centroids, cluster);
      if (value < bestDistance) [best, bestDistance] = [cluster, value];
    }
    return best;
  };
  for (let iteration = 0; iteration < (options.iterations ?? 30); iteration++) {
    const sums = new Float64Array(count * dims);
    const sizes = new Int32Array(count);
    for (const user of eligible) {
      const cluster = nearest(user);
      assignments[user] = cluster;
      sizes[cluster]!++;
      for (let k = 0; k < dims; k++) sums[cluster * dims + k]! += points[user * dims + k]!;
    }
    for (let cluster = 0; cluster < count; cluster++) {
      if (sizes[cluster] === 0) continue;
      for (let k = 0; k < dims; k++) centroids[cluster * dims + k] = sums[cluster * dims + k]! / sizes[cluster]!;
    }
  }
  for (let user = 0; user < data.userCount; user++)
    if (ratingsOf(user) > 0 && assignments[user] === -1) assignments[user] = nearest(user);
  return summarisePersonas(data, model, assignments, count, options);
}

function summarisePersonas(
  data: RatingData,
  model: FactorizationModel,
  assignments: Int32Array,
  count: number,
  options: PersonaOptions,
): PersonaModel {
  const itemCount = data.itemCount;
  const sizes = new Int32Array(count);
  const personaBias = new Float32Array(count);
  for (let user = 0; user < data.userCount; user++) {
    const persona = assignments[user]!;
    if (persona < 0) continue;
    sizes[persona]!++;
    personaBias[persona]! += model.userBias[user]!;
  }
  for (let persona = 0; persona < count; persona++) personaBias[persona]! /= Math.max(1, sizes[persona]!);
  const residualSums = new Float64Array(count * itemCount);
  const residualCounts = new Int32Array(count * itemCount);
  for (let index = 0; index < data.stars.length; index++) {
    const user = data.users[index]!;
    const persona = assignments[user]!;
    if (persona < 0) continue;
    const item = data.items[index]!;
    residualSums[persona * itemCount + item]! +=
      data.stars[index]! - model.mean - model.userBias[user]! - model.itemBias[item]!;
    residualCounts[persona * itemCount + item]!++;
  }
  const shrinkage = options.offsetShrinkage ?? 10;
  const itemOffsets = new Float32Array(count * itemCount);
  for (let cell = 0; cell < itemOffsets.length; cell++)
    itemOffsets[cell] = residualSums[cell]! / (residualCounts[cell]! + shrinkage);
  const demographicLikelihood = demographicTables(options.demographics ?? [], assignments, sizes);
  return new PersonaModel(
    count,
    itemCount,
    model.mean,
    model.itemBias,
    personaBias,
    itemOffsets,
    sizes,
    residualCounts,
    demographicLikelihood,
    assignments,
  );
}

/**
 * log P(value | persona) per attribute and value, over the users placed in a persona. A value fewer than
 * {@link MINIMUM_AGGREGATE} of them hold is left out (it would single them out, and outlive their forgetting in the
 * stored model); it counts as one shared "other" value in the smoothing.
 */
function demographicTables(
  demographics: ReadonlyArray<Demographics | undefined>,
  assignments: Int32Array,
  sizes: Int32Array,
): Record<string, Record<string, number[]>> {
  const counts = new Map<string, Map<string, number[]>>();
  demographics.forEach((facts, user) => {
    const persona = assignments[user] ?? -1;
    if (!facts || persona < 0) return;
    for (const [attribute, value] of Object.entries(facts)) {
      const values = counts.get(attribute) ?? counts.set(attribute, new Map()).get(attribute)!;
      const perPersona = values.get(value) ?? values.set(value, new Array<number>(sizes.length).fill(0)).get(value)!;
      perPersona[persona]!++;
    }
  });
  const tables: Record<string, Record<string, number[]>> = {};
  for (const [attribute, values] of counts) {
    const kept = [...values].filter(
      ([, perPersona]) => perPersona.reduce((sum, seen) => sum + seen, 0) >= MINIMUM_AGGREGATE,
    );
    if (kept.length === 0) continue;
    const table: Record<string, number[]> = {};
    // Laplace smoothing: a value never seen in a persona is unlikely there, not impossible.
    for (const [value, perPersona] of kept)
      table[value] = perPersona.map((seen, persona) => Math.log((seen + 1) / (sizes[persona]! + kept.length + 1)));
    tables[attribute] = table;
  }
  return tables;
}
