import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Embedder, MemoryStore, RankingRecord, Scope, SearchDepth } from '../../memory/index.js';
import { decodeUtf8, RANKING_FEATURES, recordRankingFeatures, userScope } from '../../memory/index.js';
import { openStore } from '../storage.js';
import { evidenceIds, locomoEpisodes } from './locomo.js';
import { DEFAULT_FILLER_TURNS, GOLD, prefevalCases, prefevalFiller, prefevalHistory } from './prefeval.js';
import { loadPrefeval } from './prefeval-data.js';
import { mean } from './stats.js';

/** One question's candidate pool, as the pipeline ranked it, with what the evidence is. */
export interface PoolQuestion {
  /** Where it comes from (LoCoMo when absent). */
  dataset?: 'locomo' | 'prefeval';
  /**
   * The unit a held-out split keeps apart: LoCoMo's conversation index, or {@link PREFEVAL_GROUP} plus PrefEval's
   * topic index.
   */
  conversation: number;
  /** LoCoMo's category, or PrefEval's set (1 explicit, 2 implicit). */
  category: number;
  evidence: string[];
  sourceIds: (string | null)[];
  features: number[][];
  /** The hand-weighted score of each candidate (today's ranking). */
  scores: number[];
}

type LocomoFile = Parameters<typeof locomoEpisodes>[0] & {
  qa: Array<{ question: string; evidence?: string[]; category: number }>;
};

/** Every LoCoMo question's candidate pool, with features, from one pass of the search. */
export async function extractPools(options: {
  dataPath: string;
  embedder: Embedder;
  /** How deep each stage of the search goes (the pipeline's defaults for k = 25 when absent). */
  depth?: Partial<SearchDepth>;
  onProgress?: (done: number, total: number) => void;
}): Promise<{ questions: PoolQuestion[]; dataSha256: string; conversations: number }> {
  const bytes = readFileSync(options.dataPath);
  const samples = JSON.parse(decodeUtf8(bytes, options.dataPath)) as LocomoFile[];
  let now = new Date();
  const store = await openStore(':memory:', { embedder: options.embedder, clock: () => now });
  const questions: PoolQuestion[] = [];
  try {
    for (const [conversation, sample] of samples.entries()) {
      options.onProgress?.(conversation, samples.length);
      const scope = userScope(`locomo:${sample.sample_id}`);
      const episodes = locomoEpisodes(sample);
      await store.addEpisodes(scope, episodes);
      const known = new Set(episodes.map((episode) => episode.sourceId!));
      now = new Date(Math.max(...episodes.map((episode) => new Date(episode.at!).getTime())));
      for (const qa of sample.qa) {
        const evidence = evidenceIds(qa.evidence, known);
        if (evidence.length === 0) continue;
        const pool = await recordPool(store, scope, qa.question, 25, options.depth);
        questions.push({ conversation, category: qa.category, evidence, ...pool });
      }
    }
  } finally {
    await store.close();
  }
  return {
    questions,
    dataSha256: createHash('sha256').update(bytes).digest('hex'),
    conversations: samples.length,
  };
}

/** The candidate pool one search ranked, as the recorder saw it. */
async function recordPool(
  store: MemoryStore,
  scope: Scope,
  query: string,
  k: number,
  depth?: Partial<SearchDepth>,
): Promise<Pick<PoolQuestion, 'sourceIds' | 'features' | 'scores'>> {
  const records: RankingRecord[] = [];
  const stop = recordRankingFeatures((record) => records.push(record));
  try {
    // The features do not depend on the shipped model, and a model of other features cannot load.
    await store.search([scope], query, { k, weights: { learned: 0 }, ...(depth ? { depth } : {}) });
  } finally {
    stop();
  }
  const record = records[0];
  return {
    sourceIds: record ? [...record.sourceIds] : [],
    features: record ? record.features.map((row) => [...row]) : [],
    scores: record ? [...record.scores] : [],
  };
}

/** PrefEval questions' group ids start here, after any LoCoMo conversation's. */
export const PREFEVAL_GROUP = 1000;

/**
 * Every PrefEval item's candidate pool (a fresh user per item, the preference among the filler, as the bench runs
 * it), with the preference turn as the evidence.
 */
