import type { Embedder } from '../memory/index.js';
import { InputError, personaScope, userScope, validateScope } from '../memory/index.js';
import { blendedPrediction, deserializeBundle, serializeBundle, trainBundle } from './bundle.js';
import { matchingLikes, violations } from './constraints.js';
import { CONTENT_WEIGHT, contentPrediction } from './content.js';
import {
  type LoadedModel,
  personaIndex,
  personaName,
  type RecommenderMemory,
  readUserContext,
  strongest,
  type UserContext,
} from './context.js';
import { rankingReasons, ratingReasons } from './explain.js';
import { clampStars } from './model/data.js';
import { MINIMUM_AGGREGATE } from './model/privacy.js';
import { type Raters, rankCatalog, ranksByPopularity } from './rank.js';
import type { RecommenderStorage, StarSum } from './storage.js';
import { foldText, rankTitles } from './titles.js';
import type {
  Item,
  Prediction,
  Rating,
  RatingSource,
  Recommendation,
  Recommender,
  RecommendOptions,
  Why,
} from './types.js';

/** Ranking lift per word of a `query` an item's title, tags or description contain. */
export const QUERY_BOOST = 0.5;
/**
 * Default penalty, on the 0–1 score scale, for sharing tags with an item already picked (times their Jaccard overlap).
 * Light on purpose: on MovieLens' leave-last-out split it widens a top 10 from 9.7 to 10.3 genres and costs 0.005 of
 * full-ranking HR@10 (0.192 → 0.187); 0.3 would reach 11.9 genres for 0.013.
 */
export const DIVERSITY = 0.05;

/** Options of {@link RecommenderService}. */
export interface RecommenderServiceOptions {
  /**
   * The recommender's tables, in the database memory keeps: `recommenderStorage(memory.backend)`, or a
   * `SqliteRecommenderStorage` / `PostgresRecommenderStorage` of its own.
   */
  storage: RecommenderStorage;
  /**
   * Where the user's facts and preferences are read from (a `MemoryStore`); without it, memory is ignored. With
   * persona methods, training places every rated user in their persona there, so recall merges the persona's memory.
   */
  memory?: RecommenderMemory;
  /** Embeds catalog text on import; item similarity uses the stored vectors. */
  embedder?: Embedder;
  /** Clock for ratings without a time. @default () => new Date() */
  now?: () => Date;
}

/** A user's persona and what backs it, for `mnemo persona`. */
export interface PersonaReport {
  /** The persona placed by hand, else the trained persona that best fits the user's ratings, demographics and stated tastes. */
  readonly persona: string;
  readonly assignedBy: 'hand' | 'auto';
  /** Users placed in the persona in memory (by hand, or by the last training); 0 without memory. */
  readonly members: number;
  /** Memories kept for the persona (mnemo remember --persona), which its members' recall merges. */
  readonly sharedMemories: number;
  /** How well each trained persona ("persona 1", ...) fits the user's ratings, demographics and stated tastes; empty without a model. */
  readonly weights: readonly number[];
  readonly level: Prediction['level'];
  readonly ratings: number;
  readonly statements: number;
  /**
   * What the persona likes most; empty without a model, for a persona the model did not find, or for one of fewer
   * than {@link MINIMUM_AGGREGATE} members (its favourites would be a few people's ratings).
   */
  readonly likes: ReadonlyArray<{ itemId: string; title: string }>;
}

/** A user id checked as memory checks it, so nothing is stored under an id that forgetting cannot reach. */
function validUser(userId: string): string {
  validateScope(userScope(userId));
  return userId;
}

/**
 * The recommender the agent calls. Predicted stars: the collaborative model folded in on the user's current ratings,
 * backed off to their persona and global biases by how many they have rated. Recommendations: ranked by the top-k
 * scorer the MovieLens benchmark measures ({@link rankCatalog}), with hard constraints from memory and a light
 * spread over tags.
 */
export class RecommenderService implements Recommender {
  readonly storage: RecommenderStorage;
  private readonly memory: RecommenderServiceOptions['memory'];
  private readonly embedder: Embedder | undefined;
  private readonly now: () => Date;
  private cached: (LoadedModel & { trainedAt: number }) | undefined;

