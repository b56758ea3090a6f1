import { join } from 'node:path';
import {
  backoffWeight,
  clampStars,
  coldStartSplit,
  DIVERSITY,
  errorMetrics,
  evaluateTopk,
  fitBiases,
  fitPersonas,
  hitAndGain,
  type LeaveOneOut,
  leaveLastOut,
  type MovielensData,
  movielensDemographics,
  predictBias,
  RecommenderService,
  readMovielens,
  readMovielensRatings,
  recommenderStorage,
  storeMovielens,
  type TopkFigures,
  trainEnsemble,
  trainFactorization,
} from '../../recommender/index.js';
import { openStore } from '../storage.js';
import { latencySummary, mean } from './stats.js';

/** Options of {@link runMovielensBench}. */
export interface MovielensBenchOptions {
  /** Directory of MovieLens 100K (u.data, u.item, u.user, u1..u5.base/.test). */
  dataPath: string;
  /** Folds to run (1–5). @default [1, 2, 3, 4, 5] */
  folds?: readonly number[];
  /** Progress: `done` of `total` steps, with the phase being run. */
  onProgress?: (progress: { done: number; total: number; phase: string }) => void;
}

export interface FoldFigures {
  fold: number;
  rmse: number;
  mae: number;
  trainSeconds: number;
  baselines: { globalMean: { rmse: number; mae: number }; bias: { rmse: number; mae: number } };
}

/**
 * The model mnemo serves, measured on one fold: `mnemo train` on its training part in a database, then every test
 * rating predicted through {@link RecommenderService.predict} (the stored bundle, the user folded in from their
 * current ratings), as `mnemo predict` and the agent's tools do.
 */
export interface ServingFigures {
  fold: number;
  rmse: number;
  mae: number;
  trainSeconds: number;
  predictLatencyMs: { p50: number; p95: number };
}

/**
 * `mnemo recommend` itself on the leave-last-out split, its tag-diversity re-ranking on: whether the held-out item is
 * among the 10 it serves, and how long a call takes.
 */
export interface ServedTopkFigures {
  full: { hr10: number; ndcg10: number };
  diversity: number;
  /** Distinct tags (genres) in a top 10, mean over users: ranked by score alone, and as served. */
  tagsPerList: { ranked: number; served: number };
  recommendLatencyMs: { p50: number; p95: number };
}

export interface MovielensReport {
  rating: {
    rmse: number;
    mae: number;
    folds: FoldFigures[];
    trainSeconds: number;
    baselines: { globalMean: { rmse: number; mae: number }; bias: { rmse: number; mae: number } };
    serving: ServingFigures;
  };
  /**
   * The scorer `mnemo recommend` ranks by ({@link RecommenderService.scoreCatalog}), on a model `mnemo train` made from
   * the training part; `served` is recommend() itself.
   */
  topk: TopkFigures & { mostPop: TopkFigures; served: ServedTopkFigures; trainSeconds: number; users: number };
  coldStart: {
    users: number;
    testRatings: number;
    user: { rmse: number };
    persona: { rmse: number };
    global: { rmse: number };
  };
}

const round = (value: number): number => Math.round(value * 10_000) / 10_000;
const USERS = 943;
const ITEMS = 1682;
/** MovieLens 100K's index space: every fold file is read into it, so folds share indices. */
const COUNTS = { userCount: USERS, itemCount: ITEMS };

/**
 * MovieLens 100K: rating prediction on the canonical folds u1..u5 (ensemble vs global mean and bias baselines),
 * top-k by leave-last-out (the served ranking, recency-weighted EASE backed off to persona popularity, vs MostPop,
 * sampled and full ranking), and cold start (users cut to their first 5 ratings: user-level vs persona backoff vs
 * global).
 */
