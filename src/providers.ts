import type { Embedder } from '../memory/index.js';
import {
  GLOVE_EMBEDDER_ID,
  GloveEmbedder,
  type MemoryStore,
  OpenAIEmbedder,
  type OpenStoreOptions,
} from '../memory/index.js';
import { type EmbedderSettings, NO_EMBEDDER_ENDPOINT_HELP } from './config.js';
import { ConfigError } from './errors.js';
import { openStore } from './storage.js';

/** Progress of one-time preparation work (the word-vector cache build). */
export type PreparationProgress = (progress: { phase: string; done: number; total: number }) => void;

/** Refuses settings that cannot work, before anything is opened or sent. */
function checkEmbedderSettings(settings: EmbedderSettings): void {
  // Without either, every request would go to api.openai.com unauthenticated and fail only after its retries.
  if (settings.kind === 'openai' && !settings.apiKey && !settings.baseURL)
    throw new ConfigError(NO_EMBEDDER_ENDPOINT_HELP);
}

/** Builds the configured embedder. The one place that chooses a provider. */
export async function createEmbedder(
  settings: EmbedderSettings,
  options: { onProgress?: PreparationProgress } = {},
): Promise<Embedder> {
  checkEmbedderSettings(settings);
  switch (settings.kind) {
    case 'glove':
      return GloveEmbedder.load({
        cacheDir: settings.cacheDir,
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      });
    case 'openai':
      return OpenAIEmbedder.create({
        model: settings.model,
        ...(settings.baseURL ? { baseURL: settings.baseURL } : {}),
        ...(settings.apiKey ? { apiKey: settings.apiKey } : {}),
      });
  }
}

/** The id the configured embedder will have, known without building it. */
function embedderId(settings: EmbedderSettings): string {
  return settings.kind === 'glove' ? GLOVE_EMBEDDER_ID : OpenAIEmbedder.idFor(settings.model);
}

/**
 * Opens the memory store at `location` (a file or a `postgres://` URL) with the configured embedder. Unusable
 * settings are refused before anything is opened, and a database indexed by another embedder before the embedder is
 * built: neither mistake costs a network call or a cache build.
 */
export async function openConfiguredStore(
  location: string,
  settings: EmbedderSettings,
  options: { onProgress?: PreparationProgress } & Omit<OpenStoreOptions, 'modules' | 'embedder' | 'buildEmbedder'> = {},
): Promise<MemoryStore> {
  checkEmbedderSettings(settings);
  return openStore(location, {
    ...options,
    buildEmbedder: { id: embedderId(settings), build: () => createEmbedder(settings, options) },
  });
}
