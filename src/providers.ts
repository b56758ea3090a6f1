import { GloveEmbedder } from '../memory/embedders/glove.js';
import { OpenAIEmbedder } from '../memory/embedders/openai.js';
import type { Embedder } from '../memory/embedders/types.js';
import type { EmbedderSettings } from './config.js';

/** Progress of one-time preparation work (the word-vector cache build). */
export type PreparationProgress = (progress: { phase: string; done: number; total: number }) => void;

/** Builds the configured embedder. The one place that chooses a provider. */
export async function createEmbedder(settings: EmbedderSettings, options: { onProgress?: PreparationProgress } = {}): Promise<Embedder> {
  switch (settings.kind) {
    case 'glove':
      return GloveEmbedder.load({ cacheDir: settings.cacheDir, ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
    case 'openai':
      return OpenAIEmbedder.create({
        baseURL: settings.baseURL,
        model: settings.model,
        ...(settings.apiKey ? { apiKey: settings.apiKey } : {}),
      });
  }
}