export async function extractPrefevalPools(options: {
  dataPath: string;
  embedder: Embedder;
  /** Only the first n items of each topic. @default all */
  limit?: number;
  /** How deep each stage of the search goes (the pipeline's defaults for k = 10 when absent). */
  depth?: Partial<SearchDepth>;
  onProgress?: (done: number, total: number) => void;
}): Promise<{ questions: PoolQuestion[]; topics: string[]; dataSha256: string }> {
  const data = loadPrefeval(options.dataPath);
  const filler = prefevalFiller(data, DEFAULT_FILLER_TURNS);
  const cases = prefevalCases(data, { limit: options.limit });
  const topics = data.topics.map((topic) => topic.name);
  const questions: PoolQuestion[] = [];
  for (const [index, testCase] of cases.entries()) {
    if (index % 50 === 0) options.onProgress?.(index, cases.length);
    const { turns, now } = prefevalHistory(testCase, filler);
    const store = await openStore(':memory:', { embedder: options.embedder, clock: () => now });
    try {
      const scope = userScope(`prefeval:${testCase.set}:${testCase.topic}`);
      await store.addEpisodes(scope, turns);
      questions.push({
        dataset: 'prefeval',
        conversation: PREFEVAL_GROUP + topics.indexOf(testCase.topic),
        category: testCase.set === 'explicit' ? 1 : 2,
        evidence: [GOLD],
        ...(await recordPool(store, scope, testCase.question, 10, options.depth)),
      });
    } finally {
      await store.close();
    }
  }
  // The hash of what was read (not of the files): the items and the filler, in the order they were used.
  const dataSha256 = createHash('sha256').update(JSON.stringify(data)).digest('hex');
  return { questions, topics, dataSha256 };
}

const CUTOFFS = [5, 10, 25] as const;

/** Recall at each cutoff (5, 10 and 25 unless given) of one question when its pool is ranked by `scores`. */
export function recallsOf(
  question: PoolQuestion,
  scores: readonly number[],
  cutoffs: readonly number[] = CUTOFFS,
): number[] {
  const order = scores.map((score, index) => ({ score, index })).sort((a, b) => b.score - a.score);
  return cutoffs.map((k) => {
    const top = new Set(order.slice(0, k).map(({ index }) => question.sourceIds[index]));
    return question.evidence.filter((id) => top.has(id)).length / question.evidence.length;
  });
}

/** Options of {@link trainLinearRanker}. */
export interface TrainOptions {
  /** L2 penalty on the standardised weights. */
  lambda: number;
  /** Newton steps. @default 25 */
  iterations?: number;
}

/**
 * A pairwise logistic (RankNet-style, linear) model: every evidence turn of a question should outscore every other
 * candidate of its pool. Each question weighs the same, whatever its pool's size. Fitted by Newton's method, which
 * for a convex loss over a handful of features converges in a few steps.
 */
