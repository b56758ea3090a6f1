import type { Scope, SqliteMemoryStore } from '../memory/index.js';
import { RecommenderStorage } from '../recommender/index.js';
import { memoryJson } from './format.js';

/**
 * Everything mnemo keeps about a scope, as one JSON document: its memories, history included, oldest first; and for
 * a user also the persona they are placed in, their ratings and their demographics — what `forget` deletes.
 */
export function exportDocument(
  memory: Pick<SqliteMemoryStore, 'db' | 'export' | 'personaOf'>,
  scope: Scope,
  now: Date,
): Record<string, unknown> {
  const owner = scope.kind === 'global' ? { global: true } : { [scope.kind]: scope.id };
  const document = { ...owner, exportedAt: now.toISOString(), memories: memory.export(scope).memories.map(memoryJson) };
  if (scope.kind !== 'user') return document;
  const storage = new RecommenderStorage(memory.db);
  const ratings = storage.ratingsOf(scope.id);
  const titles = storage.titlesOf(ratings.map((rating) => rating.itemId));
  return {
    ...document,
    persona: memory.personaOf(scope) ?? null,
    ratings: ratings.map((rating) => ({
      itemId: rating.itemId,
      title: titles.get(rating.itemId) ?? null,
      stars: rating.stars,
      at: rating.at.toISOString(),
      source: rating.source,
    })),
    demographics: storage.demographicsOf(scope.id) ?? null,
  };
}
