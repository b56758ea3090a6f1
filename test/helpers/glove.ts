import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GloveEmbedder } from '../../memory/embedders/glove.js';
import { GLOVE_CACHE_FORMAT_VERSION } from '../../memory/embedders/glove-cache.js';

/**
 * One real word-vector cache for the whole test run (building it takes ~5 s). Test files in parallel workers may
 * race to build it; the cache is written to a temporary file and renamed, so the loser's build is simply discarded.
 */
export const SHARED_GLOVE_CACHE_DIR = join(tmpdir(), `mnemo-test-glove-v${GLOVE_CACHE_FORMAT_VERSION}`);

export const sharedGloveEmbedder = (): Promise<GloveEmbedder> =>
  GloveEmbedder.load({ cacheDir: SHARED_GLOVE_CACHE_DIR });
