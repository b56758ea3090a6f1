import type Database from 'better-sqlite3';
import type { Embedder } from '../memory/embedders/types.js';
import { InputError } from '../memory/errors.js';
import { personaScope, userScope, type Memory, type MemoryKind, type Scope, type UserScope } from '../memory/types.js';
import { validateScope } from '../memory/validate.js';
import { blendedPrediction, blendUser, deserializeBundle, serializeBundle, trainBundle, type ModelBundle } from './bundle.js';
import { matchingLikes, readPreferences, violations, type TastePreference } from './constraints.js';
import { CONTENT_WEIGHT, contentPrediction } from './content.js';
import { clampStars } from './model/data.js';
import { backoffWeight } from './model/coldstart.js';
import { RecommenderStorage } from './storage.js';
import { foldText, rankTitles } from './titles.js';
import type { Item, Prediction, Rating, RatingSource, Recommendation, Recommender, Why } from './types.js';

/** Options of {@link RecommenderService}. */
export interface RecommenderServiceOptions {
  /** The opened mnemo database (memory's and the recommender's tables live in the same file). */
  db: Database.Database;
  /**
   * Where the user's facts and preferences are read from (a SqliteMemoryStore); without it, memory is ignored. With
   * persona methods, training places every rated user in their persona there, so recall merges the persona's memory.
   */
  memory?: {
    list(scope: Scope, options?: { kinds?: readonly MemoryKind[] }): Memory[];
    setPersona?(user: UserScope, persona: string | null, assignedBy?: 'hand' | 'auto'): void;
    personaOf?(user: UserScope): { persona: string; assignedBy: 'hand' | 'auto' } | undefined;
  };
  /** Embeds catalog text on import; item similarity uses the stored vectors. */
  embedder?: Embedder;
  /** Clock for ratings without a time. @default () => new Date() */
  now?: () => Date;
}

/** A user's persona and what backs it, for `mnemo persona`. */
export interface PersonaReport {
  /** The persona placed by hand, else the trained persona that best fits the user's current ratings and demographics. */
  readonly persona: string;
  readonly assignedBy: 'hand' | 'auto';
  /** Users placed in the persona in memory (by hand, or by the last training). */
  readonly members: number;
  /** Memories kept for the persona (mnemo remember --persona), which its members' recall merges. */
  readonly sharedMemories: number;
  /** How well each trained persona ("persona 1", ...) fits the user's ratings and demographics; empty without a model. */
  readonly weights: readonly number[];
  readonly level: Prediction['level'];
  readonly ratings: number;
  readonly statements: number;
  /** What the persona likes most; empty without a model, or for a persona the model did not find. */
  readonly likes: ReadonlyArray<{ itemId: string; title: string }>;
}

const personaName = (index: number): string => `persona ${index + 1}`;

/** The trained persona a name stands for ("persona 2" → 1), if any. */
function personaIndex(name: string, count: number): number | undefined {
  const number = Number(/^persona (\d+)$/.exec(name)?.[1]);
  return Number.isInteger(number) && number >= 1 && number <= count ? number - 1 : undefined;
}

function strongest(weights: ArrayLike<number>): number {
  const values = Array.from(weights);
  return values.indexOf(Math.max(...values));
}

/** A user id checked as memory checks it, so nothing is stored under an id that forgetting cannot reach. */
function validUser(userId: string): string {
  validateScope(userScope(userId));
  return userId;
}

/**
 * The recommender the agent calls: collaborative model folded in on the user's current ratings, backed off to
 * their persona and global biases by how much they have rated and said, with hard constraints from memory.
 */
export class RecommenderService implements Recommender {
  readonly storage: RecommenderStorage;
  private readonly memory: RecommenderServiceOptions['memory'];
  private readonly embedder: Embedder | undefined;
  private readonly now: () => Date;
  private cached: { trainedAt: number; bundle: ModelBundle; itemIndex: Map<string, number> } | undefined;

  constructor(options: RecommenderServiceOptions) {
    this.storage = new RecommenderStorage(options.db);
    this.memory = options.memory;
    this.embedder = options.embedder;
    this.now = options.now ?? (() => new Date());
  }

