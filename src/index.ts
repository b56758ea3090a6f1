/**
 * mnemo: a conversational agent with long-term memory. This entry never imports ink, react or @slack/bolt.
 */

export * from '../memory/index.js';
export type { Item, Prediction, Rating, Recommendation, Recommender, Why } from '../recommender/index.js';
export { TOOLS, type ToolContext, type ToolDefinition, type ToolServices } from '../tools/index.js';
export { type Agent, type CreateAgentOptions, createAgent, type TurnOptions, type TurnResult } from './agent.js';
export {
  databasePath,
  dataDir,
  ENVIRONMENT,
  type LoadConfigOptions,
  loadConfig,
  type MnemoConfig,
  NO_MODEL_HELP,
} from './config.js';
export { ConfigError, UsageError } from './errors.js';
export type { AgentEvent, AgentEventType, EventMemory, FactWrite, Stage, StageLatency, TokenUsage } from './events.js';
export { createChatModel } from './models.js';
export { createEmbedder } from './providers.js';
export { openStore, STORAGE_MODULES } from './storage.js';
