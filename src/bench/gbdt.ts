import { type Tree, type TreeEnsemble, treeEnsembleScore } from '../../memory/index.js';
import type { PoolQuestion } from './ranker-training.js';

/** Options of {@link trainTreeRanker}. */
export interface TreeTrainOptions {
  /** Boosting rounds (trees). */
  trees: number;
  /** Depth of each tree (a tree of depth d has at most 2^d leaves). */
  depth: number;
  /** Shrinkage, folded into the leaf values. */
  learningRate: number;
  /** Fewest rows a leaf may hold. @default 20 */
  minLeaf?: number;
  /** Quantile bins per feature for the split search (2 to 256). @default 64 */
  bins?: number;
  /** Weigh each pair by |ΔNDCG| of swapping it under the current scores (LambdaMART). @default false */
  ndcgWeighted?: boolean;
  /** L2 penalty on leaf values (added to a leaf's hessian), in units where each question's pairs weigh 1. @default 0.1 */
  l2?: number;
}

/** The smallest hessian a leaf may hold, so a Newton step never divides by (almost) nothing. */
const MIN_HESSIAN = 1e-9;

/**
 * A LambdaMART-style ranker: gradient-boosted regression trees fitted to the pairwise logistic (RankNet) loss
 * between each evidence candidate and each other candidate of its pool, each question weighing 1 in total (as
 * {@link trainLinearRanker} weighs them), optionally each pair weighted by |ΔNDCG| of swapping it. Each tree is grown
 * depth-wise on histograms of quantile-binned features, with Newton leaf values. Deterministic: no sampling.
 */