  /** Adds or replaces catalog items, embedding their text with the configured embedder (one transaction). */
  async importItems(items: readonly Item[], options: { signal?: AbortSignal } = {}): Promise<void> {
    const embeddings = this.embedder
      ? {
          embedder: this.embedder.id,
          vectors: await this.embedder.embed(
            items.map((item) => [item.title, item.description ?? '', item.tags.join(', ')].join('. ')),
            options.signal ? { signal: options.signal } : {},
          ),
        }
      : undefined;
    this.storage.upsertItems(items, embeddings);
  }

  /**
   * Finds an item by id, else by title with accents, case and a typo or two forgiven (see {@link rankTitles}); more
   * than one equally close title is an error listing them, closest first.
   */
  resolveItem(query: string): Item {
    const byId = this.storage.item(query);
    if (byId) return byId;
    if (!foldText(query)) throw new InputError('an item id or title is required');
    const { ranked, tied } = rankTitles(query, this.storage.items());
    if (ranked.length === 0) throw new InputError(`no catalog item matches "${query}"`, { code: 'not_found' });
    if (tied > 1) {
      const list = ranked.slice(0, Math.min(tied, 8)).map((item) => `${item.id} "${item.title}"`).join(', ');
      throw new InputError(`"${query}" is ambiguous: ${list}${tied > 8 ? ', ...' : ''}; use the id`);
    }
    return ranked[0]!;
  }

  async rate(userId: string, item: string, stars: number, options: { source?: RatingSource; at?: Date } = {}): Promise<Rating> {
    validUser(userId);
    if (!Number.isInteger(stars) || stars < 1 || stars > 5) throw new InputError(`stars must be a whole number from 1 to 5, not ${stars}`);
    const resolved = this.resolveItem(item);
    const rating: Rating = { userId, itemId: resolved.id, stars, at: options.at ?? this.now(), source: options.source ?? 'explicit' };
    this.storage.addRatings([rating]);
    return rating;
  }