export function trainLinearRanker(questions: readonly PoolQuestion[], options: TrainOptions): LinearModel {
  const dims = RANKING_FEATURES.length;
  const rows = questions.flatMap((question) => question.features);
  const featureMean = Array.from({ length: dims }, (_, i) => mean(rows.map((row) => row[i]!)));
  const scale = Array.from({ length: dims }, (_, i) => {
    const deviation = Math.sqrt(mean(rows.map((row) => (row[i]! - featureMean[i]!) ** 2)));
    return deviation > 1e-9 ? deviation : 1;
  });
  // Pair differences, standardised, with each question's pairs weighing 1 in total.
  const differences: Float64Array[] = [];
  const pairWeights: number[] = [];
  for (const question of questions) {
    const evidence = new Set(question.evidence);
    const positive = question.features.filter((_, index) => evidence.has(question.sourceIds[index] ?? ''));
    const negative = question.features.filter((_, index) => !evidence.has(question.sourceIds[index] ?? ''));
    if (positive.length === 0 || negative.length === 0) continue;
    const weight = 1 / (positive.length * negative.length);
    for (const p of positive)
      for (const n of negative) {
        differences.push(Float64Array.from({ length: dims }, (_, i) => (p[i]! - n[i]!) / scale[i]!));
        pairWeights.push(weight);
      }
  }
  const totalWeight = pairWeights.reduce((sum, weight) => sum + weight, 0) || 1;
  const weights = new Float64Array(dims);
  const lossAt = (w: Float64Array): number => {
    let loss = 0;
    for (const [index, difference] of differences.entries()) {
      let margin = 0;
      for (let i = 0; i < dims; i++) margin += w[i]! * difference[i]!;
      loss += pairWeights[index]! * softplus(-margin);
    }
    let penalty = 0;
    for (let i = 0; i < dims; i++) penalty += w[i]! ** 2;
    return loss / totalWeight + (options.lambda / 2) * penalty;
  };
  let loss = lossAt(weights);
  for (let iteration = 0; iteration < (options.iterations ?? 25); iteration++) {
    const gradient = new Float64Array(dims);
    const hessian = Array.from({ length: dims }, () => new Float64Array(dims));
    for (const [index, difference] of differences.entries()) {
      let margin = 0;
      for (let i = 0; i < dims; i++) margin += weights[i]! * difference[i]!;
      const p = 1 / (1 + Math.exp(margin));
      const c = pairWeights[index]! / totalWeight;
      for (let i = 0; i < dims; i++) {
        gradient[i]! -= c * p * difference[i]!;
        const curvature = c * p * (1 - p) * difference[i]!;
        const row = hessian[i]!;
        for (let j = 0; j <= i; j++) row[j]! += curvature * difference[j]!;
      }
    }
    for (let i = 0; i < dims; i++) {
      gradient[i]! += options.lambda * weights[i]!;
      hessian[i]![i]! += options.lambda;
      for (let j = 0; j < i; j++) hessian[j]![i] = hessian[i]![j]!;
    }
    const step = solve(hessian, gradient);
    // Damped Newton: halve the step until the loss goes down.
    let size = 1;
    let next = weights.map((w, i) => w - size * step[i]!);
    let nextLoss = lossAt(next);
    while (nextLoss > loss && size > 1e-4) {
      size /= 2;
      next = weights.map((w, i) => w - size * step[i]!);
      nextLoss = lossAt(next);
    }
    if (nextLoss > loss) break;
    weights.set(next);
    const improvement = loss - nextLoss;
    loss = nextLoss;
    if (improvement < 1e-9) break;
  }
  return { mean: featureMean, scale, weights: [...weights] };
}

const softplus = (x: number): number => (x > 30 ? x : Math.log1p(Math.exp(x)));

/** Solves A x = b for a symmetric positive definite A (Gaussian elimination with partial pivoting). */
function solve(matrix: readonly Float64Array[], vector: Float64Array): Float64Array {
  const n = vector.length;
  const a = matrix.map((row, i) => [...row, vector[i]!]);
  for (let column = 0; column < n; column++) {
    let pivot = column;
    for (let row = column + 1; row < n; row++)
      if (Math.abs(a[row]![column]!) > Math.abs(a[pivot]![column]!)) pivot = row;
    [a[column], a[pivot]] = [a[pivot]!, a[column]!];
    const lead = a[column]![column]!;
    for (let row = column + 1; row < n; row++) {
      const factor = a[row]![column]! / lead;
      for (let k = column; k <= n; k++) a[row]![k]! -= factor * a[column]![k]!;
    }
  }
  const x = new Float64Array(n);
  for (let row = n - 1; row >= 0; row--) {
    let sum = a[row]![n]!;
    for (let k = row + 1; k < n; k++) sum -= a[row]![k]! * x[k]!;
    x[row] = sum / a[row]![row]!;
  }
  return x;
}

/** A linear model over standardised features: the baseline the shipped trees are measured against. */
export interface LinearModel {
  /** Mean of each feature on the training pool, subtracted before weighting. */
  readonly mean: readonly number[];
  /** Standard deviation of each feature on the training pool (1 where constant). */
  readonly scale: readonly number[];
  readonly weights: readonly number[];
}

/** Scores of a pool under a linear model. */
export const linearScores = (model: LinearModel, question: PoolQuestion): number[] =>
  question.features.map((features) => {
    let total = 0;
    for (let i = 0; i < model.weights.length; i++)
      total += model.weights[i]! * ((features[i]! - model.mean[i]!) / model.scale[i]!);
    return total;
  });
