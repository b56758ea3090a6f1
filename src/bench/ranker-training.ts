import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Embedder, LearnedRanker } from '../../memory/index.js';
import { decodeUtf8, learnedScore, RANKING_FEATURES, recordRankingFeatures, userScope } from '../../memory/index.js';
import { openStore } from '../storage.js';
import { evidenceIds, LOCOMO_CATEGORIES, locomoEpisodes } from './locomo.js';
import { mean } from './stats.js';

/** One LoCoMo question's candidate pool, as the pipeline ranked it, with what the evidence is. */
export interface PoolQuestion {
  /** Index of the conversation (the unit that leave-one-conversation-out holds out). */
  conversation: number;
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
        const records: Array<Parameters<Parameters<typeof recordRankingFeatures>[0]>[0]> = [];
        const stop = recordRankingFeatures((record) => records.push(record));
        try {
          await store.search([scope], qa.question, { k: 25 });
        } finally {
          stop();
        }
        const record = records[0];
        questions.push({
          conversation,
          category: qa.category,
          evidence,
          sourceIds: record ? [...record.sourceIds] : [],
          features: record ? record.features.map((row) => [...row]) : [],
          scores: record ? [...record.scores] : [],
        });
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

const CUTOFFS = [5, 10, 25] as const;

/** Recall at 5, 10 and 25 of one question when its pool is ranked by `scores`. */
export function recallsOf(question: PoolQuestion, scores: readonly number[]): number[] {
  const order = scores.map((score, index) => ({ score, index })).sort((a, b) => b.score - a.score);
  return CUTOFFS.map((k) => {
    const top = new Set(order.slice(0, k).map(({ index }) => question.sourceIds[index]));
    return question.evidence.filter((id) => top.has(id)).length / question.evidence.length;
  });
}

/** Figures of a set of questions, each with its recall at 5, 10 and 25, overall and by category. */
export interface RecallTable {
  overall: { questions: number; recallAt5: number; recallAt10: number; recallAt25: number };
  byCategory: Record<string, RecallTable['overall'] & { name: string }>;
}

export function recallTable(questions: readonly PoolQuestion[], recalls: readonly number[][]): RecallTable {
  const figures = (rows: readonly number[][]) => ({
    questions: rows.length,
    recallAt5: round(mean(rows.map((row) => row[0]!))),
    recallAt10: round(mean(rows.map((row) => row[1]!))),
    recallAt25: round(mean(rows.map((row) => row[2]!))),
  });
  const byCategory: RecallTable['byCategory'] = {};
  for (const [id, name] of Object.entries(LOCOMO_CATEGORIES)) {
    const rows = recalls.filter((_, index) => questions[index]!.category === Number(id));
    if (rows.length > 0) byCategory[id] = { name, ...figures(rows) };
  }
  return { overall: figures(recalls), byCategory };
}

const round = (value: number): number => Math.round(value * 1000) / 1000;

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
export function trainLinearRanker(questions: readonly PoolQuestion[], options: TrainOptions): LearnedRanker {
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
  return { features: [...RANKING_FEATURES], mean: featureMean, scale, weights: [...weights] };
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

/** Scores of a pool under a model. */
export const modelScores = (model: LearnedRanker, question: PoolQuestion): number[] =>
  question.features.map((features) => learnedScore(model, features));

/** The L2 penalties inner cross-validation chooses from. */
export const LAMBDAS = [1e-4, 1e-3, 1e-2, 1e-1] as const;

/**
 * The penalty with the best mean R@10 when each of the training conversations is held out in turn from the rest
 * (inner leave-one-group-out over `folds` groups of conversations, so the outer test conversation is never seen).
 */
export function chooseLambda(questions: readonly PoolQuestion[], folds = 3): number {
  const conversations = [...new Set(questions.map((question) => question.conversation))].sort((a, b) => a - b);
  const groupOf = new Map(conversations.map((conversation, index) => [conversation, index % folds]));
  let best: { lambda: number; recall: number } | undefined;
  for (const lambda of LAMBDAS) {
    const recalls: number[] = [];
    for (let fold = 0; fold < folds; fold++) {
      const train = questions.filter((question) => groupOf.get(question.conversation) !== fold);
      const test = questions.filter((question) => groupOf.get(question.conversation) === fold);
      const model = trainLinearRanker(train, { lambda, iterations: 12 });
      for (const question of test) recalls.push(recallsOf(question, modelScores(model, question))[1]!);
    }
    const recall = mean(recalls);
    if (!best || recall > best.recall) best = { lambda, recall };
  }
  return best!.lambda;
}
