import { StoreError } from '../errors.js';
import type { Embedder } from './types.js';

/** Texts per embedder call when many are embedded at once. */
export const EMBED_BATCH = 512;

/** One embedder call, refusing an answer of the wrong count or width (a broken server would corrupt the index). */
export async function embedChecked(
  embedder: Embedder,
  texts: readonly string[],
  signal?: AbortSignal,
): Promise<Float32Array[]> {
  const vectors = await embedder.embed(texts, signal ? { signal } : {});
  if (vectors.length !== texts.length || vectors.some((vector) => vector.length !== embedder.dims)) {
    throw new StoreError('store_failed', `embedder ${embedder.id} returned vectors of the wrong count or size`);
  }
  return vectors;
}

/** Embeds `texts` in calls of {@link EMBED_BATCH}, reporting progress after each. */
export async function embedInBatches(
  embedder: Embedder,
  texts: readonly string[],
  options: {
    signal?: AbortSignal | undefined;
    onProgress?: ((progress: { done: number; total: number }) => void) | undefined;
  } = {},
): Promise<Float32Array[]> {
  const vectors: Float32Array[] = [];
  for (let start = 0; start < texts.length; start += EMBED_BATCH) {
    vectors.push(...(await embedChecked(embedder, texts.slice(start, start + EMBED_BATCH), options.signal)));
    options.onProgress?.({ done: vectors.length, total: texts.length });
  }
  return vectors;
}
