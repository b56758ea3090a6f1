import { groupRatings, type RatingData, selectRatings } from './data.js';
import { createRandom, shuffle } from './random.js';

/** Options of {@link backoffWeight}. */
export interface BackoffOptions {
  /**
   * Ratings at which the user's own model and their persona's weigh equally (10 did best on a validation draw);
   * below it the persona dominates, far above it the user does. What a user said is not counted: it places them
   * in a persona, and leaves their own model (folded in from ratings alone) as uninformed as before. @default 10
   */
  balance?: number;
}

/** Weight of the user-level prediction against the persona-level one: n / (n + balance). */
export function backoffWeight(evidence: number, options: BackoffOptions = {}): number {
  const balance = options.balance ?? 10;
  return evidence <= 0 ? 0 : evidence / (evidence + balance);
}

/** A cold-start split: some users keep only their first ratings in training; the rest of theirs are the test. */
export interface ColdStartSplit {
  /** Every other user's ratings (the warm users). */
  readonly warm: RatingData;
  /** Cold users' first `keep` ratings by time, per cold user. */
  readonly firstRatings: Map<number, Array<{ item: number; stars: number }>>;
  /** The cold users' remaining ratings. */
  readonly test: RatingData;
}

/** Options of {@link coldStartSplit}. */
export interface ColdStartOptions {
  /** Share of users made cold. @default 0.2 */
  share?: number;
  /** Ratings a cold user keeps. @default 5 */
  keep?: number;
  /** Seed of the choice of cold users. @default 42 */
  seed?: number;
}

export function coldStartSplit(data: RatingData, options: ColdStartOptions = {}): ColdStartSplit {
  const keep = options.keep ?? 5;
  const random = createRandom(options.seed ?? 42);
  const byUser = groupRatings(data, 'user');
  const candidates = Array.from({ length: data.userCount }, (_, user) => user).filter(
    (user) => byUser.offsets[user + 1]! - byUser.offsets[user]! > keep,
  );
  shuffle(candidates, random);
  const cold = new Set(candidates.slice(0, Math.round(candidates.length * (options.share ?? 0.2))));
  const perUser = new Map<number, number[]>();
  const warm: number[] = [];
  for (let index = 0; index < data.users.length; index++) {
    const user = data.users[index]!;
    if (!cold.has(user)) warm.push(index);
    else (perUser.get(user) ?? perUser.set(user, []).get(user)!).push(index);
  }
  const firstRatings = new Map<number, Array<{ item: number; stars: number }>>();
  const test: number[] = [];
  for (const [user, indices] of perUser) {
    indices.sort((a, b) => data.times[a]! - data.times[b]! || a - b);
    firstRatings.set(
      user,
      indices.slice(0, keep).map((index) => ({ item: data.items[index]!, stars: data.stars[index]! })),
    );
    test.push(...indices.slice(keep));
  }
  return { warm: selectRatings(data, warm), firstRatings, test: selectRatings(data, test) };
}
