import { EmbedderError, InputError } from '../errors.js';
import type { Embedder, EmbedOptions } from './types.js';

/** Options of {@link FakeEmbedder}. */
export interface FakeEmbedderOptions {
  /** Vector length. @default 32 */
  dims?: number;
  /** Identifier recorded in the database. @default `fake-<dims>` */
  id?: string;
}

/**
 * Deterministic embedder for tests: no I/O, no model. Each lower-cased word is hashed into one of `dims` buckets and
 * the counts are L2-normalised, so texts sharing words score a higher cosine than texts sharing none (up to hash
 * collisions, which a bigger `dims` makes rarer). Records every call in `calls`, like vercel/ai's MockEmbeddingModel.
 *
 * @example
 * const embedder = new FakeEmbedder({ dims: 64 });
 * const [cat, kitten] = await embedder.embed(['the cat sat', 'a cat napped']);
 * expect(embedder.calls).toEqual([['the cat sat', 'a cat napped']]);
 */
export class FakeEmbedder implements Embedder {
  readonly id: string;
  readonly dims: number;
  /** The texts of every `embed` call, one array per call, in call order. */
  readonly calls: string[][] = [];

  constructor(options: FakeEmbedderOptions = {}) {
    const dims = options.dims ?? 32;
    if (!Number.isInteger(dims) || dims <= 0)
      throw new InputError(`FakeEmbedder \`dims\` must be a positive integer, got ${dims}`);
    this.dims = dims;
    this.id = options.id ?? `fake-${dims}`;
  }

  async embed(texts: readonly string[], options: EmbedOptions = {}): Promise<Float32Array[]> {
    // Honours an aborted signal so code paths that cancel embedding can be tested without a network embedder.
    if (options.signal?.aborted === true) {
      throw new EmbedderError('FakeEmbedder call was aborted', { code: 'aborted', cause: options.signal.reason });
    }
    this.calls.push([...texts]);
    return texts.map((text) => this.vectorOf(text));
  }

  private vectorOf(text: string): Float32Array {
    const vector = new Float32Array(this.dims);
    const words = text
      .toLowerCase()
      .split(/[^\p{L}\p{N}]+/u)
      .filter((word) => word !== '');
    // A text without words still needs a unit vector; hashing its whole (trimmed) form keeps it deterministic.
    for (const word of words.length > 0 ? words : [text.trim()]) {
      const bucket = fnv1a(word) % this.dims;
      vector[bucket] = (vector[bucket] ?? 0) + 1;
    }
    let sumOfSquares = 0;
    for (const value of vector) sumOfSquares += value * value;
    const scale = 1 / Math.sqrt(sumOfSquares);
    for (let index = 0; index < vector.length; index += 1) vector[index] = (vector[index] ?? 0) * scale;
    return vector;
  }
}

/** 32-bit FNV-1a over UTF-16 code units: tiny, stable across runs and platforms, and spreads short words well. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index += 1) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