  constructor(options: RecommenderServiceOptions) {
    this.storage = options.storage;
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
    await this.storage.upsertItems(items, embeddings);
  }

  /**
   * Finds an item by id, else by title with accents, case and a typo or two forgiven (see {@link rankTitles}); more
   * than one equally close title is an error listing them, closest first.
   */
  async resolveItem(query: string): Promise<Item> {
    const byId = await this.storage.item(query);
    if (byId) return byId;
    if (!foldText(query)) throw new InputError('an item id or title is required');
    const { ranked, tied } = rankTitles(query, await this.storage.items());
    if (ranked.length === 0) throw new InputError(`no catalog item matches "${query}"`, { code: 'not_found' });
    if (tied > 1) {
      const list = ranked
        .slice(0, Math.min(tied, 8))
        .map((item) => `${item.id} "${item.title}"`)
        .join(', ');
      throw new InputError(`"${query}" is ambiguous: ${list}${tied > 8 ? ', ...' : ''}; use the id`);
    }
    return ranked[0]!;
  }

  async rate(
    userId: string,
    item: string,
    stars: number,
    options: { source?: RatingSource; at?: Date } = {},
  ): Promise<Rating> {
    validUser(userId);
    if (!Number.isInteger(stars) || stars < 1 || stars > 5)
      throw new InputError(`stars must be a whole number from 1 to 5, not ${stars}`);
    const resolved = await this.resolveItem(item);
    const rating: Rating = {
      userId,
      itemId: resolved.id,
      stars,
      at: options.at ?? this.now(),
      source: options.source ?? 'explicit',
    };
    await this.storage.addRatings([rating]);
    return rating;
  }

