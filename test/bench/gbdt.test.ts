import { describe, expect, it } from 'vitest';
import { parseTreeEnsemble, RANKING_FEATURES, type TreeEnsemble, treeEnsembleScore } from '../../memory/index.js';

import { quantileCuts, trainTreeRanker, treeScores } from '../../src/bench/gbdt.js';
import { linearScores, type PoolQuestion, recallsOf, trainLinearRanker } from '../../src/bench/ranker-training.js';
import { seededRandom } from '../../src/bench/stats.js';

/** As many as the linear trainer expects, so it is a fair baseline. */
const FEATURES = RANKING_FEATURES.length;

/**
 * Pools of 20 candidates with uniform features, where a candidate is relevant iff feature 0 is in (0.3, 0.7) AND
 * feature 1 < 0.3 (the others are noise): no linear score separates that band from the rest.
 */
function syntheticPools(conversations: number, perConversation: number, seed: number): PoolQuestion[] {
  const next = seededRandom(seed);
  const questions: PoolQuestion[] = [];
  for (let conversation = 0; conversation < conversations; conversation++)
    for (let q = 0; q < perConversation; q++) {
      const features = Array.from({ length: 20 }, () => Array.from({ length: FEATURES }, next));
      const sourceIds = features.map((_, i) => `c${conversation}q${q}d${i}`);
      const evidence = sourceIds.filter((_, i) => Math.abs(features[i]![0]! - 0.5) < 0.2 && features[i]![1]! < 0.3);
      if (evidence.length === 0 || evidence.length === features.length) continue;
      questions.push({ conversation, category: 1, evidence, sourceIds, features, scores: features.map(() => 0) });
    }
  return questions;
}

/** Share of the pools whose top-scored candidate is evidence, and their mean R@5. */
function quality(questions: readonly PoolQuestion[], scoresOf: (question: PoolQuestion) => number[]) {
  let top = 0;
  let recall = 0;
  for (const question of questions) {
    const scores = scoresOf(question);
    const best = scores.indexOf(Math.max(...scores));
    if (question.evidence.includes(question.sourceIds[best]!)) top++;
    recall += recallsOf(question, scores)[0]!;
  }
  return { top: top / questions.length, recallAt5: recall / questions.length };
}

describe('trainTreeRanker', () => {
  const pools = syntheticPools(10, 30, 7);
  const train = pools.filter((question) => question.conversation < 8);
  const test = pools.filter((question) => question.conversation >= 8);
  const options = { trees: 60, depth: 3, learningRate: 0.2, minLeaf: 5 };

  it('learns a non-linear relevance and ranks the evidence first in held-out pools', () => {
    expect(test.length).toBeGreaterThan(40);
    const model = trainTreeRanker(train, options);
    expect(model.trees).toHaveLength(60);
    const trees = quality(test, (question) => treeScores(model, question));
    const linear = trainLinearRanker(train, { lambda: 1e-3 });
    const straight = quality(test, (question) => linearScores(linear, question));
    const shuffled = seededRandom(1);
    const chance = quality(test, (question) => question.features.map(() => shuffled()));
    expect(trees.top).toBeGreaterThan(0.9);
    expect(trees.recallAt5).toBeGreaterThan(0.9);
    expect(trees.top).toBeGreaterThan(straight.top + 0.3);
    expect(trees.recallAt5).toBeGreaterThan(straight.recallAt5 + 0.05);
    expect(trees.top).toBeGreaterThan(chance.top + 0.5);
  });

  it('learns with |ΔNDCG|-weighted pairs too', () => {
    const model = trainTreeRanker(train, { ...options, ndcgWeighted: true });
    expect(quality(test, (question) => treeScores(model, question)).top).toBeGreaterThan(0.9);
  });

  it('splits only on the features that matter when the others are noise', () => {
    const model = trainTreeRanker(train, { ...options, trees: 5, depth: 2, minLeaf: 20 });
    const roots = new Set(model.trees.map((tree) => tree.feature[0]));
    expect([...roots].every((feature) => feature === 0 || feature === 1)).toBe(true);
  });

  it('is deterministic', () => {
    const a = trainTreeRanker(train, { ...options, trees: 10 });
    const b = trainTreeRanker(train, { ...options, trees: 10 });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });

  it('writes a model parseTreeEnsemble accepts after a JSON round trip, with the same scores', () => {
    const model = trainTreeRanker(train, { ...options, trees: 20 });
    const parsed = parseTreeEnsemble(JSON.parse(JSON.stringify(model)), FEATURES);
    expect(parsed).toEqual(model);
    for (const question of test.slice(0, 5))
      for (const row of question.features) expect(treeEnsembleScore(parsed, row)).toBe(treeEnsembleScore(model, row));
  });

  it('returns an empty ensemble when no question has pairs', () => {
    const noPairs = train.map((question) => ({ ...question, evidence: [] }));
    expect(trainTreeRanker(noPairs, options).trees).toEqual([]);
  });
});

