/**
 * Test doubles for apps that embed mnemo: a deterministic embedder that records its calls, LangChain's scripted chat
 * model, and an in-memory store.
 *
 * @example
 * import { fakeModel, memoryStoreForTests } from 'mnemo/testing';
 * const agent = createAgent({ store: memoryStoreForTests(), model: fakeModel().respond(new AIMessage('Hi!')) });
 */
import { FakeEmbedder, type FakeEmbedderOptions, SqliteMemoryStore } from '../memory/index.js';

export { fakeModel } from '@langchain/core/testing';
export { FakeEmbedder, type FakeEmbedderOptions } from '../memory/index.js';

/** A throwaway in-memory store with a {@link FakeEmbedder}. */
export function memoryStoreForTests(options: FakeEmbedderOptions = {}): SqliteMemoryStore {
  return SqliteMemoryStore.open(':memory:', { embedder: new FakeEmbedder({ dims: 64, ...options }) });
}
