import { groupRatings, type RatingData, selectRatings } from './data.js';
import { hitAndGain, rankOf } from './metrics.js';
import { createRandom } from './random.js';

/** Leave-one-out split: each user's latest rating (by time; ties: the later row) is the test positive. */
export interface LeaveOneOut {
  readonly train: RatingData;
  /** Per user: the held-out item, or −1 for a user with fewer than two ratings. */
  readonly heldOut: Int32Array;
}

export function leaveLastOut(data: RatingData): LeaveOneOut {
  const latest = new Int32Array(data.userCount).fill(-1);
  const counts = new Int32Array(data.userCount);
  for (let index = 0; index < data.users.length; index++) {
    const user = data.users[index]!;
    counts[user]!++;
    const current = latest[user]!;
    if (current < 0 || data.times[index]! >= data.times[current]!) latest[user] = index;
  }
  const keep: number[] = [];
  const heldOut = new Int32Array(data.userCount).fill(-1);
  for (let index = 0; index < data.users.length; index++) {
    const user = data.users[index]!;
    if (latest[user] === index && counts[user]! >= 2) heldOut[user] = data.items[index]!;
    else keep.push(index);
  }
  return { train: selectRatings(data, keep), heldOut };
}

/** HR@10 and NDCG@10 with sampled negatives and over the full ranking. */
export interface TopkFigures {
  sampled: { hr10: number; ndcg10: number };
  full: { hr10: number; ndcg10: number };
}

/** Options of {@link evaluateTopk}. */
export interface TopkEvaluationOptions {
  /** Sampled negatives per user, drawn from items the user never rated. @default 99 */
  negatives?: number;
  /** Seed of the negatives; the same seed gives every scorer the same candidates. @default 2024 */
  seed?: number;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Ranks each user's held-out item by `score` (scores of every item for a user; higher first) among sampled
 * unseen items and among all items the user has not rated in training. `allRated` lists, per user, every item
 * rated anywhere (so negatives are truly unseen).
 */
export function evaluateTopk(
  split: LeaveOneOut,
  allRatings: RatingData,
  score: (user: number, trainItems: Int32Array) => Float64Array,
  options: TopkEvaluationOptions = {},
): TopkFigures {
  const negatives = options.negatives ?? 99;
  const random = createRandom(options.seed ?? 2024);
  const byUserTrain = groupRatings(split.train, 'user');
  const byUserAll = groupRatings(allRatings, 'user');
  const itemCount = allRatings.itemCount;
  const seen = new Uint8Array(itemCount);
  const totals = { sampledHit: 0, sampledGain: 0, fullHit: 0, fullGain: 0, users: 0 };
  for (let user = 0; user < allRatings.userCount; user++) {
    const positive = split.heldOut[user]!;
    if (positive < 0) continue;
    seen.fill(0);
    for (let index = byUserAll.offsets[user]!; index < byUserAll.offsets[user + 1]!; index++)
      seen[byUserAll.columns[index]!] = 1;
    const sampled: number[] = [positive];
    const chosen = new Set<number>();
    while (sampled.length <= negatives && chosen.size + 0 < itemCount) {
      const candidate = random.integer(itemCount);
      if (seen[candidate] || chosen.has(candidate)) continue;
      chosen.add(candidate);
      sampled.push(candidate);
    }
    const trainItems = byUserTrain.columns.slice(byUserTrain.offsets[user]!, byUserTrain.offsets[user + 1]!);
    const scores = score(user, trainItems);
    const sampledResult = hitAndGain(rankOf(scores, positive, sampled));
    seen.fill(0);
    for (const item of trainItems) seen[item] = 1;
    const unseen: number[] = [];
    for (let item = 0; item < itemCount; item++) if (!seen[item]) unseen.push(item);
    const fullResult = hitAndGain(rankOf(scores, positive, unseen));
    totals.sampledHit += sampledResult.hit;
    totals.sampledGain += sampledResult.gain;
    totals.fullHit += fullResult.hit;
    totals.fullGain += fullResult.gain;
    totals.users++;
    options.onProgress?.(user + 1, allRatings.userCount);
  }
  const users = Math.max(1, totals.users);
  return {
    sampled: { hr10: totals.sampledHit / users, ndcg10: totals.sampledGain / users },
    full: { hr10: totals.fullHit / users, ndcg10: totals.fullGain / users },
  };
}
