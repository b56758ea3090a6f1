/**
 * mnemo: a conversational agent with long-term memory. This entry never imports ink, react or @slack/bolt.
 */
export { createAgent, type Agent, type CreateAgentOptions, type TurnOptions, type TurnResult } from './agent.js';
export type { AgentEvent, AgentEventType, EventMemory, FactWrite, StageLatency, TokenUsage } from './events.js';
export { createChatModel } from './models.js';
export { TOOLS, type ToolDefinition, type ToolServices, type ToolContext } from '../tools/index.js';
export type { Recommender, Recommendation, Prediction, Rating, Item, Why } from '../recommender/types.js';
export * from '../memory/index.js';
export { ConfigError, UsageError } from './errors.js';
export { loadConfig, NO_MODEL_HELP, type MnemoConfig, type LoadConfigOptions } from './config.js';
export { createEmbedder } from './providers.js';
export { databasePath, dataDir } from './paths.js';
