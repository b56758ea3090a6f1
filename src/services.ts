import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import type { MemoryStore } from '../memory/index.js';
import { RecommenderService, recommenderStorage } from '../recommender/index.js';
import { type Agent, createAgent } from './agent.js';
import type { MnemoConfig } from './config.js';
import { createChatModel } from './models.js';
import { openConfiguredStore, type PreparationProgress } from './providers.js';

/** What an interactive surface (terminal chat, Slack) works with. */
export interface Services {
  readonly memory: MemoryStore;
  /** The agent, when a model is configured; slash commands work without it. */
  readonly agent: Agent | undefined;
  readonly model: BaseChatModel | undefined;
  /** The recommender (its tools explain what is missing until a catalog is imported and a model trained). */
  readonly recommender: RecommenderService;
  close(): Promise<void>;
}

/** Options of {@link openServices}. */
export interface OpenServicesOptions {
  /** Progress of one-time preparation (the word-vector cache build on first run). */
  onProgress?: PreparationProgress;
}

/** Opens the database, the embedder, the model (if configured) and the agent, from the loaded configuration. */
export async function openServices(config: MnemoConfig, options: OpenServicesOptions = {}): Promise<Services> {
  // The file's embedder is checked before the embedder is built or asked anything.
  const memory = await openConfiguredStore(
    config.db,
    config.embedder,
    options.onProgress ? { onProgress: options.onProgress } : {},
  );
  const model = createChatModel(config.model);
  const recommender = new RecommenderService({
    storage: recommenderStorage(memory.backend),
    memory,
    embedder: memory.embedder,
  });
  const agent = model ? createAgent({ store: memory, model, recommender }) : undefined;
  return {
    memory,
    agent,
    model,
    recommender,
    close: () => memory.close(),
  };
}
