/**
 * mnemo: a conversational agent with long-term memory. This entry never imports ink, react or @slack/bolt.
 * The agent (createAgent) arrives with its own issue; today the package exports the memory engine.
 */
export * from '../memory/index.js';
export { ConfigError, UsageError } from './errors.js';
export { loadConfig, type MnemoConfig, type LoadConfigOptions } from './config.js';
export { createEmbedder } from './providers.js';
export { databasePath, dataDir } from './paths.js';
