/**
 * A gradient-boosted ensemble of regression trees over the ranking features (trained offline by src/bench/gbdt.ts).
 * Each tree is stored as flat arrays, root at index 0: an internal node sends a feature vector `x` to `left[i]` when
 * `x[feature[i]] <= threshold[i]` and to `right[i]` otherwise; a leaf has `feature[i] === -1` and scores `value[i]`
 * (the learning rate is already folded in). The ensemble's score is the sum of its trees' leaves.
 */

/** One regression tree, as flat arrays of equal length. */
export interface Tree {
  /** The feature an internal node splits on; -1 for a leaf. */
  readonly feature: readonly number[];
  /** Go left when `x[feature] <= threshold` (0 for a leaf). */
  readonly threshold: readonly number[];
  /** Child indexes, always after their parent (-1 for a leaf). */
  readonly left: readonly number[];
  readonly right: readonly number[];
  /** A leaf's score (0 for an internal node). */
  readonly value: readonly number[];
}

export interface TreeEnsemble {
  readonly kind: 'trees';
  readonly trees: readonly Tree[];
}

/** The ensemble's score of one feature vector: the sum of the leaves it reaches. */
export function treeEnsembleScore(model: TreeEnsemble, features: readonly number[]): number {
  let total = 0;
  for (const tree of model.trees) {
    let node = 0;
    let feature = tree.feature[0]!;
    while (feature >= 0) {
      node = features[feature]! <= tree.threshold[node]! ? tree.left[node]! : tree.right[node]!;
      feature = tree.feature[node]!;
    }
    total += tree.value[node]!;
  }
  return total;
}

const FIELDS = ['feature', 'threshold', 'left', 'right', 'value'] as const;

/**
 * Checks a parsed tree ensemble over `featureCount` features: equal-length arrays of finite numbers, feature indexes
 * in range, and every internal node's children inside the tree and after it (so every path ends at a leaf). Returns
 * a copy holding only the model's fields.
 */
export function parseTreeEnsemble(value: unknown, featureCount: number): TreeEnsemble {
  const fail = (why: string): never => {
    throw new Error(`tree ensemble is malformed: ${why}`);
  };
  const model = value as { kind?: unknown; trees?: unknown } | null;
  if (typeof model !== 'object' || model === null) return fail('not an object');
  if (model.kind !== 'trees') return fail(`kind is ${JSON.stringify(model.kind)}, not "trees"`);
  if (!Array.isArray(model.trees)) return fail('trees is not an array');
  const trees = model.trees.map((raw: unknown, t): Tree => {
    const tree = raw as Record<string, unknown> | null;
    if (typeof tree !== 'object' || tree === null) return fail(`tree ${t} is not an object`);
    const arrays = FIELDS.map((field) => {
      const list = tree[field];
      if (!Array.isArray(list)) return fail(`tree ${t}: ${field} is not an array`);
      list.forEach((item: unknown, i) => {
        if (typeof item !== 'number' || !Number.isFinite(item))
          fail(`tree ${t}: ${field}[${i}] is not a finite number`);
      });
      return [...(list as number[])];
    });
    const [feature, threshold, left, right, values] = arrays as [number[], number[], number[], number[], number[]];
    const size = feature.length;
    if (size === 0) return fail(`tree ${t} has no nodes`);
    if (arrays.some((list) => list.length !== size)) return fail(`tree ${t}: arrays differ in length`);
    for (let i = 0; i < size; i++) {
      const f = feature[i]!;
      if (!Number.isInteger(f) || f < -1 || f >= featureCount)
        fail(`tree ${t}: feature[${i}] = ${f} is not -1 or a feature index below ${featureCount}`);
      if (f === -1) {
        if (left[i] !== -1 || right[i] !== -1) fail(`tree ${t}: leaf ${i} has children`);
        continue;
      }
      for (const [side, child] of [
        ['left', left[i]!],
        ['right', right[i]!],
      ] as const)
        if (!Number.isInteger(child) || child <= i || child >= size)
          fail(`tree ${t}: ${side}[${i}] = ${child} is not a node after ${i} in the tree`);
    }
    return { feature, threshold, left, right, value: values };
  });
  return { kind: 'trees', trees };
}