  /** Trains the collaborative model, personas and item-item model on every stored rating and keeps them. */
  train(options: { onProgress?: (progress: { done: number; total: number; phase: string }) => void; factors?: number; personas?: number } = {}): { users: number; items: number; ratings: number } {
    const items = this.storage.items();
    const ratings = this.storage.allRatings();
    if (ratings.length === 0) throw new InputError('there are no ratings to train on (mnemo rate, or mnemo import movielens)');
    const bundle = trainBundle({
      itemIds: items.map((item) => item.id),
      ratings,
      demographics: this.storage.demographics(),
      ...(options.factors !== undefined ? { factors: options.factors } : {}),
      ...(options.personas !== undefined ? { personas: options.personas } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    this.storage.saveModel(serializeBundle(bundle), { users: bundle.userIds.length, items: items.length, ratings: ratings.length });
    this.cached = undefined;
    // Placing every user needs only their ratings and demographics, read once, not a whole prediction context each.
    const model = this.model()!;
    const demographics = this.storage.demographics();
    for (const userId of bundle.userIds) {
      const itemRatings = this.storage
        .ratingsOf(userId)
        .flatMap((rating) => (model.itemIndex.has(rating.itemId) ? [{ item: model.itemIndex.get(rating.itemId)!, stars: rating.stars }] : []));
      this.placeInPersona(userId, model.bundle.personas.assign(itemRatings, demographics.get(userId)));
    }
    return { users: bundle.userIds.length, items: items.length, ratings: ratings.length };
  }

  async predict(userId: string, item: string): Promise<Prediction> {
    validUser(userId);
    const resolved = this.resolveItem(item);
    const context = this.userContext(userId);
    return this.predictFor(context, resolved);
  }

  async recommend(userId: string, options: { k?: number; query?: string; signal?: AbortSignal } = {}): Promise<Recommendation[]> {
    const k = options.k ?? 10;
    if (!Number.isInteger(k) || k < 1 || k > 1000) throw new InputError(`k must be a whole number from 1 to 1000, not ${k}`);
    const context = this.userContext(validUser(userId));
    const rated = new Set(context.ratings.map((rating) => rating.itemId));
    const queryWords = options.query ? foldText(options.query).split(' ').filter((word) => word.length > 2) : [];
    const items = this.storage.items();
    if (items.length === 0) throw new InputError('the catalog is empty: import items first (mnemo catalog import FILE)', { code: 'not_found' });
    const itemScores = this.itemItemScores(context);
    const candidates: Array<{ prediction: Prediction; score: number; tags: Set<string> }> = [];
    for (const item of items) {
      options.signal?.throwIfAborted();
      if (rated.has(item.id) || violations(item.tags, context.preferences).length > 0) continue;
      const prediction = this.predictFor(context, item, 1);
      const haystack = foldText(`${item.title} ${item.tags.join(' ')} ${item.description ?? ''}`);
      const queryBoost = queryWords.filter((word) => haystack.includes(word)).length * 0.5;
      // Predicted stars say how much they would like it; the item-item score says how likely it is to be what they
      // pick next. Both count.
      const score = prediction.predicted + (itemScores?.get(item.id) ?? 0) + queryBoost;
      candidates.push({ prediction, score, tags: new Set(item.tags.map((tag) => tag.toLowerCase())) });
    }
    // Greedy re-ranking with a penalty for sharing tags with what is already picked: some diversity.
    const picked: typeof candidates = [];
    const remaining = candidates.sort((a, b) => b.score - a.score).slice(0, Math.max(k * 5, 50));
    while (picked.length < k && remaining.length > 0) {
      let bestIndex = 0;
      let bestValue = -Infinity;
      remaining.forEach((candidate, index) => {
        const overlap = Math.max(0, ...picked.map((other) => jaccard(candidate.tags, other.tags)));
        const value = candidate.score - 0.3 * overlap;
        if (value > bestValue) [bestIndex, bestValue] = [index, value];
      });
      picked.push(...remaining.splice(bestIndex, 1));
    }
    return picked.map((entry) => ({ ...entry.prediction, score: Math.round(entry.score * 1000) / 1000 }));
  }

  /**
   * Records a user's most likely persona in memory (never overriding one placed by hand), so recall merges that
   * persona's memory.
   */
  private placeInPersona(userId: string, personaWeights: ArrayLike<number>): void {
    const user = userScope(userId);
    if (this.memory?.setPersona && this.memory.personaOf?.(user)?.assignedBy !== 'hand') this.memory.setPersona(user, personaName(strongest(personaWeights)), 'auto');
  }

  /** The trained persona that best fits a user's current ratings and demographics; undefined without a model. Writes nothing. */
  automaticPersona(userId: string): string | undefined {
    const { automaticWeights } = this.userContext(validUser(userId));
    return automaticWeights && personaName(strongest(automaticWeights));
  }

  /**
   * Which persona a user belongs to (a hand placement wins), what backs it, and what it likes. Writes nothing: the
   * automatic placement is computed, and stored only by training.
   */
  persona(userId: string): PersonaReport {
    const context = this.userContext(validUser(userId));
    const { model, handPersona, automaticWeights } = context;
    if (handPersona === undefined && !automaticWeights) throw new InputError('no trained model yet: run mnemo train', { code: 'not_found' });
    const persona = handPersona ?? personaName(strongest(automaticWeights!));
    const index = model && personaIndex(persona, model.bundle.personas.count);
    const items = index === undefined ? new Map<string, Item>() : new Map(this.storage.items().map((item) => [item.id, item]));
    const likes = (index === undefined ? [] : model!.bundle.personas.favourites(index, 10))
      .map((entry) => items.get(model!.bundle.itemIds[entry.item]!))
      .filter((item): item is Item => item !== undefined)
      .map((item) => ({ itemId: item.id, title: item.title }));
    return {
      persona,
      assignedBy: handPersona === undefined ? 'auto' : 'hand',
      members: this.storage.personaMembers(persona),
      sharedMemories: this.memory?.list(personaScope(persona)).length ?? 0,
      weights: automaticWeights ? Array.from(automaticWeights) : [],
      level: context.level,
      ratings: context.ratings.length,
      statements: context.preferences.length,
      likes,
    };
  }

  private model(): { bundle: ModelBundle; itemIndex: Map<string, number> } | undefined {
    // The bundle is megabytes: read it only when a newer one was trained.
    const trainedAt = this.storage.latestModelTime();
    if (trainedAt === undefined) return undefined;
    if (this.cached?.trainedAt !== trainedAt) {
      const latest = this.storage.latestModel()!;
      const bundle = deserializeBundle(latest.model);
      this.cached = { trainedAt: latest.trainedAt.getTime(), bundle, itemIndex: new Map(bundle.itemIds.map((id, index) => [id, index])) };
    }
    return this.cached;
  }

  private userContext(userId: string) {
    const ratings = this.storage.ratingsOf(userId);
    const memories = this.memory?.list(userScope(userId), { kinds: ['preference', 'fact', 'profile'] }) ?? [];
    const preferences: TastePreference[] = readPreferences(memories.map((memory) => ({ id: memory.id, text: memory.text })));
    const model = this.model();
    const known = model ? ratings.filter((rating) => model.itemIndex.has(rating.itemId)) : [];
    const itemRatings = model ? known.map((rating) => ({ item: model.itemIndex.get(rating.itemId)!, stars: rating.stars })) : [];
    const demographics = this.storage.demographicsOf(userId);
    // The user's latest ratings count at once: the model is folded in on them, never looked up stale.
    const vector = model ? model.bundle.factorization.foldIn(itemRatings) : undefined;
    // So does the neighbour part of the blend: it reads the current ratings, and the baseline is refitted on them.
    const blended = model?.bundle.blend ? blendUser(model.bundle.blend, itemRatings) : undefined;
    const automaticWeights = model ? model.bundle.personas.assign(itemRatings, demographics) : undefined;
    const placed = this.memory?.personaOf?.(userScope(userId));
    const handPersona = placed?.assignedBy === 'hand' ? placed.persona : undefined;
    // A hand placement in one of the trained personas is the persona the backoff predicts from.
    const handIndex = model && handPersona !== undefined ? personaIndex(handPersona, model.bundle.personas.count) : undefined;
    const personaWeights = handIndex === undefined ? automaticWeights : Float64Array.from({ length: model!.bundle.personas.count }, (_, index) => (index === handIndex ? 1 : 0));
    const share = backoffWeight(itemRatings.length + preferences.length);
    const level: Prediction['level'] = !model ? 'global' : share >= 0.5 ? 'user' : 'persona';
    // Explanations name the user's own rated items.
    const titles = this.storage.titlesOf(ratings.map((rating) => rating.itemId));
    const embeddings = this.embedder ? this.storage.embeddings(this.embedder.id) : new Map<string, Float32Array>();
    return { userId, ratings, known, itemRatings, preferences, model, vector, blended, automaticWeights, handPersona, personaWeights, share, level, titles, embeddings };
  }

  /**
   * Predicts one item and says why. Only reasons that argue for the prediction are given: those for liking it when
   * `direction` is 1 (a recommendation, or a prediction of 3 stars or more), for not liking it when -1.
   */
  private predictFor(context: ReturnType<RecommenderService['userContext']>, item: Item, direction?: 1 | -1): Prediction {
    const index = context.model?.itemIndex.get(item.id);
    let predicted: number;
    let level = context.level;
    let persona: { name: string; offset: number } | undefined;
    let others: ReturnType<RecommenderService['othersRatings']> | undefined;
    if (context.model && context.vector && context.personaWeights && index !== undefined) {
      const { factorization, personas, blend } = context.model.bundle;
      // The benchmark's blend of SVD++, item neighbours and biases when the bundle has one; plain SVD++ otherwise.
      const userLevel = blend && context.blended ? blendedPrediction({ factorization, blend }, context.blended, context.vector, index).stars : factorization.rawFor(context.vector, index);
      const personaLevel = personas.raw(context.personaWeights, index);
      predicted = context.share * userLevel + (1 - context.share) * personaLevel;
      if (context.share < 0.5) {
        const top = strongest(context.personaWeights);
        persona = { name: personaName(top), offset: personas.itemOffsets[top * personas.itemCount + index]! };
      }
    } else {
      level = 'global';
      others = this.othersRatings(item.id);
      predicted = others.predicted;
    }
    const content = contentPrediction(context, item.id);
    // Which way content similarity moved the prediction, when it mattered.
    let contentPull = 0;
    if (content) {
      // Content similarity carries items the collaborative model has not seen, and nudges the others.
      const weight = index === undefined || !context.model ? content.evidence : CONTENT_WEIGHT * content.evidence;
      if (weight > 0.05) contentPull = content.predicted - predicted;
      predicted = (1 - weight) * predicted + weight * content.predicted;
    }
    const likes = matchingLikes(item.tags, context.preferences);
    predicted += 0.3 * likes.length;
    const avoided = violations(item.tags, context.preferences);
    if (avoided.length > 0) predicted = Math.min(predicted, 1.5);
    const stars = clampStars(predicted);
    const way = direction ?? (stars >= 3 ? 1 : -1);
    // A rating of 3 stars argues neither way.
    const agrees = (value: number): boolean => Math.sign(value) === way;
    const why: Why[] = [];
    if (!others) why.push(...this.ratingReasons(context, index!, way));
    if (persona && agrees(persona.offset)) {
      why.push({ kind: 'persona', persona: persona.name, text: `people with tastes like yours (${persona.name}) rate it ${way === 1 ? 'above' : 'below'} average` });
    }
    if (others?.mean !== undefined && agrees(others.mean - 3)) {
      why.push({ kind: 'popular', text: `others rated it ${others.mean.toFixed(1)} on average (${others.count} rating${others.count === 1 ? '' : 's'})` });
    }
    const neighbour = agrees(contentPull) ? content!.neighbours.find((entry) => agrees(entry.stars - 3)) : undefined;
    if (neighbour) {
      const title = context.titles.get(neighbour.itemId) ?? neighbour.itemId;
      why.push({ kind: 'rating', itemId: neighbour.itemId, title, stars: neighbour.stars, text: `similar to ${title}, which you rated ${neighbour.stars}` });
    }
    for (const said of way === 1 ? likes : avoided) why.push({ kind: 'memory', memoryId: said.memoryId, text: `you said: "${said.text}"` });
    // Rather than invent a reason: the plain fact that nobody's rating bears on it.
    if (why.length === 0 && others?.count === 0) {
      why.push({ kind: 'unrated', text: others.anyRatings ? 'nobody has rated it yet' : 'nobody has rated anything yet' });
    }
    return { itemId: item.id, title: item.title, predicted: Math.round(stars * 100) / 100, level, why };
  }

  /**
   * The user's ratings of the items most similar to this one (by item factors) that point the way the prediction
   * went: liked neighbours for a high prediction, disliked ones for a low one.
   */
  private ratingReasons(context: ReturnType<RecommenderService['userContext']>, index: number, direction: 1 | -1): Why[] {
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
      .map((rating, position) => ({ rating, position, similarity: similarity(rating.item), weight: similarity(rating.item) * (rating.stars - 3) * direction }))
      .filter((entry) => entry.similarity > 0 && entry.weight > 0 && entry.rating.item !== index)
      .sort((a, b) => b.weight - a.weight)
      .slice(0, 2)
      .map(({ rating, position }) => {
        const itemId = context.known[position]!.itemId;
        const title = context.titles.get(itemId) ?? itemId;
        return { kind: 'rating' as const, itemId, title, stars: rating.stars, text: `you rated "${title}" ${rating.stars}/5` };
      });
  }

  /** EASE scores of unseen items, rescaled to 0..1 for a user with ratings; undefined without. */
  private itemItemScores(context: ReturnType<RecommenderService['userContext']>): Map<string, number> | undefined {
    const ease = context.model?.bundle.ease;
    if (!ease || context.itemRatings.length === 0) return undefined;
    const scores = ease.scores(context.itemRatings.map((rating) => rating.item));
    const top = Math.max(...scores);
    const bottom = Math.min(...scores);
    const range = top - bottom || 1;
    return new Map(context.model!.bundle.itemIds.map((id, index) => [id, (scores[index]! - bottom) / range]));
  }

  /** Everyone's ratings of an item: their mean, and the mean shrunk toward all ratings' (the global-level prediction). */
  private othersRatings(itemId: string): { count: number; mean: number | undefined; predicted: number; anyRatings: boolean } {
    const row = this.storage.db.prepare('SELECT sum(stars) AS total, count(*) AS count FROM rec_ratings WHERE item_id = ?').get(itemId) as { total: number | null; count: number };
    const all = this.storage.db.prepare('SELECT avg(stars) AS mean FROM rec_ratings').get() as { mean: number | null };
    const prior = all.mean ?? 3;
    return {
      count: row.count,
      mean: row.count > 0 ? row.total! / row.count : undefined,
      predicted: ((row.total ?? 0) + 5 * prior) / (row.count + 5),
      anyRatings: all.mean !== null,
    };
  }
}

function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 || b.size === 0) return 0;
  let shared = 0;
  for (const value of a) if (b.has(value)) shared++;
  return shared / (a.size + b.size - shared);
}
