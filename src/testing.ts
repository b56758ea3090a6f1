/**
 * Test doubles for apps that embed mnemo: a deterministic embedder that records its calls, LangChain's scripted chat
 * model, and an in-memory store.
 *
 * @example
 * import { fakeModel, memoryStoreForTests } from 'mnemo/testing';
 * const agent = createAgent({ store: await memoryStoreForTests(), model: fakeModel().respond(new AIMessage('Hi!')) });
 */
import { FakeEmbedder, type FakeEmbedderOptions, type MemoryStore } from '../memory/index.js';
import { openStore } from './storage.js';

export { fakeModel } from '@langchain/core/testing';
export { FakeEmbedder, type FakeEmbedderOptions } from '../memory/index.js';

/** A throwaway in-memory store (SQLite `:memory:`, with every storage module) and a {@link FakeEmbedder}. */
export function memoryStoreForTests(options: FakeEmbedderOptions = {}): Promise<MemoryStore> {
  return openStore(':memory:', { embedder: new FakeEmbedder({ dims: 64, ...options }) });
}
