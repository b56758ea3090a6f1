/**
 * Trains mnemo's learned ranker on LoCoMo and writes memory/retrieval/ranker.json.
 *
 *   npx tsx scripts/train-ranker.ts --data ../shared/data/locomo/locomo10.json [--pools /tmp/pools.json] [--dry-run]
 *
 * It prints leave-one-conversation-out (LOCO) figures, the only ones to report: for each conversation, a model trained
 * on the other nine (its L2 penalty chosen by inner cross-validation on those nine) ranks the held-out one; today's
 * hand-weighted score ranks the same pools in the same run. The shipped model is then trained on all ten; its
 * in-sample figures are printed, labelled as such, and must not be reported. The personal fixtures are never read.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { RANKER_FILE } from '../memory/index.js';
import {
  chooseLambda,
  extractPools,
  modelScores,
  type PoolQuestion,
  type RecallTable,
  recallsOf,
  recallTable,
  trainLinearRanker,
} from '../src/bench/ranker-training.js';
import { loadConfig } from '../src/config.js';
import { createEmbedder } from '../src/providers.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: '../shared/data/locomo/locomo10.json' },
    pools: { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
  },
});
const dataPath = values.data;

const config = loadConfig({ env: process.env });
const embedder = await createEmbedder(config.embedder);
let extracted: Awaited<ReturnType<typeof extractPools>>;
if (values.pools && existsSync(values.pools)) {
  extracted = JSON.parse(readFileSync(values.pools, 'utf8')) as typeof extracted;
} else {
  extracted = await extractPools({
    dataPath,
    embedder,
    onProgress: (done, total) => process.stderr.write(`extracting features: conversation ${done + 1}/${total}\n`),
  });
  if (values.pools) writeFileSync(values.pools, JSON.stringify(extracted));
}
const { questions } = extracted;

const heldOut: number[][] = [];
const baseline: number[][] = [];
const lambdas: number[] = [];
for (let test = 0; test < extracted.conversations; test++) {
  const train = questions.filter((question) => question.conversation !== test);
  const lambda = chooseLambda(train);
  lambdas.push(lambda);
  const model = trainLinearRanker(train, { lambda });
  for (const question of questions.filter((question) => question.conversation === test)) {
    heldOut.push(recallsOf(question, modelScores(model, question)));
    baseline.push(recallsOf(question, question.scores));
  }
  process.stderr.write(`fold ${test + 1}/${extracted.conversations}: lambda ${lambda}\n`);
}
// The same question order as heldOut and baseline.
const ordered: PoolQuestion[] = [];
for (let test = 0; test < extracted.conversations; test++)
  ordered.push(...questions.filter((question) => question.conversation === test));
const poolRecall = ordered.map((question) => {
  const pool = new Set(question.sourceIds);
  const found = question.evidence.filter((id) => pool.has(id)).length / question.evidence.length;
  return [found, found, found];
});

const loco = recallTable(ordered, heldOut);
const fused = recallTable(ordered, baseline);
const lambda = chooseLambda(questions);
const shipped = trainLinearRanker(questions, { lambda });
const inSample = recallTable(
  questions,
  questions.map((question) => recallsOf(question, modelScores(shipped, question))),
);

const pct = (value: number) => `${(100 * value).toFixed(1)}%`.padStart(6);
const line = (label: string, table: RecallTable['overall']) =>
  `  ${label.padEnd(26)} (${String(table.questions).padStart(4)})  ${pct(table.recallAt5)}  ${pct(table.recallAt10)}  ${pct(table.recallAt25)}`;
const report = [
  `LoCoMo, ${questions.length} questions, embedder ${embedder.id}; candidate pool holds ${pct(recallTable(ordered, poolRecall).overall.recallAt10)} of evidence`,
  '                                          R@5    R@10    R@25',
  line('fused (today, same run)', fused.overall),
  line('learned, LOCO held-out', loco.overall),
  ...Object.keys(loco.byCategory).flatMap((id) => [
    line(`${id} ${loco.byCategory[id]!.name}: fused`, fused.byCategory[id]!),
    line(`${id} ${loco.byCategory[id]!.name}: LOCO`, loco.byCategory[id]!),
  ]),
  line('in-sample (DO NOT REPORT)', inSample.overall),
  `LOCO lambdas (inner CV): ${lambdas.join(', ')}; shipped lambda ${lambda}`,
  `weights: ${shipped.features.map((name, index) => `${name} ${shipped.weights[index]!.toFixed(3)}`).join(', ')}`,
].join('\n');
process.stdout.write(`${report}\n`);

const file = {
  ...shipped,
  protocol: {
    model: 'linear, pairwise logistic (each evidence turn against every other candidate of its pool), L2-penalised',
    data: `LoCoMo locomo10.json, ${questions.length} questions with evidence in ${extracted.conversations} conversations`,
    dataSha256: extracted.dataSha256,
    embedder: embedder.id,
    lambda: `${lambda}, chosen by inner 3-fold cross-validation over conversations from ${[1e-4, 1e-3, 1e-2, 1e-1].join(', ')}`,
    shippedModel: 'trained on all conversations: its in-sample figures are not to be reported',
    heldOut: {
      protocol:
        'leave-one-conversation-out: trained on 9, tested on the 10th, for each; penalty by inner CV on the 9; baseline is the hand-weighted score on the same pools in the same run',
      learned: loco,
      fused,
    },
    personalFixtures: 'never read: test/fixtures/personal is held out',
    command: 'npx tsx scripts/train-ranker.ts --data ../shared/data/locomo/locomo10.json',
  },
};
if (!values['dry-run']) {
  writeFileSync(RANKER_FILE, `${JSON.stringify(file, null, 2)}\n`);
  process.stderr.write(`wrote ${fileURLToPath(RANKER_FILE)}\n`);
}