export async function runMovielensBench(options: MovielensBenchOptions): Promise<MovielensReport> {
  const folds = options.folds ?? [1, 2, 3, 4, 5];
  const total = folds.length * 2 + 7;
  let done = 0;
  const step = (phase: string): void => options.onProgress?.({ done: ++done, total, phase });
  const tick = async (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

  const foldFigures: FoldFigures[] = [];
  for (const fold of folds) {
    const train = readMovielensRatings(join(options.dataPath, `u${fold}.base`), COUNTS);
    const test = readMovielensRatings(join(options.dataPath, `u${fold}.test`), COUNTS);
    const started = performance.now();
    const ensemble = trainEnsemble(train, { onProgress: (stage) => stage === 1 && step(`fold ${fold}: training`) });
    const trainSeconds = (performance.now() - started) / 1000;
    await tick();
    const predicted = new Float64Array(test.stars.length);
    const bias = new Float64Array(test.stars.length);
    const globalMean = new Float64Array(test.stars.length).fill(ensemble.biases.mean);
    const biases = fitBiases(train);
    for (let index = 0; index < test.stars.length; index++) {
      predicted[index] = ensemble.predict(test.users[index]!, test.items[index]!);
      bias[index] = predictBias(biases, test.users[index]!, test.items[index]!);
    }
    foldFigures.push({
      fold,
      ...errorMetrics(predicted, test.stars),
      trainSeconds,
      baselines: { globalMean: errorMetrics(globalMean, test.stars), bias: errorMetrics(bias, test.stars) },
    });
    step(`fold ${fold}: evaluated`);
    await tick();
  }
  const averaged = (pick: (fold: FoldFigures) => number): number => round(mean(foldFigures.map(pick)));

  const movielens = readMovielens(options.dataPath);
  const serving = await servingFold(options.dataPath, movielens, folds[0] ?? 1, step);
  await tick();
  const split = leaveLastOut(movielens.ratings);
  const served = await servedTopk(movielens, split, step);
  const popularity = new Float64Array(ITEMS);
  for (let index = 0; index < split.train.items.length; index++) popularity[split.train.items[index]!]!++;
  const mostPop = evaluateTopk(split, movielens.ratings, () => popularity);
  await tick();

  const cold = coldStartSplit(movielens.ratings);
  const model = trainFactorization(cold.warm);
  const demographics = movielensDemographics(movielens.users);
  const personas = fitPersonas(cold.warm, model, { demographics });
  step('cold start: trained');
  const levels = { user: [] as number[], persona: [] as number[], global: [] as number[] };
  const perUser = new Map<
    number,
    { vector: ReturnType<typeof model.foldIn>; weights: Float64Array; evidence: number }
  >();
  for (const [user, first] of cold.firstRatings) {
    perUser.set(user, {
      vector: model.foldIn(first),
      weights: personas.assign(first, demographics[user]),
      evidence: first.length,
    });
  }
  for (let index = 0; index < cold.test.stars.length; index++) {
    const entry = perUser.get(cold.test.users[index]!)!;
    const item = cold.test.items[index]!;
    const userLevel = model.rawFor(entry.vector, item);
    const share = backoffWeight(entry.evidence);
    levels.user.push(clampStars(userLevel));
    levels.persona.push(clampStars(share * userLevel + (1 - share) * personas.raw(entry.weights, item)));
    levels.global.push(clampStars(model.mean + model.itemBias[item]!));
  }
  step('cold start: evaluated');

  const roundTopk = (figures: TopkFigures): TopkFigures => ({
    sampled: { hr10: round(figures.sampled.hr10), ndcg10: round(figures.sampled.ndcg10) },
    full: { hr10: round(figures.full.hr10), ndcg10: round(figures.full.ndcg10) },
  });
  const coldRmse = (values: number[]): { rmse: number } => ({
    rmse: round(errorMetrics(values, cold.test.stars).rmse),
  });
  return {
    rating: {
      rmse: averaged((fold) => fold.rmse),
      mae: averaged((fold) => fold.mae),
      folds: foldFigures.map((fold) => ({
        ...fold,
        rmse: round(fold.rmse),
        mae: round(fold.mae),
        trainSeconds: round(fold.trainSeconds),
        baselines: {
          globalMean: { rmse: round(fold.baselines.globalMean.rmse), mae: round(fold.baselines.globalMean.mae) },
          bias: { rmse: round(fold.baselines.bias.rmse), mae: round(fold.baselines.bias.mae) },
        },
      })),
      trainSeconds: round(foldFigures.reduce((sum, fold) => sum + fold.trainSeconds, 0)),
      baselines: {
        globalMean: {
          rmse: averaged((fold) => fold.baselines.globalMean.rmse),
          mae: averaged((fold) => fold.baselines.globalMean.mae),
        },
        bias: { rmse: averaged((fold) => fold.baselines.bias.rmse), mae: averaged((fold) => fold.baselines.bias.mae) },
      },
      serving,
    },
    topk: {
      ...roundTopk(served.topk),
      mostPop: roundTopk(mostPop),
      served: {
        ...served.served,
        full: { hr10: round(served.served.full.hr10), ndcg10: round(served.served.full.ndcg10) },
      },
      trainSeconds: round(served.trainSeconds),
      users: split.heldOut.filter((item) => item >= 0).length,
    },
    coldStart: {
      users: cold.firstRatings.size,
      testRatings: cold.test.stars.length,
      user: coldRmse(levels.user),
      persona: coldRmse(levels.persona),
      global: coldRmse(levels.global),
    },
  };
}

async function servingFold(
  dataPath: string,
  movielens: MovielensData,
  fold: number,
  step: (phase: string) => void,
): Promise<ServingFigures> {
  const test = readMovielensRatings(join(dataPath, `u${fold}.test`), COUNTS);
  const store = await openStore(':memory:');
  try {
    const service = new RecommenderService({ storage: recommenderStorage(store.backend) });
    await storeMovielens(service.storage, movielens, readMovielensRatings(join(dataPath, `u${fold}.base`), COUNTS));
    const started = performance.now();
    await service.train();
    const trainSeconds = (performance.now() - started) / 1000;
    step(`serving: mnemo train on u${fold}.base`);
    const predicted = new Float64Array(test.stars.length);
    const latencies: number[] = [];
    for (let index = 0; index < test.stars.length; index++) {
      const before = performance.now();
      predicted[index] = (
        await service.predict(`ml${test.users[index]! + 1}`, `ml${test.items[index]! + 1}`)
      ).predicted;
      latencies.push(performance.now() - before);
    }
    step(`serving: u${fold}.test predicted`);
    const { rmse, mae } = errorMetrics(predicted, test.stars);
    return {
      fold,
      rmse: round(rmse),
      mae: round(mae),
      trainSeconds: round(trainSeconds),
      predictLatencyMs: latencySummary(latencies),
    };
  } finally {
    await store.close();
  }
}

/**
 * Top-k as served: `mnemo train` on the leave-last-out training part in a database, then every user's held-out item
 * ranked by the scores `mnemo recommend` ranks by (constraints and diversity aside: MovieLens users state nothing),
 * and recommend() itself asked for 10.
 */
async function servedTopk(
  movielens: MovielensData,
  split: LeaveOneOut,
  step: (phase: string) => void,
): Promise<{ topk: TopkFigures; served: ServedTopkFigures; trainSeconds: number }> {
  const store = await openStore(':memory:');
  try {
    const service = new RecommenderService({ storage: recommenderStorage(store.backend) });
    await storeMovielens(service.storage, movielens, split.train);
    const started = performance.now();
    await service.train();
    const trainSeconds = (performance.now() - started) / 1000;
    step('top-k: mnemo train on the leave-last-out training part');
    const tagsOf = new Map((await service.storage.items()).map((item) => [Number(item.id.slice(2)) - 1, item.tags]));
    const distinctTags = (items: readonly number[]): number =>
      new Set(items.flatMap((item) => tagsOf.get(item) ?? [])).size;
    // Storage is async and the evaluation's scorer is not: every evaluated user's scores are read first.
    const scored = new Map<number, Float64Array>();
    for (let user = 0; user < USERS; user++) {
      if (split.heldOut[user]! < 0) continue;
      const { items, scores } = await service.scoreCatalog(`ml${user + 1}`);
      const byIndex = new Float64Array(ITEMS).fill(-Infinity);
      for (const [position, item] of items.entries()) byIndex[Number(item.id.slice(2)) - 1] = scores[position]!;
      scored.set(user, byIndex);
    }
    let rankedTags = 0;
    const topk = evaluateTopk(split, movielens.ratings, (user, trainItems) => {
      const byIndex = scored.get(user)!;
      const rated = new Set(trainItems);
      const top = Array.from({ length: ITEMS }, (_, item) => item)
        .filter((item) => !rated.has(item))
        .sort((a, b) => byIndex[b]! - byIndex[a]!)
        .slice(0, 10);
      rankedTags += distinctTags(top);
      return byIndex;
    });
    step('top-k: ranked');
    let hits = 0;
    let gains = 0;
    let users = 0;
    let servedTags = 0;
    const latencies: number[] = [];
    for (let user = 0; user < USERS; user++) {
      const heldOut = split.heldOut[user]!;
      if (heldOut < 0) continue;
      const before = performance.now();
      const recommendations = await service.recommend(`ml${user + 1}`, { k: 10 });
      latencies.push(performance.now() - before);
      servedTags += distinctTags(recommendations.map((entry) => Number(entry.itemId.slice(2)) - 1));
      const rank = recommendations.findIndex((entry) => entry.itemId === `ml${heldOut + 1}`);
      const result = hitAndGain(rank < 0 ? Infinity : rank);
      hits += result.hit;
      gains += result.gain;
      users++;
    }
    step('top-k: recommend() served');
    const count = Math.max(1, users);
    const tagsPerList = { ranked: round(rankedTags / count), served: round(servedTags / count) };
    return {
      topk,
      served: {
        full: { hr10: hits / count, ndcg10: gains / count },
        diversity: DIVERSITY,
        tagsPerList,
        recommendLatencyMs: latencySummary(latencies),
      },
      trainSeconds,
    };
  } finally {
    await store.close();
  }
}
