import type { MemoryStore, Scope } from '../memory/index.js';
import { recommenderStorage } from '../recommender/index.js';
import { memoryJson } from './format.js';

/**
 * Everything mnemo keeps about a scope, as one JSON document: its memories, history included, oldest first; and for
 * a user also the persona they are placed in, their ratings and their demographics — what `forget` deletes.
 */
export async function exportDocument(
  memory: Pick<MemoryStore, 'backend' | 'export' | 'personaOf'>,
  scope: Scope,
  now: Date,
): Promise<Record<string, unknown>> {
  const owner = scope.kind === 'global' ? { global: true } : { [scope.kind]: scope.id };
  const { memories } = await memory.export(scope);
  const document = { ...owner, exportedAt: now.toISOString(), memories: memories.map(memoryJson) };
  if (scope.kind !== 'user') return document;
  const storage = recommenderStorage(memory.backend);
  const ratings = await storage.ratingsOf(scope.id);
  const titles = await storage.titlesOf(ratings.map((rating) => rating.itemId));
  return {
    ...document,
    persona: (await memory.personaOf(scope)) ?? null,
    ratings: ratings.map((rating) => ({
      itemId: rating.itemId,
      title: titles.get(rating.itemId) ?? null,
      stars: rating.stars,
      at: rating.at.toISOString(),
      source: rating.source,
    })),
    demographics: (await storage.demographicsOf(scope.id)) ?? null,
  };
}
