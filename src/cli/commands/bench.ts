import { runLocomoBench, LOCOMO_CATEGORIES, type LocomoReport } from '../../bench/locomo.js';
import { runScaleBench, type ScaleReport } from '../../bench/scale.js';
import { GloveEmbedder } from '../../../memory/embedders/glove.js';
import { UsageError } from '../../errors.js';
import { createEmbedder } from '../../providers.js';
import { integerFlag, JSON_OPTION, type Command, type CommandContext } from '../command.js';
import { printJson } from '../format.js';
import { progressBar } from '../io.js';

const pct = (value: number): string => `${(value * 100).toFixed(1)}%`;

function printLocomo(report: LocomoReport): string {
  const rows = [
    `LoCoMo evidence recall (${report.questions} questions, ${report.turns} turns, embedder ${report.embedder})`,
    '',
    `                      R@5     R@10    R@25`,
    `mnemo hybrid        ${pct(report.recallAt5).padStart(6)}  ${pct(report.recallAt10).padStart(6)}  ${pct(report.recallAt25).padStart(6)}`,
    `BM25 only           ${pct(report.baseline.recallAt5).padStart(6)}  ${pct(report.baseline.recallAt10).padStart(6)}  ${pct(report.baseline.recallAt25).padStart(6)}`,
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

function printScale(report: ScaleReport): string {
  return (
    `scale: ${report.episodes.toLocaleString('en')} episodes, ${report.userEpisodes.toLocaleString('en')} of them one user's (embedder ${report.embedder})\n` +
    `ingest: ${report.ingestPerSecond.toLocaleString('en')} turns/s (${report.ingestSeconds} s)\n` +
    `search (that user, ${report.queries} queries, incl. query embedding): p50 ${report.searchLatencyMs.p50} ms, p95 ${report.searchLatencyMs.p95} ms\n` +
    `database: ${report.databaseMegabytes} MB\n`
  );
}

async function embedderFor(context: CommandContext) {
  const bar = progressBar(context.io, 'preparing embedder');
  const embedder = await createEmbedder(context.config.embedder, { onProgress: ({ done, total }) => bar.update(done, total) });
  bar.finish();
  return embedder;
}

export const benchCommand: Command = {
  name: 'bench',
  summary: 'measure retrieval quality (LoCoMo) and speed at scale',
  help: `Usage: mnemo bench locomo --data PATH/locomo10.json [--json]
       mnemo bench scale [--episodes N] [--user-episodes N] [--queries N] [--json]

locomo  Ingests each LoCoMo conversation as a fresh user and scores, for every question with
        evidence, the share of its evidence turns in the top k results (recall@5/10/25),
        overall and per category, with a BM25-only baseline from the same run.
scale   Builds a synthetic database (default 1,000,000 episodes, 100,000 of them one user's)
        in a temporary file and measures ingest throughput and that user's search latency,
        including query embedding. Takes several minutes at the default size.

Both use the configured embedder (MNEMO_EMBEDDER; default: offline GloVe vectors).

Options:
      --data PATH          locomo10.json (locomo)
      --limit N            only the first N conversations (locomo)
      --episodes N         total episodes (scale, default 1000000)
      --user-episodes N    episodes of the measured user (scale, default 100000)
      --queries N          searches to time (scale, default 500)
      --json               print the figures as JSON
  -h, --help               show this help
`,
  options: {
    ...JSON_OPTION,
    data: { type: 'string' },
    limit: { type: 'string' },
    episodes: { type: 'string' },
    'user-episodes': { type: 'string' },
    queries: { type: 'string' },
  },
  positionals: [1, 1],
  async run(context) {
    const which = context.positionals[0];
    if (which === 'locomo') {
      const dataPath = context.values.data;
      if (typeof dataPath !== 'string') throw new UsageError('--data PATH/locomo10.json is required (see mnemo bench --help)');
      const limit = integerFlag(context, 'limit', 10, [1, 1000]);
      const embedder = await embedderFor(context);
      const bar = progressBar(context.io, 'locomo');
      const report = await runLocomoBench({ dataPath, embedder, limit, onProgress: ({ done, total }) => bar.update(done, total) });
      bar.finish();
      context.io.stdout.write(context.values.json ? printJson(report) : printLocomo(report));
      return;
    }
    if (which === 'scale') {
      const episodes = integerFlag(context, 'episodes', 1_000_000, [1000, 100_000_000]);
      const userEpisodes = integerFlag(context, 'user-episodes', Math.min(100_000, episodes), [100, episodes]);
      const queries = integerFlag(context, 'queries', 500, [10, 100_000]);
      const embedder = await embedderFor(context);
      const bar = progressBar(context.io, 'scale');
      // Real English word frequencies make realistic posting lists; any embedder's text works the same way.
      const vocabulary = embedder instanceof GloveEmbedder ? embedder.frequentWords(30_000).filter((word) => /^[a-z]+$/.test(word)) : undefined;
      const report = await runScaleBench({
        embedder,
        episodes,
        userEpisodes,
        queries,
        ...(vocabulary ? { vocabulary } : {}),
        onProgress: ({ done, total }) => bar.update(done, total),
      });
      bar.finish();
      context.io.stdout.write(context.values.json ? printJson(report) : printScale(report));
      return;
    }
    throw new UsageError(`unknown benchmark "${which}": use locomo or scale`);
  },
};
