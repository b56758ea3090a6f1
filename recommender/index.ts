/**
 * mnemo's recommender and rating predictor: the downstream model that reads the same memory as the agent. The
 * service, its storage, catalog and MovieLens import, and the models and metrics the benchmark evaluates.
 */

export { recommenderStorage, recommenderStorageModule } from './backend.js';
export { parseCatalog } from './catalog.js';
export type { RecommenderMemory } from './context.js';
export { backoffWeight, coldStartSplit } from './model/coldstart.js';
export { clampStars } from './model/data.js';
export { trainEnsemble } from './model/ensemble.js';
export { fitBiases, predictBias, trainFactorization } from './model/factorization.js';
export { errorMetrics, hitAndGain } from './model/metrics.js';
export { type MovielensData, readMovielens, readMovielensRatings } from './model/movielens.js';
export { fitPersonas } from './model/personas.js';
export { evaluateTopk, type LeaveOneOut, leaveLastOut, type TopkFigures } from './model/topk.js';
export { movielensDemographics, storeMovielens } from './movielens.js';
export { DIVERSITY, type PersonaReport, RecommenderService } from './service.js';
export type {
  Dataset,
  DemographicsEntry,
  ItemEmbeddings,
  RecommenderStorage,
  StarSum,
  StoredModel,
} from './storage.js';
export * from './types.js';
