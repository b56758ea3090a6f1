import { GloveEmbedder, isPostgresLocation } from '../../../memory/index.js';
import { LOCOMO_CATEGORIES, type LocomoReport, runLocomoBench } from '../../bench/locomo.js';
import { type MovielensReport, runMovielensBench } from '../../bench/movielens.js';
import {
  loadPersonalSet,
  PERSONAL_CATEGORIES,
  type PersonalRecall,
  type PersonalReport,
  runPersonalBench,
} from '../../bench/personal.js';
import {
  DEFAULT_FILLER_TURNS,
  type PrefevalRecall,
  type PrefevalReport,
  type PrefevalSetReport,
  runPrefevalBench,
} from '../../bench/prefeval.js';
import { runScaleBench, type ScaleReport } from '../../bench/scale.js';
import { UsageError } from '../../errors.js';
import { createEmbedder } from '../../providers.js';
import { type CommandContext, defineCommand, integerArgument } from '../command.js';
import { printJson, progressBar } from '../io.js';

const pct = (value: number): string => `${(value * 100).toFixed(1)}%`;

function printLocomo(report: LocomoReport): string {
  const rows = [
    `LoCoMo evidence recall (${report.questions} questions, ${report.turns} turns, embedder ${report.embedder})`,
    '',
    `                      R@5     R@10    R@25`,
    `mnemo hybrid        ${pct(report.recallAt5).padStart(6)}  ${pct(report.recallAt10).padStart(6)}  ${pct(report.recallAt25).padStart(6)}`,
    `BM25 only           ${pct(report.baseline.recallAt5).padStart(6)}  ${pct(report.baseline.recallAt10).padStart(6)}  ${pct(report.baseline.recallAt25).padStart(6)}`,
    ...learnedRankerRows(report),
    '',
    ...Object.entries(report.byCategory).map(
      ([id, figures]) =>
        `  ${id} ${(LOCOMO_CATEGORIES[Number(id)] ?? '').padEnd(12)} (${String(figures.questions).padStart(3)}) ${pct(figures.recallAt5).padStart(6)}  ${pct(figures.recallAt10).padStart(6)}  ${pct(figures.recallAt25).padStart(6)}`,
    ),
    '',
    `search latency p50 ${report.searchLatencyMs.p50} ms, p95 ${report.searchLatencyMs.p95} ms; mean tokens in top 10: ${report.meanTokensTop10}`,
  ];
  return `${rows.join('\n')}\n`;
}

/** The learned ranker was trained on LoCoMo: say which rows are in-sample and which one to report. */
function learnedRankerRows(report: LocomoReport): string[] {
  const learned = report.learnedRanker;
  if (!learned) return [];
  const row = (label: string, figures: LocomoReport['baseline']) =>
    `${label.padEnd(20)}${pct(figures.recallAt5).padStart(6)}  ${pct(figures.recallAt10).padStart(6)}  ${pct(figures.recallAt25).padStart(6)}`;
  return [
    row('hand-weighted', learned.handWeighted),
    ...(learned.heldOut ? [row('learned, held out', learned.heldOut)] : []),
    '',
    'mnemo hybrid ranks with the learned ranker (the default), trained on these conversations: its rows,',
    'the categories below included, are IN-SAMPLE. Report "learned, held out" (leave-one-conversation-out,',
    'recorded in memory/retrieval/ranker.json by npx tsx scripts/train-ranker.ts) beside "hand-weighted".',
  ];
}

const recallRow = (label: string, figures: PrefevalRecall): string =>
  `${label.padEnd(20)}${pct(figures.recallAt1).padStart(6)}  ${pct(figures.recallAt5).padStart(6)}  ${pct(figures.recallAt10).padStart(6)}`;

function printPrefevalSet(title: string, set: PrefevalSetReport): string[] {
  const { mcq } = set;
  return [
    `${title}: ${set.items} items, ${set.turnsPerUser} turns per user`,
    `                       R@1    R@5     R@10`,
    recallRow('mnemo hybrid', set.mnemo),
    recallRow('BM25 only', set.bm25),
    ...learnedTopicRows(set),
    `multiple choice (${mcq.items} items, 4 options, chance ${pct(mcq.chance)}):`,
    `  from mnemo's top ${mcq.fromTop} ${pct(mcq.retrieved).padStart(6)}   from BM25's top ${mcq.fromTop} ${pct(mcq.bm25Retrieved).padStart(6)}`,
    `  gold preference given ${pct(mcq.gold).padStart(6)}   (similarity only, polarity ignored: ${pct(mcq.goldSimilarityOnly)})`,
    `by topic: R@10 mnemo / BM25, MCQ from mnemo's top ${mcq.fromTop}`,
    ...Object.entries(set.byTopic).map(
      ([topic, figures]) =>
        `  ${topic.padEnd(34)} ${pct(figures.mnemo.recallAt10).padStart(6)} / ${pct(figures.bm25.recallAt10).padStart(6)}  ${pct(figures.mcqRetrieved).padStart(6)}`,
    ),
  ];
}