  /** Trains the collaborative model, personas and item-item model on every stored rating and keeps them. */
  async train(
    options: {
      onProgress?: (progress: { done: number; total: number; phase: string }) => void;
      factors?: number;
      personas?: number;
    } = {},
  ): Promise<{ users: number; items: number; ratings: number }> {
    const items = await this.storage.items();
    const ratings = await this.storage.allRatings();
    const demographics = await this.storage.demographics();
    if (ratings.length === 0)
      throw new InputError('there are no ratings to train on (mnemo rate, or mnemo import movielens)');
    const bundle = trainBundle({
      itemIds: items.map((item) => item.id),
      ratings,
      demographics,
      ...(options.factors !== undefined ? { factors: options.factors } : {}),
      ...(options.personas !== undefined ? { personas: options.personas } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    await this.storage.saveModel(serializeBundle(bundle), {
      users: bundle.userIds.length,
      items: items.length,
      ratings: ratings.length,
    });
    this.cached = undefined;
    // Placing every user needs only their ratings and demographics, read once, not a whole prediction context each.
    // Each user's ratings in the order ratingsOf gives them: `ratings` is ordered by time, user, item.
    const model = (await this.model())!;
    const byUser = new Map<string, Rating[]>();
    for (const rating of ratings) {
      const list = byUser.get(rating.userId);
      if (list) list.push(rating);
      else byUser.set(rating.userId, [rating]);
    }
    for (const userId of bundle.userIds) {
      const itemRatings = (byUser.get(userId) ?? []).flatMap((rating) =>
        model.itemIndex.has(rating.itemId) ? [{ item: model.itemIndex.get(rating.itemId)!, stars: rating.stars }] : [],
      );
      await this.placeInPersona(userId, model.bundle.personas.assign(itemRatings, demographics.get(userId)));
    }
    return { users: bundle.userIds.length, items: items.length, ratings: ratings.length };
  }

  async predict(userId: string, item: string): Promise<Prediction> {
    validUser(userId);
    const resolved = await this.resolveItem(item);
    const context = await this.userContext(userId);
    return this.predictFor(context, resolved, await this.othersRatings(context, [resolved]));
  }

  async recommend(userId: string, options: RecommendOptions = {}): Promise<Recommendation[]> {
    const k = options.k ?? 10;
    if (!Number.isInteger(k) || k < 1 || k > 1000)
      throw new InputError(`k must be a whole number from 1 to 1000, not ${k}`);
    const context = await this.userContext(validUser(userId));
    const items = await this.storage.items();
    if (items.length === 0)
      throw new InputError('the catalog is empty: import items first (mnemo catalog import FILE)', {
        code: 'not_found',
      });
    options.signal?.throwIfAborted();
    const ranking = rankCatalog(context, items, await this.raters(context));
    const rated = new Set(context.ratings.map((rating) => rating.itemId));
    const queryWords = options.query
      ? foldText(options.query)
          .split(' ')
          .filter((word) => word.length > 2)
      : [];
    const candidates: Array<{ position: number; score: number }> = [];
    items.forEach((item, position) => {
      if (rated.has(item.id) || violations(item.tags, context.preferences).length > 0) return;
      const haystack =
        queryWords.length > 0 ? foldText(`${item.title} ${item.tags.join(' ')} ${item.description ?? ''}`) : '';
      candidates.push({
        position,
        score: ranking.scores[position]! + QUERY_BOOST * queryWords.filter((word) => haystack.includes(word)).length,
      });
    });
    // Stars are predicted only for the head of the ranking: they are shown, and break ties.
    const head = candidates.sort((a, b) => b.score - a.score).slice(0, Math.max(k * 5, 50));
    const others = await this.othersRatings(
      context,
      head.map((candidate) => items[candidate.position]!),
      false,
    );
    const pool = head
      .map((candidate) => {
        options.signal?.throwIfAborted();
        const item = items[candidate.position]!;
        return {
          ...candidate,
          prediction: this.predictFor(context, item, others, 1, false),
          tags: new Set(item.tags.map((tag) => tag.toLowerCase())),
        };
      })
      .sort((a, b) => b.score - a.score || b.prediction.predicted - a.prediction.predicted);
    // Greedy re-ranking with a small penalty for sharing tags with what is already picked: some diversity.
    const diversity = options.diversity ?? DIVERSITY;
    const picked: typeof pool = [];
    while (picked.length < k && pool.length > 0) {
      let bestIndex = 0;
      let bestValue = -Infinity;
      pool.forEach((candidate, index) => {
        const value =
          diversity === 0
            ? candidate.score
            : candidate.score - diversity * Math.max(0, ...picked.map((other) => jaccard(candidate.tags, other.tags)));
        if (value > bestValue) [bestIndex, bestValue] = [index, value];
      });
      picked.push(...pool.splice(bestIndex, 1));
    }
    return picked.map(({ position, score, prediction }) => ({
      ...prediction,
      score: Math.round(score * 1000) / 1000,
      why: rankingReasons(context, {
        index: context.model?.itemIndex.get(items[position]!.id),
        user: ranking.user[position]!,
        persona: ranking.persona[position]!,
        likes: ranking.likes[position]!,
        everyone: ranking.everyone(position),
      }),
    }));
  }

  /**
   * The top-k score of every catalog item for a user (parallel to `items`): what {@link recommend} ranks by before it
   * leaves out rated items and stated dislikes and spreads the list over tags, and what `mnemo bench movielens`
   * measures.
   */
  async scoreCatalog(userId: string): Promise<{ items: Item[]; scores: Float64Array }> {
    const context = await this.userContext(validUser(userId));
    const items = await this.storage.items();
    return { items, scores: rankCatalog(context, items, await this.raters(context)).scores };
  }

  /**
   * Records a user's most likely persona in memory (never overriding one placed by hand), so recall merges that
   * persona's memory.
   */
  private async placeInPersona(userId: string, personaWeights: ArrayLike<number>): Promise<void> {
    const user = userScope(userId);
    if (this.memory?.setPersona && (await this.memory.personaOf?.(user))?.assignedBy !== 'hand')
      await this.memory.setPersona(user, personaName(strongest(personaWeights)), 'auto');
  }

  /** The trained persona that best fits a user's current ratings, demographics and stated tastes; undefined without a model. Writes nothing. */
  async automaticPersona(userId: string): Promise<string | undefined> {
    const { automaticWeights } = await this.userContext(validUser(userId));
    return automaticWeights && personaName(strongest(automaticWeights));
  }

  /**
   * Which persona a user belongs to (a hand placement wins), what backs it, and what it likes. Writes nothing: the
   * automatic placement is computed, and stored only by training.
   */
  async persona(userId: string): Promise<PersonaReport> {
    const context = await this.userContext(validUser(userId));
    const { model, handPersona, automaticWeights } = context;
    if (handPersona === undefined && !automaticWeights)
      throw new InputError('no trained model yet: run mnemo train', { code: 'not_found' });
    const persona = handPersona ?? personaName(strongest(automaticWeights!));
    const index = model && personaIndex(persona, model.bundle.personas.count);
    const items =
      index === undefined
        ? new Map<string, Item>()
        : new Map((await this.storage.items()).map((item) => [item.id, item]));
    const likes = (index === undefined ? [] : model!.bundle.personas.favourites(index, 10))
      .map((entry) => items.get(model!.bundle.itemIds[entry.item]!))
      .filter((item): item is Item => item !== undefined)
      .map((item) => ({ itemId: item.id, title: item.title }));
    return {
      persona,
      assignedBy: handPersona === undefined ? 'auto' : 'hand',
      members: (await this.memory?.personaMembers?.(persona)) ?? 0,
      sharedMemories: (await this.memory?.list(personaScope(persona)))?.length ?? 0,
      weights: automaticWeights ? Array.from(automaticWeights) : [],
      level: context.level,
      ratings: context.ratings.length,
      statements: context.preferences.length,
      likes,
    };
  }

  private async model(): Promise<LoadedModel | undefined> {
    // The bundle is megabytes: read it only when a newer one was trained.
    const trainedAt = await this.storage.latestModelTime();
    if (trainedAt === undefined) return undefined;
    if (this.cached?.trainedAt !== trainedAt) {
      const latest = await this.storage.latestModel();
      // Gone since the first read: there is no model to serve.
      if (!latest) return undefined;
      const bundle = deserializeBundle(latest.model);
      this.cached = {
        trainedAt: latest.trainedAt.getTime(),
        bundle,
        itemIndex: new Map(bundle.itemIds.map((id, index) => [id, index])),
      };
    }
    return this.cached;
  }

  private async userContext(userId: string): Promise<UserContext> {
    return readUserContext(
      { storage: this.storage, memory: this.memory, embedder: this.embedder, model: await this.model() },
      userId,
    );
  }

  /** Everyone's raters per item, when {@link rankCatalog} ranks `context` by popularity. */
  private async raters(context: UserContext): Promise<Raters | undefined> {
    return ranksByPopularity(context) ? this.storage.raters() : undefined;
  }

  /**
   * Everyone's ratings of `items` (see {@link OthersRatings}), read at once for {@link predictFor}: always without a
   * model (it predicts from them), and for a user the model knows nothing of when the prediction is explained.
   */
  private async othersRatings(
    context: UserContext,
    items: readonly Item[],
    explain = true,
  ): Promise<Map<string, OthersRatings>> {
    const { model, vector, personaWeights } = context;
    // The same conditions as predictFor's.
    const needed = items.filter(
      (item) => !(model && vector && personaWeights && model.itemIndex.has(item.id)) || (!context.informed && explain),
    );
    if (needed.length === 0) return new Map();
    const { all, byItem } = await this.storage.starSums(needed.map((item) => item.id));
    return new Map(needed.map((item) => [item.id, othersRatings(byItem.get(item.id) ?? { total: 0, count: 0 }, all)]));
  }

  /**
   * Predicts one item and, when `explain`, says why. Only reasons that argue for the prediction are given: those for
   * liking it when `direction` is 1 (a recommendation, or a prediction of 3 stars or more), for not liking it when -1.
   */
  private predictFor(
    context: UserContext,
    item: Item,
    othersByItem: ReadonlyMap<string, OthersRatings>,
    direction?: 1 | -1,
    explain = true,
  ): Prediction {
    const index = context.model?.itemIndex.get(item.id);
    let predicted: number;
    let level = context.level;
    let persona: { index: number; offset: number } | undefined;
    let others: OthersRatings | undefined;
    if (context.model && context.vector && context.personaWeights && index !== undefined) {
      const { factorization, personas, blend } = context.model.bundle;
      // The benchmark's blend of SVD++, item neighbours and biases when the bundle has one; plain SVD++ otherwise.
      const userLevel =
        blend && context.blended
          ? blendedPrediction({ factorization, blend }, context.blended, context.vector, index).stars
          : factorization.rawFor(context.vector, index);
      const personaLevel = personas.raw(context.personaWeights, index);
      predicted = context.share * userLevel + (1 - context.share) * personaLevel;
      const top = strongest(context.personaWeights);
      // A persona's view of an item is said only when it rests on the user and on enough of its members' ratings.
      if (
        context.share < 0.5 &&
        context.informed &&
        personas.itemCounts[top * personas.itemCount + index]! >= MINIMUM_AGGREGATE
      ) {
        persona = { index: top, offset: personas.itemOffsets[top * personas.itemCount + index]! };
      }
      // Someone the model knows nothing about gets everyone's view of the item.
      if (!context.informed && explain) others = othersByItem.get(item.id)!;
    } else {
      level = 'global';
      others = othersByItem.get(item.id)!;
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
    const result = { itemId: item.id, title: item.title, predicted: Math.round(stars * 100) / 100, level };
    if (!explain) return { ...result, why: [] };
    const way = direction ?? (stars >= 3 ? 1 : -1);
    // A rating of 3 stars argues neither way.
    const agrees = (value: number): boolean => Math.sign(value) === way;
    const why: Why[] = [];
    if (index !== undefined && context.model) why.push(...ratingReasons(context, index, way));
    if (persona && agrees(persona.offset)) {
      const name = personaName(persona.index);
      why.push({
        kind: 'persona',
        persona: name,
        text: `people like you (${name}) rate it ${way === 1 ? 'above' : 'below'} average`,
      });
    }
    // Others' average is shown only over enough ratings to say nothing about any one rater.
    if (others && others.count >= MINIMUM_AGGREGATE && agrees(others.mean! - 3)) {
      why.push({
        kind: 'popular',
        text: `others rated it ${others.mean!.toFixed(1)} on average (${others.count} ratings)`,
      });
    }
    const neighbour = agrees(contentPull) ? content!.neighbours.find((entry) => agrees(entry.stars - 3)) : undefined;
    if (neighbour) {
      const title = context.titles.get(neighbour.itemId) ?? neighbour.itemId;
      why.push({
        kind: 'rating',
        itemId: neighbour.itemId,
        title,
        stars: neighbour.stars,
        text: `similar to ${title}, which you rated ${neighbour.stars}`,
      });
    }
    for (const said of way === 1 ? likes : avoided)
      why.push({ kind: 'memory', memoryId: said.memoryId, text: `you said: "${said.text}"` });
    // Rather than invent a reason: the plain fact of how little bears on it.
    if (why.length === 0 && level === 'global' && others) {
      if (others.count === 0)
        why.push({
          kind: 'unrated',
          text: others.anyRatings ? 'nobody has rated it yet' : 'nobody has rated anything yet',
        });
      else if (others.count < MINIMUM_AGGREGATE)
        why.push({
          kind: 'unrated',
          text: `fewer than ${MINIMUM_AGGREGATE} people have rated it, so this is near the average of all ratings`,
        });
    }
    return { ...result, why };
  }
}

/** Everyone's ratings of an item: their mean, and the mean shrunk toward all ratings' (the global-level prediction). */
interface OthersRatings {
  count: number;
  mean: number | undefined;
  predicted: number;
  anyRatings: boolean;
}

function othersRatings(item: StarSum, all: StarSum): OthersRatings {
  // The mean of every rating, as SQL's avg() gives it: the exact sum over the count.
  const prior = all.count > 0 ? all.total / all.count : 3;
  return {
    count: item.count,
    mean: item.count > 0 ? item.total / item.count : undefined,
    predicted: (item.total + 5 * prior) / (item.count + 5),
    anyRatings: all.count > 0,
  };
}

function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 || b.size === 0) return 0;
  let shared = 0;
  for (const value of a) if (b.has(value)) shared++;
  return shared / (a.size + b.size - shared);
}
