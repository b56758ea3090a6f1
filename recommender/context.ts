import type { Embedder } from '../memory/index.js';
import { type Memory, type MemoryKind, type Scope, type UserScope, userScope } from '../memory/index.js';
import { type BlendUser, blendUser, type ModelBundle } from './bundle.js';
import { matchingLikes, readPreferences, type TastePreference, violations } from './constraints.js';
import { backoffWeight } from './model/coldstart.js';
import type { ItemRating, UserVector } from './model/factorization.js';
import type { StatedTaste } from './model/personas.js';
import type { RecommenderStorage } from './storage.js';
import type { Item, Prediction, Rating } from './types.js';

/**
 * What the recommender reads of memory (a `MemoryStore`); persona methods let training place users, and a persona's
 * report count its members.
 */
export interface RecommenderMemory {
  list(scope: Scope, options?: { kinds?: readonly MemoryKind[] }): Promise<Memory[]>;
  setPersona?(user: UserScope, persona: string | null, assignedBy?: 'hand' | 'auto'): Promise<void>;
  personaOf?(user: UserScope): Promise<{ persona: string; assignedBy: 'hand' | 'auto' } | undefined>;
  personaMembers?(persona: string): Promise<number>;
}

/** The stored bundle, read once per training, with its item ids indexed. */
export interface LoadedModel {
  readonly bundle: ModelBundle;
  readonly itemIndex: ReadonlyMap<string, number>;
}

/** Everything a prediction or a ranking needs to know about one user, read fresh on every call. */
export interface UserContext {
  readonly userId: string;
  /** All of the user's ratings, oldest first. */
  readonly ratings: readonly Rating[];
  /** Those of items the model knows, parallel to `itemRatings`. */
  readonly known: readonly Rating[];
  readonly itemRatings: readonly ItemRating[];
  /** Likes and hard dislikes read from the user's memories. */
  readonly preferences: readonly TastePreference[];
  readonly model: LoadedModel | undefined;
  /** The user folded into the factorization from their current ratings. */
  readonly vector: UserVector | undefined;
  readonly blended: BlendUser | undefined;
  /** The trained persona mixture that fits the user's ratings, demographics and stated tastes. */
  readonly automaticWeights: Float64Array | undefined;
  readonly handPersona: string | undefined;
  /** The mixture predictions and rankings back off to: a hand placement in a trained persona, else the automatic one. */
  readonly personaWeights: Float64Array | undefined;
  /**
   * Whether the persona rests on anything about this user (ratings, demographics the model keeps, a stated taste
   * that matches catalog tags, a hand placement); if not, it is everyone's prior and explanations say so.
   */
  readonly informed: boolean;
  /** Weight of the user-level prediction against the persona's: from the user's ratings alone. */
  readonly share: number;
  readonly level: Prediction['level'];
  /** Titles of the user's rated items, for explanations. */
  readonly titles: ReadonlyMap<string, string>;
  readonly embeddings: ReadonlyMap<string, Float32Array>;
}

export const personaName = (index: number): string => `persona ${index + 1}`;

/** The trained persona a name stands for ("persona 2" → 1), if any. */
export function personaIndex(name: string, count: number): number | undefined {
  const number = Number(/^persona (\d+)$/.exec(name)?.[1]);
  return Number.isInteger(number) && number >= 1 && number <= count ? number - 1 : undefined;
}

export function strongest(weights: ArrayLike<number>): number {
  const values = Array.from(weights);
  return values.indexOf(Math.max(...values));
}

/** Where {@link readUserContext} reads from. */
export interface ContextSources {
  readonly storage: RecommenderStorage;
  readonly memory: RecommenderMemory | undefined;
  readonly embedder: Embedder | undefined;
  readonly model: LoadedModel | undefined;
}

/**
 * Stated likes and dislikes as placement evidence: each preference that matches catalog tags counts as one rating
 * (5 stars for a like, 1 for a dislike) of the typical item carrying them.
 */