export function trainTreeRanker(questions: readonly PoolQuestion[], options: TreeTrainOptions): TreeEnsemble {
  const minLeaf = Math.max(1, options.minLeaf ?? 20);
  const binCount = Math.min(256, Math.max(2, Math.floor(options.bins ?? 64)));
  const l2 = options.l2 ?? 0.1;
  const ndcgWeighted = options.ndcgWeighted ?? false;

  // The questions that have both evidence and other candidates; the rest give no pairs, so no gradient.
  const used: { question: PoolQuestion; start: number; size: number; positives: number }[] = [];
  let rowCount = 0;
  let featureCount = -1;
  const relevant: boolean[] = [];
  for (const question of questions) {
    const evidence = new Set(question.evidence);
    const flags = question.features.map((_, index) => evidence.has(question.sourceIds[index] ?? ''));
    const positives = flags.filter(Boolean).length;
    if (positives === 0 || positives === flags.length) continue;
    for (const row of question.features) {
      if (featureCount === -1) featureCount = row.length;
      else if (row.length !== featureCount)
        throw new Error(`feature rows differ in length (${row.length}, ${featureCount})`);
    }
    used.push({ question, start: rowCount, size: flags.length, positives });
    relevant.push(...flags);
    rowCount += flags.length;
  }
  if (rowCount === 0) return { kind: 'trees', trees: [] };
  const F = featureCount;

  // Quantile cuts per feature and the binned rows (row-major: bins[row * F + feature]).
  const values = new Float64Array(rowCount);
  const cuts: Float64Array[] = [];
  const bins = new Uint8Array(rowCount * F);
  for (let f = 0; f < F; f++) {
    let r = 0;
    for (const { question } of used) for (const row of question.features) values[r++] = row[f]!;
    const featureCuts = quantileCuts(values, binCount);
    cuts.push(featureCuts);
    for (let row = 0; row < rowCount; row++) bins[row * F + f] = binOf(featureCuts, values[row]!);
  }
  const binsOf = cuts.map((featureCuts) => featureCuts.length + 1);

  const scores = new Float64Array(rowCount);
  const gradient = new Float64Array(rowCount);
  const hessian = new Float64Array(rowCount);
  const isRelevant = Uint8Array.from(relevant, (flag) => (flag ? 1 : 0));
  const maxPool = Math.max(...used.map((question) => question.size));
  const discount = Float64Array.from({ length: maxPool }, (_, rank) => 1 / Math.log2(rank + 2));
  const rank = new Int32Array(rowCount);
  const order = Int32Array.from({ length: rowCount }, (_, i) => i);

  const computeGradients = (): void => {
    gradient.fill(0);
    hessian.fill(0);
    for (const { start, size, positives } of used) {
      const end = start + size;
      if (ndcgWeighted) {
        // Insertion sort from the last round's order: scores move little between rounds, so it is nearly sorted.
        for (let i = start + 1; i < end; i++) {
          const row = order[i]!;
          const score = scores[row]!;
          let j = i - 1;
          while (j >= start && (scores[order[j]!]! < score || (scores[order[j]!]! === score && order[j]! > row))) {
            order[j + 1] = order[j]!;
            j--;
          }
          order[j + 1] = row;
        }
        for (let i = start; i < end; i++) rank[order[i]!] = i - start;
      }
      // Each question's pairs weigh 1 in total: 1 / pairs each, or their share of the question's total |ΔNDCG|.
      let total = positives * (size - positives);
      if (ndcgWeighted) {
        total = 0;
        for (let p = start; p < end; p++) {
          if (!isRelevant[p]) continue;
          for (let n = start; n < end; n++)
            if (!isRelevant[n]) total += Math.abs(discount[rank[p]!]! - discount[rank[n]!]!);
        }
      }
      if (total <= 0) continue;
      for (let p = start; p < end; p++) {
        if (!isRelevant[p]) continue;
        for (let n = start; n < end; n++) {
          if (isRelevant[n]) continue;
          const weight = (ndcgWeighted ? Math.abs(discount[rank[p]!]! - discount[rank[n]!]!) : 1) / total;
          if (weight === 0) continue;
          const rho = 1 / (1 + Math.exp(scores[p]! - scores[n]!));
          const curvature = weight * rho * (1 - rho);
          gradient[p]! -= weight * rho;
          gradient[n]! += weight * rho;
          hessian[p]! += curvature;
          hessian[n]! += curvature;
        }
      }
    }
  };

  const histogramSize = F * binCount * 3;
  const offsets = Int32Array.from({ length: F }, (_, f) => f * binCount * 3);
  const rows = Uint32Array.from({ length: rowCount }, (_, i) => i);
  const scratch = new Uint32Array(rowCount);

  /** Sums of gradient, hessian and count per (feature, bin) over rows[start, end). */
  const histogramOf = (start: number, end: number): Float64Array => {
    const histogram = new Float64Array(histogramSize);
    for (let i = start; i < end; i++) {
      const row = rows[i]!;
      const g = gradient[row]!;
      const h = hessian[row]!;
      const base = row * F;
      for (let f = 0; f < F; f++) {
        const at = offsets[f]! + bins[base + f]! * 3;
        histogram[at]! += g;
        histogram[at + 1]! += h;
        histogram[at + 2]! += 1;
      }
    }
    return histogram;
  };

  interface Node {
    index: number;
    start: number;
    end: number;
    g: number;
    h: number;
    histogram: Float64Array;
  }

  const trees: Tree[] = [];
  for (let round = 0; round < options.trees; round++) {
    computeGradients();
    const feature: number[] = [];
    const threshold: number[] = [];
    const left: number[] = [];
    const right: number[] = [];
    const value: number[] = [];
    const addNode = (): number => {
      feature.push(-1);
      threshold.push(0);
      left.push(-1);
      right.push(-1);
      value.push(0);
      return feature.length - 1;
    };
    const makeLeaf = (node: Node): void => {
      const leaf = (-node.g / (node.h + l2)) * options.learningRate;
      value[node.index] = leaf;
      for (let i = node.start; i < node.end; i++) scores[rows[i]!]! += leaf;
    };

    let g = 0;
    let h = 0;
    for (let row = 0; row < rowCount; row++) {
      g += gradient[row]!;
      h += hessian[row]!;
    }
    let level: Node[] = [{ index: addNode(), start: 0, end: rowCount, g, h, histogram: histogramOf(0, rowCount) }];
    for (let depth = 0; level.length > 0; depth++) {
      const next: Node[] = [];
      for (const node of level) {
        const split = depth < options.depth ? bestSplit(node) : undefined;
        if (!split) {
          makeLeaf(node);
          continue;
        }
        // Stable partition: rows stay in ascending order, which keeps the histogram pass cache-friendly.
        let low = node.start;
        let high = 0;
        for (let i = node.start; i < node.end; i++) {
          const row = rows[i]!;
          if (bins[row * F + split.feature]! <= split.bin) rows[low++] = row;
          else scratch[high++] = row;
        }
        rows.set(scratch.subarray(0, high), low);
        const leftIndex = addNode();
        const rightIndex = addNode();
        feature[node.index] = split.feature;
        threshold[node.index] = cuts[split.feature]![split.bin]!;
        left[node.index] = leftIndex;
        right[node.index] = rightIndex;
        // Build the smaller child's histogram, and the larger one's as the parent's minus it.
        const leftSmaller = low - node.start <= node.end - low;
        const small = leftSmaller ? histogramOf(node.start, low) : histogramOf(low, node.end);
        const large = node.histogram;
        for (let i = 0; i < histogramSize; i++) large[i]! -= small[i]!;
        next.push(
          {
            index: leftIndex,
            start: node.start,
            end: low,
            g: split.leftG,
            h: split.leftH,
            histogram: leftSmaller ? small : large,
          },
          {
            index: rightIndex,
            start: low,
            end: node.end,
            g: node.g - split.leftG,
            h: node.h - split.leftH,
            histogram: leftSmaller ? large : small,
          },
        );
      }
      level = next;
    }
    trees.push({ feature, threshold, left, right, value });
  }
  return { kind: 'trees', trees };

  function bestSplit(node: Node): { feature: number; bin: number; leftG: number; leftH: number } | undefined {
    const count = node.end - node.start;
    if (count < 2 * minLeaf) return undefined;
    const parentScore = (node.g * node.g) / (node.h + l2);
    let best: { feature: number; bin: number; leftG: number; leftH: number } | undefined;
    let bestGain = 1e-12;
    const histogram = node.histogram;
    for (let f = 0; f < F; f++) {
      let leftG = 0;
      let leftH = 0;
      let leftCount = 0;
      const last = binsOf[f]! - 1;
      for (let bin = 0; bin < last; bin++) {
        const at = (f * binCount + bin) * 3;
        leftG += histogram[at]!;
        leftH += histogram[at + 1]!;
        leftCount += histogram[at + 2]!;
        if (leftCount < minLeaf) continue;
        if (count - leftCount < minLeaf) break;
        const rightG = node.g - leftG;
        const rightH = node.h - leftH;
        if (leftH < MIN_HESSIAN || rightH < MIN_HESSIAN) continue;
        const gain = (leftG * leftG) / (leftH + l2) + (rightG * rightG) / (rightH + l2) - parentScore;
        if (gain > bestGain) {
          bestGain = gain;
          best = { feature: f, bin, leftG, leftH };
        }
      }
    }
    return best;
  }
}