/** The learned ranker was trained on half of the topics: the other half's rows are the ones to report. */
function learnedTopicRows(set: PrefevalSetReport): string[] {
  const learned = set.learnedRanker;
  if (!learned) return [];
  const { heldOut, inSample } = learned;
  return [
    `  held-out topics (${heldOut.topics}, ${heldOut.items} items; the ranker never saw them: report these)`,
    recallRow('  mnemo hybrid', heldOut.mnemo),
    recallRow('  BM25 only', heldOut.bm25),
    `  MCQ from mnemo's top ${set.mcq.fromTop}: ${pct(heldOut.mcqRetrieved)}`,
    ...(inSample.items === 0
      ? []
      : [
          `  training topics (${inSample.topics}, ${inSample.items} items): IN-SAMPLE`,
          recallRow('  mnemo hybrid', inSample.mnemo),
          recallRow('  BM25 only', inSample.bm25),
          `  MCQ from mnemo's top ${set.mcq.fromTop}: ${pct(inSample.mcqRetrieved)}`,
        ]),
  ];
}

function printPrefeval(report: PrefevalReport): string {
  const rows = [
    `PrefEval preference recall (${report.topics} topics, ${report.fillerTurns} filler turns after each preference, embedder ${report.embedder})`,
    '',
    ...printPrefevalSet('explicit preferences', report.explicit),
    ...(report.implicit ? ['', ...printPrefevalSet('implicit preferences (choice-based)', report.implicit)] : []),
    '',
    `search latency p50 ${report.searchLatencyMs.p50} ms, p95 ${report.searchLatencyMs.p95} ms; run ${report.seconds} s`,
  ];
  return `${rows.join('\n')}\n`;
}

function printScale(report: ScaleReport): string {
  return (
    `scale: ${report.episodes.toLocaleString('en')} episodes, ${report.userEpisodes.toLocaleString('en')} of them one user's (embedder ${report.embedder})\n` +
    `ingest: ${report.ingestPerSecond.toLocaleString('en')} turns/s (${report.ingestSeconds} s)\n` +
    `search (that user, ${report.queries} queries, incl. query embedding): p50 ${report.searchLatencyMs.p50} ms, p95 ${report.searchLatencyMs.p95} ms\n` +
    `database: ${report.databaseMegabytes} MB; forgetting one memory (rewrite included): ${report.forgetSeconds} s\n`
  );
}

function printPersonal(report: PersonalReport): string {
  const cells = (figures: PersonalRecall | undefined): string =>
    figures
      ? [figures.recallAt1, figures.recallAt5, figures.recallAt10, figures.anyAt10]
          .map((value) => pct(value).padStart(6))
          .join('  ')
      : '';
  const categories = Object.keys(PERSONAL_CATEGORIES) as Array<keyof typeof PERSONAL_CATEGORIES>;
  const rows = [
    `Personal questions in the user's own words (${report.questions} questions, ${report.users} users, ${report.sessions} sessions, ${report.turns} turns; embedder ${report.embedder})`,
    `found at k: every evidence turn in the top k; any@10: at least one`,
    '',
    `                          R@1     R@5    R@10  any@10`,
    `mnemo hybrid           ${cells(report)}`,
    ...(report.handWeighted ? [`hand-weighted same run ${cells(report.handWeighted)}`] : []),
    `BM25 only, same run    ${cells(report.baseline)}`,
    '',
    `by category             mnemo hybrid                    |  BM25 only`,
    `                          R@1     R@5    R@10  any@10  |     R@1     R@5    R@10  any@10`,
    ...categories
      .filter((category) => report.byCategory[category])
      .map(
        (category) =>
          `  ${category.padEnd(14)} (${String(report.byCategory[category]!.questions).padStart(2)})  ${cells(report.byCategory[category])}  |  ${cells(report.baseline.byCategory[category])}`,
      ),
    '',
    `search latency p50 ${report.searchLatencyMs.p50} ms, p95 ${report.searchLatencyMs.p95} ms; ${report.seconds} s in all`,
  ];
  return `${rows.join('\n')}\n`;
}

