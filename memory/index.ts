/**
 * mnemo's long-term memory: episodic turns and semantic facts in one SQLite file with FTS5 and sqlite-vec,
 * hybrid retrieval, and embedders behind one interface. Usable on its own: `import { SqliteMemoryStore } from 'mnemo/memory'`.
 */

export { FakeEmbedder, type FakeEmbedderOptions } from './embedders/fake.js';
export { GLOVE_EMBEDDER_ID, GloveEmbedder } from './embedders/glove.js';
export { OpenAIEmbedder, type OpenAIEmbedderOptions } from './embedders/openai.js';
export type { Embedder, EmbedOptions, LateInteractionEmbedder } from './embedders/types.js';
export { supportsLateInteraction } from './embedders/types.js';
export * from './errors.js';
export { SqliteStore, type SqliteStoreIndexOptions, type SqliteStoreOptions } from './langgraph-store.js';
export { isPostgresLocation, type OpenStoreOptions, openStore } from './open.js';
export type * from './port.js';
export { transaction as postgresTransaction } from './postgres/database.js';
export {
  type LearnedRanker,
  learnedScore,
  parseLearnedRanker,
  RANKER_FILE,
  RANKING_FEATURES,
  type RankingRecord,
  recordRankingFeatures,
  shippedRanker,
} from './retrieval/learned.js';
export { type QueryGenerator, type QueryInput, type QueryPlan, ruleQueryGenerator } from './retrieval/query.js';
export { DEFAULT_WEIGHTS, type RankWeights } from './retrieval/rank.js';
export type { TimeRange } from './retrieval/time.js';
export { parseTreeEnsemble, type Tree, type TreeEnsemble, treeEnsembleScore } from './retrieval/trees.js';
export {
  databaseError,
  type OpenDatabaseOptions,
  openDatabase,
  QUICK_CHECK_MAX_BYTES,
  readOnlyReason,
} from './sqlite/database.js';
export { parseMemoryId } from './sqlite/rows.js';
export { checkEmbedderId, readVectorIndexInfo } from './sqlite/vectors.js';
export { isContentToken, type Token, tokenize } from './text/nlp.js';
export { squeeze } from './text/squeeze.js';
export { decodeUtf8 } from './text/utf8.js';
export * from './types.js';
export { MAX_FIELD, MAX_ROLE, MAX_TEXT, parseTime, validateScope, validateText } from './validate.js';
