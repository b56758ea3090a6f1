/**
 * Trains mnemo's learned ranker and writes memory/retrieval/ranker.json.
 *
 *   npx tsx scripts/train-ranker.ts [--locomo ../shared/data/locomo/locomo10.json] [--prefeval ../shared/data/prefeval]
 *                                   [--pools /tmp/pools.json] [--dry-run]
 *
 * Training data: every LoCoMo conversation, and PrefEval's items of half of its topics (the even-numbered ones in
 * file-name order); the other half of the topics is held out, so `mnemo bench prefeval` can report
 * figures the shipped model never saw. The personal fixtures (test/fixtures/personal) are never read.
 *
 * It prints held-out figures only, the only ones to report, for the shipped trees and for a linear model over the
 * same features (the comparison that chose the family), beside today's hand-weighted score on the same pools:
 * - LoCoMo, leave one conversation out: for each conversation, a model trained on the other nine and PrefEval's
 *   training topics ranks the held-out one.
 * - PrefEval, by topic: the shipped configuration ranks the held-out topics; a model trained on LoCoMo and the
 *   held-out topics ranks the training topics, so every item has a held-out figure.
 * Extracting PrefEval's pools takes most of the time (a fresh store of 600 turns per item): about 10 minutes.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { RANKER_FILE, RANKING_FEATURES } from '../memory/index.js';
import { trainTreeRanker, treeScores } from '../src/bench/gbdt.js';
import { LOCOMO_CATEGORIES } from '../src/bench/locomo.js';
import {
  extractPools,
  extractPrefevalPools,
  linearScores,
  type PoolQuestion,
  recallsOf,
  trainLinearRanker,
} from '../src/bench/ranker-training.js';
import { mean } from '../src/bench/stats.js';
import { loadConfig } from '../src/config.js';
import { createEmbedder } from '../src/providers.js';

const { values } = parseArgs({
  options: {
    locomo: { type: 'string', default: '../shared/data/locomo/locomo10.json' },
    prefeval: { type: 'string', default: '../shared/data/prefeval' },
    pools: { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
  },
});

/** The shipped family and its settings, chosen by the held-out comparison this script prints. */
const TREES = { trees: 150, depth: 4, learningRate: 0.1 } as const;
/** The linear baseline's L2 penalty. */
const LINEAR_LAMBDA = 1e-3;

interface Pools {
  locomo: Awaited<ReturnType<typeof extractPools>>;
  prefeval: Awaited<ReturnType<typeof extractPrefevalPools>>;
  /** The features the pools were extracted with: a cache from other code is refused. */
  features: string[];
}

const log = (line: string) => process.stderr.write(`${line}\n`);
let pools: Pools | undefined;
if (values.pools && existsSync(values.pools)) {
  pools = JSON.parse(readFileSync(values.pools, 'utf8')) as Pools;
  if (JSON.stringify(pools.features) !== JSON.stringify(RANKING_FEATURES)) {
    log(`${values.pools} was extracted with other features: extracting again`);
    pools = undefined;
  }
}
if (!pools) {
  const embedder = await createEmbedder(loadConfig({ env: process.env }).embedder);
  const started = performance.now();
  const progress = (what: string) => (done: number, total: number) =>
    log(`${what}: ${done}/${total} (${Math.round((performance.now() - started) / 1000)} s)`);
  pools = {
    locomo: await extractPools({ dataPath: values.locomo, embedder, onProgress: progress('LoCoMo conversations') }),
    prefeval: await extractPrefevalPools({
      dataPath: values.prefeval,
      embedder,
      onProgress: progress('PrefEval items'),
    }),
    features: [...RANKING_FEATURES],
  };
  if (values.pools) writeFileSync(values.pools, JSON.stringify(pools));
}

const locomo = pools.locomo.questions;
const prefeval = pools.prefeval.questions;
const topics = pools.prefeval.topics;
/** PrefEval's topics the shipped model trains on; the others are held out. */
const trainingTopic = (question: PoolQuestion): boolean => question.conversation % 2 === 0;
const prefevalTraining = prefeval.filter(trainingTopic);
const prefevalHeldOut = prefeval.filter((question) => !trainingTopic(question));

type Scorer = (question: PoolQuestion) => number[];
const families: Record<'trees' | 'linear', (questions: readonly PoolQuestion[]) => Scorer> = {
  trees: (questions) => {
    const model = trainTreeRanker(questions, TREES);
    return (question) => treeScores(model, question);
  },
  linear: (questions) => {
    const model = trainLinearRanker(questions, { lambda: LINEAR_LAMBDA });
    return (question) => linearScores(model, question);
  },
};

/** Each question's held-out scores under one family, from the splits described at the top. */
function heldOutScores(family: keyof typeof families): Map<PoolQuestion, number[]> {
  const scores = new Map<PoolQuestion, number[]>();
  const conversations = [...new Set(locomo.map((question) => question.conversation))];
  for (const conversation of conversations) {
    const score = families[family]([
      ...locomo.filter((question) => question.conversation !== conversation),
      ...prefevalTraining,
    ]);
    for (const question of locomo.filter((question) => question.conversation === conversation))
      scores.set(question, score(question));
    log(`${family}: LoCoMo conversation ${conversation + 1}/${conversations.length} held out`);
  }
  for (const [train, test] of [
    [prefevalTraining, prefevalHeldOut],
    [prefevalHeldOut, prefevalTraining],
  ] as const) {
    const score = families[family]([...locomo, ...train]);
    for (const question of test) scores.set(question, score(question));
  }
  log(`${family}: PrefEval topics held out`);
  return scores;
}

