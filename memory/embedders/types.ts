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

/** Word-level vectors of one text, for late-interaction re-ranking (MaxSim over words). */
export interface TokenVectors {
  /** The normalised word forms that had a vector, in text order. */
  readonly words: readonly string[];
  /** `words.length * dims` values; row i is the unit vector of words[i]. */
  readonly vectors: Float32Array;
  /** One informativeness weight per word (rare words weigh more). */
  readonly weights: Float32Array;
}

/** An embedder that can also expose per-word vectors (the GloVe embedder can; API embedders cannot). */
export interface LateInteractionEmbedder extends Embedder {
  tokenVectors(text: string): TokenVectors;
}

export function supportsLateInteraction(embedder: Embedder): embedder is LateInteractionEmbedder {
  return typeof (embedder as Partial<LateInteractionEmbedder>).tokenVectors === 'function';
}
