/**
 * The downstream model of the survey's framework: the same user memory that personalizes the conversation drives
 * a recommender and a rating predictor. The agent's `recommend` and `rate` tools call this interface.
 */

/** Where a rating came from. */
export type RatingSource = 'explicit' | 'stated-in-chat';

/** One catalog item (a movie, a book, a dish...). */
export interface Item {
  readonly id: string;
  readonly title: string;
  readonly description: string | null;
  readonly tags: readonly string[];
  readonly year: number | null;
  readonly metadata: Readonly<Record<string, unknown>>;
}

/** A user's rating of an item, 1–5 stars. */
export interface Rating {
  readonly userId: string;
  readonly itemId: string;
  readonly stars: number;
  readonly at: Date;
  readonly source: RatingSource;
}

/**
 * One reason a recommendation or prediction was made, for the user to read: a true statement that argues for it.
 * `unrated` says that nothing bears on the item (nobody has rated it, nothing the user said is about it).
 */
export type Why =
  | {
      readonly kind: 'rating';
      readonly itemId: string;
      readonly title: string;
      readonly stars: number;
      readonly text: string;
    }
  | { readonly kind: 'memory'; readonly memoryId: string; readonly text: string }
  | { readonly kind: 'persona'; readonly persona: string; readonly text: string }
  | { readonly kind: 'popular'; readonly text: string }
  /** The user's rated items point to it, though none of those behind it were liked. */
  | { readonly kind: 'together'; readonly text: string }
  | { readonly kind: 'unrated'; readonly text: string };

/** A predicted rating with the granularity it came from. */
export interface Prediction {
  readonly itemId: string;
  readonly title: string;
  /** Predicted stars, within 1–5. */
  readonly predicted: number;
  /** Which level carried the prediction: the user's own model, their persona's, or global biases. */
  readonly level: 'user' | 'persona' | 'global';
  readonly why: readonly Why[];
}

/** One recommended item, best first. */
export interface Recommendation extends Prediction {
  /** Ranking score: the top-k score rescaled to 0–1 over the catalog, plus lifts for stated likes and query words. */
  readonly score: number;
}

/** Options of {@link Recommender.recommend}. */
export interface RecommendOptions {
  /** How many items. @default 10 */
  k?: number;
  /** Words that lift items whose title, tags or description contain them. */
  query?: string | undefined;
  signal?: AbortSignal | undefined;
  /** Penalty for sharing tags with an item already picked; 0 ranks by score alone. @default DIVERSITY (service.ts) */
  diversity?: number;
}

/** What the agent needs from the recommender. */
export interface Recommender {
  /** Top-k unseen items for a user, honouring hard constraints from their memory; each says what put it there. */
  recommend(userId: string, options?: RecommendOptions): Promise<Recommendation[]>;
  /** Predicted rating of one item (id or title, resolved fuzzily). */
  predict(userId: string, item: string): Promise<Prediction>;
  /** Records a rating (title resolved fuzzily; an ambiguous title is an error listing the candidates). */
  rate(userId: string, item: string, stars: number, options?: { source?: RatingSource; at?: Date }): Promise<Rating>;
}

/** What every surface says when a recommendation from a catalog that has items comes back empty. */
export const NOTHING_LEFT =
  'nothing left to recommend: every catalog item is rated already or ruled out by a stated preference';