function statedTastes(
  catalog: readonly Item[],
  model: LoadedModel,
  preferences: readonly TastePreference[],
): StatedTaste[] {
  if (preferences.length === 0) return [];
  const items = catalog.filter((item) => model.itemIndex.has(item.id));
  return preferences.map((preference) => {
    const matches = preference.polarity === 'like' ? matchingLikes : violations;
    return {
      items: items
        .filter((item) => matches(item.tags, [preference]).length > 0)
        .map((item) => model.itemIndex.get(item.id)!),
      stars: preference.polarity === 'like' ? 5 : 1,
    };
  });
}

/** Reads everything about a user at once, then works it out without touching storage again. */
export async function readUserContext(sources: ContextSources, userId: string): Promise<UserContext> {
  const { storage, memory, embedder, model } = sources;
  const user = userScope(userId);
  // Independent reads, at once: on PostgreSQL each is a round trip.
  const [ratings, memories, demographics, placed, embeddings] = await Promise.all([
    storage.ratingsOf(userId),
    memory?.list(user, { kinds: ['preference', 'fact', 'profile'] }) ?? [],
    storage.demographicsOf(userId),
    memory?.personaOf?.(user),
    embedder ? storage.embeddings(embedder.id) : new Map<string, Float32Array>(),
  ]);
  const preferences = readPreferences(memories.map((entry) => ({ id: entry.id, text: entry.text })));
  // The catalog is read only when stated tastes need matching against its tags.
  const [catalog, titles] = await Promise.all([
    model && preferences.length > 0 ? storage.items() : [],
    storage.titlesOf(ratings.map((rating) => rating.itemId)),
  ]);
  const known = model ? ratings.filter((rating) => model.itemIndex.has(rating.itemId)) : [];
  const itemRatings = model
    ? known.map((rating) => ({ item: model.itemIndex.get(rating.itemId)!, stars: rating.stars }))
    : [];
  // The user's latest ratings count at once: the model is folded in on them, never looked up stale.
  const vector = model?.bundle.factorization.foldIn(itemRatings);
  // So does the neighbour part of the blend: it reads the current ratings, and the baseline is refitted on them.
  const blended = model?.bundle.blend ? blendUser(model.bundle.blend, itemRatings) : undefined;
  const stated = model ? statedTastes(catalog, model, preferences) : [];
  const automaticWeights = model?.bundle.personas.assign(itemRatings, demographics, stated);
  const handPersona = placed?.assignedBy === 'hand' ? placed.persona : undefined;
  // A hand placement in one of the trained personas is the persona the backoff predicts from.
  const handIndex =
    model && handPersona !== undefined ? personaIndex(handPersona, model.bundle.personas.count) : undefined;
  const personaWeights =
    handIndex === undefined
      ? automaticWeights
      : Float64Array.from({ length: model!.bundle.personas.count }, (_, index) => (index === handIndex ? 1 : 0));
  const likelihood = model?.bundle.personas.demographicLikelihood ?? {};
  const informed =
    handIndex !== undefined ||
    itemRatings.length > 0 ||
    stated.some((taste) => taste.items.length > 0) ||
    Object.entries(demographics ?? {}).some(([attribute, value]) => likelihood[attribute]?.[value] !== undefined);
  // Only ratings move weight to the user's own model: what they said shapes the persona and the stated-taste nudge,
  // and a folded-in vector with no ratings behind it is just the global baseline.
  const share = backoffWeight(itemRatings.length);
  const level: Prediction['level'] = !model ? 'global' : share >= 0.5 ? 'user' : 'persona';
  return {
    userId,
    ratings,
    known,
    itemRatings,
    preferences,
    model,
    vector,
    blended,
    automaticWeights,
    handPersona,
    personaWeights,
    informed,
    share,
    level,
    titles,
    embeddings,
  };
}
