import { describe, expect, it } from 'vitest';
import { groupRatings, type RatingData, ratingData, selectRatings } from '../../recommender/model/data.js';
import { trainEase } from '../../recommender/model/ease.js';
import { trainEnsemble } from '../../recommender/model/ensemble.js';
import { fitBiases, predictBias, trainFactorization } from '../../recommender/model/factorization.js';
import { errorMetrics } from '../../recommender/model/metrics.js';
import { fitPersonas } from '../../recommender/model/personas.js';
import { createRandom } from '../../recommender/model/random.js';

/** Ratings drawn from a planted rank-2 taste structure: two groups of users who love opposite halves of the items. */
function plantedRatings(options: { users: number; items: number; density: number; seed: number }): {
  data: RatingData;
  truth: (user: number, item: number) => number;
} {
  const random = createRandom(options.seed);
  const userTaste = Array.from({ length: options.users }, () => [random.gaussian(), random.gaussian()]);
  const itemTaste = Array.from({ length: options.items }, () => [random.gaussian(), random.gaussian()]);
  const truth = (user: number, item: number): number => {
    const dot = userTaste[user]![0]! * itemTaste[item]![0]! + userTaste[user]![1]! * itemTaste[item]![1]!;
    return Math.min(5, Math.max(1, 3 + 0.9 * dot));
  };
  const rows: Array<{ user: number; item: number; stars: number; time: number }> = [];
  for (let user = 0; user < options.users; user++) {
    for (let item = 0; item < options.items; item++) {
      if (random.next() < options.density)
        rows.push({ user, item, stars: Math.round(truth(user, item) + 0.3 * random.gaussian()), time: rows.length });
    }
  }
  for (const row of rows) row.stars = Math.min(5, Math.max(1, row.stars));
  return { data: ratingData(rows, { userCount: options.users, itemCount: options.items }), truth };
}

function split(data: RatingData, seed: number): { train: RatingData; test: RatingData } {
  const random = createRandom(seed);
  const train: number[] = [];
  const test: number[] = [];
  for (let index = 0; index < data.stars.length; index++) (random.next() < 0.2 ? test : train).push(index);
  return { train: selectRatings(data, train), test: selectRatings(data, test) };
}

describe('rating predictor', () => {
  const { data } = plantedRatings({ users: 200, items: 120, density: 0.25, seed: 3 });
  const { train, test } = split(data, 4);

  it('learns a planted low-rank structure far better than biases alone', () => {
    const model = trainFactorization(train, {
      factors: 4,
      epochs: 100,
      learningRate: 0.02,
      regularization: 0.02,
      decay: 0.98,
    });
    const biases = fitBiases(train);
    const factorization = errorMetrics(
      Array.from(test.stars, (_, index) => model.predict(test.users[index]!, test.items[index]!)),
      test.stars,
    );
    const baseline = errorMetrics(
      Array.from(test.stars, (_, index) => predictBias(biases, test.users[index]!, test.items[index]!)),
      test.stars,
    );
    expect(factorization.rmse).toBeLessThan(baseline.rmse * 0.7);
  });

  it('keeps every prediction of the blended ensemble within 1–5', () => {
    const ensemble = trainEnsemble(train, { factorization: { factors: 8, epochs: 20 } });
    for (let user = 0; user < train.userCount; user += 7) {
      for (let item = 0; item < train.itemCount; item++) {
        const stars = ensemble.predict(user, item);
        expect(stars).toBeGreaterThanOrEqual(1);
        expect(stars).toBeLessThanOrEqual(5);
      }
    }
  });

  it('folds in a new user: their predictions move toward their ratings without retraining', () => {
    const model = trainFactorization(train, { factors: 8, epochs: 40 });
    // A newcomer who rates the items the first planted user loves high and those they hate low.
    const items = Array.from({ length: train.itemCount }, (_, item) => item);
    const ranked = [...items].sort((a, b) => model.raw(0, b) - model.raw(0, a));
    const liked = ranked.slice(0, 8);
    const disliked = ranked.slice(-8);
    const empty = model.foldIn([]);
    const newcomer = model.foldIn([
      ...liked.map((item) => ({ item, stars: 5 })),
      ...disliked.map((item) => ({ item, stars: 1 })),
    ]);
    const similarToFirst = ranked.slice(8, 20);
    const gainOnSimilar =
      similarToFirst.reduce((sum, item) => sum + model.rawFor(newcomer, item) - model.rawFor(empty, item), 0) /
      similarToFirst.length;
    expect(gainOnSimilar).toBeGreaterThan(0.3);
    for (const item of liked) expect(model.rawFor(newcomer, item)).toBeGreaterThan(model.rawFor(empty, item));
    for (const item of disliked) expect(model.rawFor(newcomer, item)).toBeLessThan(model.rawFor(empty, item));
  });

  it('places a newcomer in the persona that shares their taste', () => {
    const model = trainFactorization(train, { factors: 8, epochs: 40 });
    const personas = fitPersonas(train, model, { count: 3 });
    const user = 5;
    const byUser = groupRatings(train, 'user');
    const ratings = Array.from(
      byUser.columns.subarray(byUser.offsets[user]!, byUser.offsets[user + 1]!),
      (item, index) => ({ item, stars: byUser.values[byUser.offsets[user]! + index]! }),
    );
    const weights = personas.assign(ratings);
    expect(weights.indexOf(Math.max(...weights))).toBe(personas.assignments[user]);
  });
});

describe('EASE top-k', () => {
  it('ranks the items that co-occur with a user history above the rest', () => {
    // Items 0–4 are always taken together, items 5–9 together.
    const rows = Array.from({ length: 60 }, (_, user) =>
      Array.from({ length: 5 }, (_, offset) => ({ user, item: (user % 2) * 5 + offset, stars: 4 })),
    ).flat();
    const ease = trainEase(groupRatings(ratingData(rows, { userCount: 60, itemCount: 10 }), 'user'), 10, { lambda: 5 });
    const scores = ease.scores([0, 1]);
    for (const partner of [2, 3, 4])
      for (const stranger of [5, 6, 7, 8, 9]) expect(scores[partner]!).toBeGreaterThan(scores[stranger]!);
  });
});