describe('quantileCuts', () => {
  it('keeps runs of equal values in one bin and cuts halfway between bins', () => {
    const values = Float64Array.from([0, 0, 0, 0, 0, 0, 1, 2, 3, 4]);
    expect([...quantileCuts(values, 64)]).toEqual([0.5, 1.5, 2.5, 3.5]);
    expect([...quantileCuts(values, 2)]).toEqual([0.5]);
    expect([...quantileCuts(Float64Array.from([5, 5, 5]), 64)]).toEqual([]);
  });
});

/** Two stumps on feature 0 and feature 1: -1 / 2 at x0 <= 0.5, then +10 / 0 at x1 <= -3. */
const handBuilt = (): TreeEnsemble => ({
  kind: 'trees',
  trees: [
    { feature: [0, -1, -1], threshold: [0.5, 0, 0], left: [1, -1, -1], right: [2, -1, -1], value: [0, -1, 2] },
    { feature: [1, -1, -1], threshold: [-3, 0, 0], left: [1, -1, -1], right: [2, -1, -1], value: [0, 10, 0] },
  ],
});

describe('treeEnsembleScore', () => {
  it('sums the leaves reached, going left on <= the threshold', () => {
    const model = handBuilt();
    expect(treeEnsembleScore(model, [0.5, 0])).toBe(-1);
    expect(treeEnsembleScore(model, [0.50001, 0])).toBe(2);
    expect(treeEnsembleScore(model, [-7, -3])).toBe(9);
    expect(treeEnsembleScore(model, [9, -4])).toBe(12);
    expect(treeEnsembleScore({ kind: 'trees', trees: [] }, [1, 2])).toBe(0);
    const leafOnly = { feature: [-1], threshold: [0], left: [-1], right: [-1], value: [0.25] };
    expect(treeEnsembleScore({ kind: 'trees', trees: [leafOnly] }, [1, 2])).toBe(0.25);
  });
});

describe('parseTreeEnsemble', () => {
  /** The hand-built model with one field of its first tree replaced. */
  const withFirstTree = (field: string, list: unknown) => {
    const model = JSON.parse(JSON.stringify(handBuilt()));
    model.trees[0][field] = list;
    return model;
  };

  it('accepts a well-formed model', () => {
    expect(parseTreeEnsemble(handBuilt(), 2)).toEqual(handBuilt());
  });

  it.each([
    ['a feature index out of range', withFirstTree('feature', [2, -1, -1]), /feature\[0\] = 2/],
    ['a fractional feature index', withFirstTree('feature', [0.5, -1, -1]), /feature\[0\]/],
    ['a NaN threshold', withFirstTree('threshold', [Number.NaN, 0, 0]), /threshold\[0\] is not a finite number/],
    ['an infinite value', withFirstTree('value', [0, Number.POSITIVE_INFINITY, 0]), /value\[1\]/],
    ['a string', withFirstTree('value', [0, '1', 0]), /value\[1\]/],
    ['a child pointing back (a cycle)', withFirstTree('left', [0, -1, -1]), /left\[0\] = 0/],
    ['a child out of range', withFirstTree('right', [3, -1, -1]), /right\[0\] = 3/],
    ['arrays of different lengths', withFirstTree('value', [0, 1]), /differ in length/],
    ['a leaf with children', withFirstTree('left', [1, 2, -1]), /leaf 1 has children/],
    [
      'a tree without nodes',
      { kind: 'trees', trees: [{ feature: [], threshold: [], left: [], right: [], value: [] }] },
      /no nodes/,
    ],
    ['a missing array', withFirstTree('threshold', undefined), /threshold is not an array/],
    ['another kind', { ...handBuilt(), kind: 'linear' }, /kind/],
    ['no trees', { kind: 'trees' }, /trees is not an array/],
    ['null', null, /not an object/],
  ])('rejects %s', (_, model, message) => {
    expect(() => parseTreeEnsemble(model, 2)).toThrow(message);
  });

  it('rejects a cycle deeper in the tree', () => {
    const model = {
      kind: 'trees',
      trees: [
        {
          feature: [0, 1, -1, -1],
          threshold: [0, 0, 0, 0],
          left: [1, 1, -1, -1],
          right: [2, 3, -1, -1],
          value: [0, 0, 1, 2],
        },
      ],
    };
    expect(() => parseTreeEnsemble(model, 2)).toThrow(/left\[1\] = 1/);
  });
});
