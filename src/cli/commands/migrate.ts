import { migrateStore } from '../../migrate.js';
import { openConfiguredStore } from '../../providers.js';
import { defineCommand } from '../command.js';
import { printJson, progressBar } from '../io.js';

export const migrateCommand = defineCommand({
  name: 'migrate',
  summary: 'copy everything from one database to another (a file to PostgreSQL, or back)',
  description: `
Copies every user's, persona's and the global memory (episodes, facts with their history,
supersede links and provenance), persona membership, the recommender's catalog, ratings,
demographics and trained model, and every conversation thread from --from to --to. Each
scope is copied in one transaction, and scopes the target already holds completely are
skipped, so an interrupted migration is resumed by running it again. The counts of both
sides are compared at the end (exit 1 if they differ). Vectors are rebuilt in the target
with the configured embedder, which must be the one the source was indexed with.`,
  options: {
    from: { type: 'string', value: 'PATH|URL', required: true, description: 'the database to copy from' },
    to: { type: 'string', value: 'PATH|URL', required: true, description: 'the database to copy into' },
    json: { type: 'boolean', description: 'print { source, target, skippedScopes, verified }' },
  },
  positionals: [],
  database: false,
  async run(context) {
    const { from, to } = context.values;
    const preparing = progressBar(context.io, 'preparing word vectors (first run only)');
    const onProgress = ({ done, total }: { done: number; total: number }) => preparing.update(done, total);
    const source = await openConfiguredStore(from, context.config.embedder, { onProgress });
    try {
      const target = await openConfiguredStore(to, context.config.embedder, { onProgress });
      preparing.finish();
      try {
        const bars = new Map<string, ReturnType<typeof progressBar>>();
        const report = await migrateStore(source, target, {
          onProgress: ({ phase, done, total }) => {
            let bar = bars.get(phase);
            if (!bar) {
              for (const previous of bars.values()) previous.finish();
              bar = progressBar(context.io, phase);
              bars.set(phase, bar);
            }
            bar.update(done, total);
          },
        });
        for (const bar of bars.values()) bar.finish();
        if (context.values.json) context.io.stdout.write(printJson(report));
        else {
          const rows = Object.keys(report.source) as Array<keyof typeof report.source>;
          context.io.stdout.write(`${'what'.padEnd(16)}${'source'.padStart(10)}${'target'.padStart(10)}\n`);
          for (const row of rows)
            context.io.stdout.write(
              `${row.padEnd(16)}${String(report.source[row]).padStart(10)}${String(report.target[row]).padStart(10)}\n`,
            );
          if (report.skippedScopes > 0)
            context.io.stdout.write(`${report.skippedScopes} scopes were already complete in the target\n`);
          context.io.stdout.write(report.verified ? 'verified: every scope copied\n' : 'NOT verified: counts differ\n');
        }
        return report.verified ? 0 : 1;
      } finally {
        await target.close();
      }
    } finally {
      await source.close();
    }
  },
});
