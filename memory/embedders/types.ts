/** Options every embedder call accepts. */
export interface EmbedOptions {
  /** Aborts the call (network embedders cancel the request). */
  signal?: AbortSignal;
}

/**
 * Turns texts into fixed-size vectors. Implementations: the offline GloVe embedder (default), any
 * OpenAI-compatible `/v1/embeddings` endpoint, and deterministic fakes in tests.
 */
export interface Embedder {
  /** Stable identifier recorded in the database, e.g. `glove-sif-100d@1` or `openai:text-embedding-3-small`. */
  readonly id: string;
  /** Length of every vector `embed` returns. */
  readonly dims: number;
  /** One L2-normalised vector per input text, in input order. */
  embed(texts: readonly string[], options?: EmbedOptions): Promise<Float32Array[]>;
}

/**
 * An embedder that also exposes its word vectors, for late-interaction re-ranking (MaxSim over words). The GloVe
 * embedder can; API embedders cannot.
 */
export interface LateInteractionEmbedder extends Embedder {
  /** Vocabulary ids of the words of `text` that have a vector, in text order (punctuation skipped). */
  wordIds(text: string): Int32Array;
  /** Unit vector of one vocabulary word (`dims` values). */
  wordVector(id: number): Float32Array;
  /** How informative a word is (rare words weigh more), in (0, 1]. */
  wordWeight(id: number): number;
  /** Dot products of word `id`'s unit vector with each query vector (`out.length` rows of `dims` in `queries`). */
  wordSimilarities(id: number, queries: Float32Array, out: Float64Array): void;
  /** The text vector `embed` gives a text, rebuilt from its word ids; undefined when it cannot be. */
  embedWordIds(ids: Int32Array): Float32Array | undefined;
}

export function supportsLateInteraction(embedder: Embedder): embedder is LateInteractionEmbedder {
  return typeof (embedder as Partial<LateInteractionEmbedder>).wordIds === 'function';
}
