import { RecommenderService, recommenderStorage } from '../../../recommender/index.js';
import { createEmbedder } from '../../providers.js';
import { defineCommand } from '../command.js';
import { progressBar } from '../io.js';

/** Catalog items embedded per call. */
const CATALOG_BATCH = 256;

export const reindexCommand = defineCommand({
  name: 'reindex',
  summary: 'rebuild every vector with the configured embedder (after changing MNEMO_EMBEDDER)',
  description: `
Re-embeds every memory in the database with the embedder configured now (MNEMO_EMBEDDER,
MNEMO_EMBEDDING_MODEL, ...) and records it in the file. The new index is built beside the old
one and swapped in at the end, so an interrupted reindex changes nothing; writes made meanwhile
by another process are included. Then re-embeds the recommender's catalog items.`,
  options: {},
  positionals: [],
  async run(context) {
    const preparing = progressBar(context.io, 'preparing embedder');
    const embedder = await createEmbedder(context.config.embedder, {
      onProgress: ({ done, total }) => preparing.update(done, total),
    });
    preparing.finish();
    const store = await context.openStore({ embedder: false });
    try {
      const before = (await store.vectorIndex())?.embedderId ?? 'none';
      const bar = progressBar(context.io, 'reindexing');
      const { memories } = await store.reindex(embedder, {
        onProgress: ({ done, total }) => bar.update(done, total),
      });
      bar.finish();
      // Content similarity compares item vectors with vectors of the same embedder only: re-embed the catalog too.
      const storage = recommenderStorage(store.backend);
      const items = await storage.items();
      const recommender = new RecommenderService({ storage, embedder });
      const catalogBar = progressBar(context.io, 're-embedding catalog');
      for (let start = 0; start < items.length; start += CATALOG_BATCH) {
        await recommender.importItems(items.slice(start, start + CATALOG_BATCH));
        catalogBar.update(Math.min(items.length, start + CATALOG_BATCH), items.length);
      }
      catalogBar.finish();
      const catalog =
        items.length > 0 ? `; re-embedded ${items.length} catalog item${items.length === 1 ? '' : 's'}` : '';
      context.io.stdout.write(`reindexed ${memories} memories: ${before} → ${embedder.id}${catalog}\n`);
    } finally {
      await store.close();
    }
  },
});