const figure = (value: number): string => value.toFixed(4);

function printMovielens(report: MovielensReport): string {
  const { rating, topk, coldStart } = report;
  const rows = [
    `MovieLens 100K rating prediction (folds u1..u5; train uK.base, test uK.test)`,
    '',
    `fold   RMSE    MAE     bias RMSE  mean RMSE  train s`,
    ...rating.folds.map(
      (fold) =>
        `u${fold.fold}     ${figure(fold.rmse)}  ${figure(fold.mae)}  ${figure(fold.baselines.bias.rmse)}     ${figure(fold.baselines.globalMean.rmse)}     ${fold.trainSeconds.toFixed(1)}`,
    ),
    `mean   ${figure(rating.rmse)}  ${figure(rating.mae)}  ${figure(rating.baselines.bias.rmse)}     ${figure(rating.baselines.globalMean.rmse)}     ${rating.trainSeconds.toFixed(1)} (total)`,
    `  (ensemble: SVD++ + item-KNN-baseline + biases, blend learned on a held-out slice of each training fold)`,
    `served  ${figure(rating.serving.rmse)}  ${figure(rating.serving.mae)}  (u${rating.serving.fold} through mnemo train and predict: ${rating.serving.trainSeconds.toFixed(1)} s to train, predict p50 ${rating.serving.predictLatencyMs.p50} ms, p95 ${rating.serving.predictLatencyMs.p95} ms)`,
    '',
    `Top-k, leave last rating out (${topk.users} users; EASE with recency weighting, trained in ${topk.trainSeconds.toFixed(1)} s)`,
    `               HR@10   NDCG@10  | full ranking HR@10  NDCG@10`,
    `EASE           ${figure(topk.sampled.hr10)}  ${figure(topk.sampled.ndcg10)}   |              ${figure(topk.full.hr10)}  ${figure(topk.full.ndcg10)}`,
    `MostPop        ${figure(topk.mostPop.sampled.hr10)}  ${figure(topk.mostPop.sampled.ndcg10)}   |              ${figure(topk.mostPop.full.hr10)}  ${figure(topk.mostPop.full.ndcg10)}`,
    `  (sampled: 1 positive + 99 unseen items, fixed seed)`,
    '',
    `Cold start (${coldStart.users} users cut to their first 5 ratings, ${coldStart.testRatings} test ratings): RMSE`,
    `user-level ${figure(coldStart.user.rmse)}   persona backoff ${figure(coldStart.persona.rmse)}   global ${figure(coldStart.global.rmse)}`,
  ];
  return `${rows.join('\n')}\n`;
}

/** A database location as reports show it: a URL's password hidden. */
function databaseLabel(location: string): string {
  if (!isPostgresLocation(location)) return location;
  const url = new URL(location);
  if (url.password) url.password = '***';
  return url.toString();
}

/**
 * Runs a benchmark in a temporary SQLite database and, with `--db`, again in that database in the same run, so the
 * two backends' figures stand side by side.
 */
async function sideBySide<R>(
  context: CommandContext,
  run: (db: string | undefined) => Promise<R>,
  print: (report: R) => string,
): Promise<void> {
  const db = context.values.db;
  if (db === undefined) {
    const report = await run(undefined);
    context.io.stdout.write(context.values.json ? printJson(report) : print(report));
    return;
  }
  const runs: Array<{ database: string; report: R }> = [];
  for (const location of [undefined, db])
    runs.push({
      database: location === undefined ? 'sqlite (temporary)' : databaseLabel(location),
      report: await run(location),
    });
  context.io.stdout.write(
    context.values.json
      ? printJson({ runs: runs.map(({ database, report }) => ({ database, ...report })) })
      : runs.map(({ database, report }) => `== ${database}\n${print(report)}`).join('\n'),
  );
}

async function embedderFor(context: CommandContext) {
  const bar = progressBar(context.io, 'preparing embedder');
  const embedder = await createEmbedder(context.config.embedder, {
    onProgress: ({ done, total }) => bar.update(done, total),
  });
  bar.finish();
  return embedder;
}

