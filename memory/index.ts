/**
 * mnemo's long-term memory: episodic turns and semantic facts in one SQLite file with FTS5 and sqlite-vec,
 * hybrid retrieval, and embedders behind one interface. Usable on its own: `import { SqliteMemoryStore } from 'mnemo/memory'`.
 */
export * from './types.js';
export * from './errors.js';
export type { Embedder, EmbedOptions, LateInteractionEmbedder } from './embedders/types.js';
export { supportsLateInteraction } from './embedders/types.js';
export { GloveEmbedder } from './embedders/glove.js';
export { OpenAIEmbedder, type OpenAIEmbedderOptions } from './embedders/openai.js';
export { FakeEmbedder, type FakeEmbedderOptions } from './embedders/fake.js';
export { SqliteMemoryStore, type SqliteMemoryStoreOptions, type AddEpisodesOptions, type SearchOptions, type ProgressListener } from './sqlite/store.js';
export { openDatabase, type OpenDatabaseOptions } from './sqlite/database.js';
export { reindex, type ReindexOptions } from './sqlite/reindex.js';
export { SqliteStore, type SqliteStoreOptions, type SqliteStoreIndexOptions } from './langgraph-store.js';
export { ruleQueryGenerator, type QueryGenerator, type QueryInput, type QueryPlan } from './retrieval/query.js';
export { DEFAULT_WEIGHTS, type RankWeights } from './retrieval/rank.js';
export type { TimeRange } from './retrieval/time.js';