const trees = heldOutScores('trees');
const linear = heldOutScores('linear');

const pct = (value: number) => `${(100 * value).toFixed(1)}%`.padStart(6);
const figures = (questions: readonly PoolQuestion[], scores: Scorer, cutoffs: readonly number[]) => {
  const recalls = questions.map((question) => recallsOf(question, scores(question), cutoffs));
  return cutoffs.map((_, index) => Math.round(1000 * mean(recalls.map((row) => row[index]!))) / 1000);
};
const poolCeiling = (questions: readonly PoolQuestion[]) =>
  mean(
    questions.map(
      (question) => question.evidence.filter((id) => question.sourceIds.includes(id)).length / question.evidence.length,
    ),
  );
const rankers: Array<{ key: string; label: string; scores: Scorer }> = [
  { key: 'handWeighted', label: 'hand-weighted (today)', scores: (question) => question.scores },
  { key: 'linear', label: 'linear, held out', scores: (question) => linear.get(question)! },
  { key: 'trees', label: 'trees, held out (shipped)', scores: (question) => trees.get(question)! },
];
const table = (title: string, questions: readonly PoolQuestion[], cutoffs: readonly number[]) => {
  const rows = rankers.map(({ key, label, scores }) => ({ key, label, recall: figures(questions, scores, cutoffs) }));
  const lines = [
    `${title} (${questions.length} questions; the pool holds ${pct(poolCeiling(questions))} of the evidence)`,
    `  ${''.padEnd(28)}${cutoffs.map((k) => `R@${k}`.padStart(8)).join('')}`,
    ...rows.map((row) => `  ${row.label.padEnd(28)}${row.recall.map((value) => `  ${pct(value)}`).join('')}`),
  ];
  return { lines, rows };
};

const report: string[] = [];
const heldOutFigures: Record<string, unknown> = {};
const add = (key: string, title: string, questions: readonly PoolQuestion[], cutoffs: readonly number[]) => {
  const { lines, rows } = table(title, questions, cutoffs);
  report.push(...lines);
  heldOutFigures[key] = {
    questions: questions.length,
    cutoffs,
    ...Object.fromEntries(rows.map((row) => [row.key, row.recall])),
  };
};
add('locomo', 'LoCoMo, leave one conversation out', locomo, [5, 10, 25]);
for (const [id, name] of Object.entries(LOCOMO_CATEGORIES))
  add(
    `locomo/${name}`,
    `  ${name}`,
    locomo.filter((question) => question.category === Number(id)),
    [5, 10, 25],
  );
for (const [category, set] of [
  [1, 'explicit'],
  [2, 'implicit'],
] as const) {
  add(
    `prefeval/${set}/heldOutTopics`,
    `PrefEval ${set}, the shipped model's held-out topics`,
    prefevalHeldOut.filter((question) => question.category === category),
    [1, 5, 10],
  );
  add(
    `prefeval/${set}/allTopics`,
    `PrefEval ${set}, every topic held out by one of the two topic halves`,
    prefeval.filter((question) => question.category === category),
    [1, 5, 10],
  );
}
process.stdout.write(`${report.join('\n')}\n`);

const shipped = trainTreeRanker([...locomo, ...prefevalTraining], TREES);
const file = {
  features: [...RANKING_FEATURES],
  model: shipped,
  protocol: {
    model: `gradient-boosted regression trees (${TREES.trees} trees of depth ${TREES.depth}, learning rate ${TREES.learningRate}), pairwise logistic loss: each evidence candidate against every other candidate of its pool, each question weighing 1`,
    choice:
      'trees over a linear pairwise-logistic model over the same features, by the held-out figures below (recorded with both)',
    data: {
      locomo: `${locomo.length} questions with evidence in ${pools.locomo.conversations} conversations (all trained on)`,
      locomoSha256: pools.locomo.dataSha256,
      prefeval: `${prefevalTraining.length} items of ${topics.length / 2} topics trained on; ${prefevalHeldOut.length} items of the other topics held out`,
      prefevalSha256: pools.prefeval.dataSha256,
    },
    prefevalTrainingTopics: topics.filter((_, index) => index % 2 === 0),
    prefevalHeldOutTopics: topics.filter((_, index) => index % 2 === 1),
    /** Recall at each cutoff, held out as described at the top of the script, on the same pools. */
    heldOut: heldOutFigures,
    personalFixtures: 'never read: test/fixtures/personal is held out',
    command:
      'npx tsx scripts/train-ranker.ts --locomo ../shared/data/locomo/locomo10.json --prefeval ../shared/data/prefeval',
  },
};
if (!values['dry-run']) {
  writeFileSync(RANKER_FILE, `${JSON.stringify(file)}\n`);
  log(`wrote ${fileURLToPath(RANKER_FILE)}; format it with npx biome format --write memory/retrieval/ranker.json`);
}