export const benchCommand = defineCommand({
  name: 'bench',
  summary: 'measure recall (LoCoMo, PrefEval, personal questions), speed at scale, recommendations',
  description: `
  mnemo bench locomo --data PATH/locomo10.json [--limit N] [--db PATH|URL] [--hand-weighted] [--json]
  mnemo bench personal --data test/fixtures/personal [--hand-weighted] [--json]
  mnemo bench prefeval --data PATH/prefeval [--limit N] [--turns N] [--hand-weighted] [--json]
  mnemo bench scale [--episodes N] [--user-episodes N] [--queries N] [--db PATH|URL] [--hand-weighted] [--json]
  mnemo bench movielens --data PATH/movielens-100k [--json]

locomo  Ingests each LoCoMo conversation as a fresh user and scores, for every question with
        evidence, the share of its evidence turns in the top k results (recall@5/10/25),
        overall and per category, with a BM25-only baseline from the same run.
personal  Personal questions asked in the user's own words over simulated users' multi-session
        histories (a directory of JSON files, one user each). Each history is stored as its
        user, each question searched as mnemo search does, at the moment the user asks it:
        share of questions whose evidence turns are all in the top 1, 5 and 10, and with at
        least one in the top 10, overall and per category, with a BM25-only baseline.
prefeval  Stores each PrefEval preference as a fresh user's turn, followed by the first N
        turns of PrefEval's filler conversations in file order (default ${DEFAULT_FILLER_TURNS}), asks
        the later question, and scores recall@1/5/10 of the preference turn with mnemo's
        search and with BM25 alone. Then answers the multiple-choice items (options shuffled
        with a fixed seed) offline from the best-matching memory in the top 5, and from the
        gold preference as the answerer's bound. Explicit preferences, and the implicit
        choice-based set when the data has it (the turn where the user picks is the one to find).
        About 9 minutes of CPU for the 2,000 items.
scale   Builds a synthetic database (default 1,000,000 episodes, 100,000 of them one user's)
        in a temporary file and measures ingest throughput, that user's search latency
        (query embedding included), and forgetting one of their memories (the file rewrite
        included). Takes several minutes at the default size.

movielens  Rating prediction on the five canonical folds u1..u5 (RMSE, MAE, train time; global
        mean and user+item bias baselines), top-k by leaving each user's last rating out
        (HR@10, NDCG@10 over 1 positive + 99 sampled unseen items and over the full ranking,
        scored by what mnemo recommend ranks with after a real mnemo train; recommend itself;
        MostPop baseline), cold start (users cut to their first 5 ratings: user-level,
        persona backoff and global RMSE), and the served model: mnemo train on u1.base, then
        every u1.test rating through mnemo predict's code path (RMSE, latency). About 90 s
        on 2 cores; fixed seeds.

With --db (a file or a postgres:// URL), locomo and scale run twice in one run: in a temporary
SQLite database, then in that database, and print both side by side. locomo keeps the
database's locomo:* users and adds only turns they lack (so a migrated copy is measured as it
is); scale replaces its own users.

locomo, personal, prefeval and scale use the configured embedder (MNEMO_EMBEDDER; default: offline
GloVe vectors); movielens needs none. They rank with the learned ranker, as search does by default,
or with the hand-weighted sum under --hand-weighted. The ranker was trained on LoCoMo and on half of
PrefEval's topics: locomo's own figures are then in-sample (it prints the held-out ones recorded at
training beside them), prefeval prints the held-out topics apart from the trained-on ones, and
personal adds the hand-weighted sum from the same run.`,
  options: {
    data: {
      type: 'string',
      value: 'PATH',
      description:
        'locomo10.json for locomo, the directory of JSON files for personal, the PrefEval directory for prefeval, or the MovieLens 100K directory',
    },
    limit: {
      type: 'integer',
      value: 'N',
      min: 1,
      max: 1000,
      description: 'only the first N conversations in locomo, or the first N items of each topic in prefeval',
    },
    turns: {
      type: 'integer',
      value: 'N',
      min: 0,
      max: 316,
      default: DEFAULT_FILLER_TURNS,
      description: 'filler turns stored after each preference, in prefeval',
    },
    episodes: {
      type: 'integer',
      value: 'N',
      min: 1000,
      max: 100_000_000,
      default: 1_000_000,
      description: 'total episodes, in scale',
    },
    // Its range and default depend on --episodes: checked in run.
    'user-episodes': {
      type: 'string',
      value: 'N',
      description: 'episodes of the measured user, in scale (100 to --episodes, default 100000 or --episodes)',
    },
    queries: {
      type: 'integer',
      value: 'N',
      min: 10,
      max: 100_000,
      default: 500,
      description: 'searches to time, in scale',
    },
    'hand-weighted': {
      type: 'boolean',
      description:
        'rank with the hand-weighted sum instead of the learned ranker (which search uses by default); not for movielens',
    },
    db: {
      type: 'string',
      value: 'PATH|URL',
      description: 'for locomo and scale: run again in this database (a file or postgres:// URL), side by side',
    },
    json: { type: 'boolean', description: 'print the figures as JSON' },
  },
  positionals: [{ name: 'locomo|personal|prefeval|scale|movielens' }],
  database: false,
  async run(context) {
    const which = context.positionals[0];
    // The learned ranker unless asked for the hand-weighted sum (each bench then checks one ships).
    const learned = context.values['hand-weighted'] ? false : undefined;
    if (which === 'locomo') {
      const dataPath = context.values.data;
      if (typeof dataPath !== 'string')
        throw new UsageError('--data PATH/locomo10.json is required (see mnemo bench --help)');
      const limit = context.values.limit;
      const embedder = await embedderFor(context);
      await sideBySide(
        context,
        async (db) => {
          const bar = progressBar(context.io, `locomo${db ? ` in ${databaseLabel(db)}` : ''}`);
          const report = await runLocomoBench({
            dataPath,
            embedder,
            db,
            learned,
            ...(limit === undefined ? {} : { limit }),
            onProgress: ({ done, total }) => bar.update(done, total),
          });
          bar.finish();
          return report;
        },
        printLocomo,
      );
      return;
    }
    if (which === 'personal') {
      const dataPath = context.values.data;
      if (typeof dataPath !== 'string')
        throw new UsageError('--data DIR is required, e.g. test/fixtures/personal (see mnemo bench --help)');
      const users = loadPersonalSet(dataPath);
      const embedder = await embedderFor(context);
      const bar = progressBar(context.io, 'personal');
      const report = await runPersonalBench({
        users,
        embedder,
        learned,
        onProgress: ({ done, total }) => bar.update(done, total),
      });
      bar.finish();
      context.io.stdout.write(context.values.json ? printJson(report) : printPersonal(report));
      return;
    }
    if (which === 'prefeval') {
      const dataPath = context.values.data;
      if (typeof dataPath !== 'string')
        throw new UsageError('--data PATH/prefeval is required (see mnemo bench --help)');
      const embedder = await embedderFor(context);
      const bar = progressBar(context.io, 'prefeval');
      const report = await runPrefevalBench({
        dataPath,
        embedder,
        limit: context.values.limit,
        fillerTurns: context.values.turns,
        learned,
        onProgress: ({ done, total }) => bar.update(done, total),
      });
      bar.finish();
      context.io.stdout.write(context.values.json ? printJson(report) : printPrefeval(report));
      return;
    }
    if (which === 'scale') {
      const { episodes, queries } = context.values;
      const raw = context.values['user-episodes'];
      const userEpisodes =
        raw === undefined
          ? Math.min(100_000, episodes)
          : integerArgument('user-episodes', raw, { min: 100, max: episodes });
      const embedder = await embedderFor(context);
      // Real English word frequencies make realistic posting lists; any embedder's text works the same way.
      const vocabulary =
        embedder instanceof GloveEmbedder
          ? embedder.frequentWords(30_000).filter((word) => /^[a-z]+$/.test(word))
          : undefined;
      await sideBySide(
        context,
        async (db) => {
          const bar = progressBar(context.io, `scale${db ? ` in ${databaseLabel(db)}` : ''}`);
          const report = await runScaleBench({
            embedder,
            episodes,
            userEpisodes,
            queries,
            path: db,
            learned,
            ...(vocabulary ? { vocabulary } : {}),
            onProgress: ({ done, total }) => bar.update(done, total),
          });
          bar.finish();
          return report;
        },
        printScale,
      );
      return;
    }
    if (which === 'movielens') {
      const dataPath = context.values.data;
      if (typeof dataPath !== 'string')
        throw new UsageError('--data PATH/movielens-100k is required (see mnemo bench --help)');
      const bar = progressBar(context.io, 'movielens');
      const report = await runMovielensBench({ dataPath, onProgress: ({ done, total }) => bar.update(done, total) });
      bar.finish();
      context.io.stdout.write(context.values.json ? printJson(report) : printMovielens(report));
      return;
    }
    throw new UsageError(`unknown benchmark "${which}": use locomo, personal, prefeval, scale or movielens`);
  },
});