/**
 * Split points between quantile bins of `values`: each bin holds about `1 / bins` of the values, whole runs of equal
 * values stay in one bin, and a cut lies halfway between the last value of a bin and the first of the next, so
 * `value <= cuts[b]` exactly when the value's bin is at most `b`.
 */
export function quantileCuts(values: Float64Array, bins: number): Float64Array {
  const sorted = Float64Array.from(values.filter((value) => !Number.isNaN(value))).sort();
  const cuts: number[] = [];
  const perBin = sorted.length / bins;
  let inBin = 0;
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j < sorted.length && sorted[j] === sorted[i]) j++;
    inBin += j - i;
    if (j < sorted.length && inBin >= perBin && cuts.length < bins - 1) {
      const low = sorted[i]!;
      const high = sorted[j]!;
      const middle = low + (high - low) / 2;
      cuts.push(middle < high ? middle : low);
      inBin = 0;
    }
    i = j;
  }
  return Float64Array.from(cuts);
}

/** The bin of a value: how many cuts it exceeds (NaN goes to the last bin, as `NaN <= t` sends it right). */
function binOf(cuts: Float64Array, value: number): number {
  if (Number.isNaN(value)) return cuts.length;
  let low = 0;
  let high = cuts.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (value > cuts[middle]!) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** Scores of a pool under a tree ensemble. */
export const treeScores = (model: TreeEnsemble, question: PoolQuestion): number[] =>
  question.features.map((features) => treeEnsembleScore(model, features));
