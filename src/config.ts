import { z } from 'zod';
import { ConfigError } from './errors.js';
import { cacheDir, databasePath } from './paths.js';

/** Which embedder builds and searches the vectors. Changing it on an existing file needs `mnemo reindex`. */
const EmbedderConfig = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('glove'), cacheDir: z.string() }),
  z.object({
    kind: z.literal('openai'),
    /** Absent: OpenAI itself, which needs `apiKey`. */
    baseURL: z.string().url().optional(),
    apiKey: z.string().optional(),
    model: z.string().min(1),
  }),
]);

/** The chat model; `none` when nothing is configured (every non-LLM command still works). */
const ModelConfig = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('none') }),
  z.object({
    kind: z.literal('openai'),
    model: z.string().min(1),
    baseURL: z.string().url().optional(),
    apiKey: z.string().optional(),
    timeoutMs: z.number().int().positive(),
    maxRetries: z.number().int().min(0),
  }),
]);

const Config = z.object({
  /** The database file. */
  db: z.string().min(1),
  embedder: EmbedderConfig,
  model: ModelConfig,
});

export type MnemoConfig = z.infer<typeof Config>;
export type EmbedderSettings = z.infer<typeof EmbedderConfig>;
export type ModelSettings = z.infer<typeof ModelConfig>;

/** Why `MNEMO_EMBEDDER=openai` cannot work as configured: OpenAI itself needs a key, a local server a URL. */
export const NO_EMBEDDER_ENDPOINT_HELP =
  'MNEMO_EMBEDDER=openai needs OPENAI_API_KEY (OpenAI) or OPENAI_BASE_URL (a local server)';

/** The one line that tells a user how to configure a model. */
export const NO_MODEL_HELP =
  'no model configured: set OPENAI_API_KEY (OpenAI), or OPENAI_BASE_URL for any OpenAI-compatible server (Ollama, vLLM, LM Studio), and optionally MNEMO_MODEL';

/** Options of {@link loadConfig}: the environment and the global flags, read once by bin/. */
export interface LoadConfigOptions {
  env: NodeJS.ProcessEnv;
  /** `--db PATH` */
  db?: string;
}

/**
 * Resolves mnemo's configuration from the environment and global flags. Pure: the only reader of `process.env`
 * is bin/, which passes it in.
 *
 * - `MNEMO_DB` — database file (`--db` wins).
 * - `MNEMO_EMBEDDER` — `glove` (default, offline) or `openai` (any OpenAI-compatible `/v1/embeddings`), with
 *   `OPENAI_BASE_URL`, `OPENAI_API_KEY` and `MNEMO_EMBEDDING_MODEL` (default `text-embedding-3-small`).
 */
export function loadConfig(options: LoadConfigOptions): MnemoConfig {
  const { env } = options;
  const kind = (env.MNEMO_EMBEDDER?.trim() || 'glove').toLowerCase();
  let embedder: EmbedderSettings;
  if (kind === 'glove') {
    embedder = { kind: 'glove', cacheDir: cacheDir(env) };
  } else if (kind === 'openai') {
    embedder = {
      kind: 'openai',
      ...(env.OPENAI_BASE_URL?.trim() ? { baseURL: env.OPENAI_BASE_URL.trim() } : {}),
      ...(env.OPENAI_API_KEY?.trim() ? { apiKey: env.OPENAI_API_KEY.trim() } : {}),
      model: env.MNEMO_EMBEDDING_MODEL?.trim() || 'text-embedding-3-small',
    };
  } else {
    throw new ConfigError(`MNEMO_EMBEDDER must be "glove" or "openai", not "${env.MNEMO_EMBEDDER}"`);
  }
  const apiKey = env.OPENAI_API_KEY?.trim();
  const baseURL = env.OPENAI_BASE_URL?.trim();
  const model: ModelSettings =
    apiKey || baseURL
      ? {
          kind: 'openai',
          model: env.MNEMO_MODEL?.trim() || 'gpt-4o-mini',
          ...(baseURL ? { baseURL } : {}),
          ...(apiKey ? { apiKey } : {}),
          timeoutMs: integerSetting(env, 'MNEMO_MODEL_TIMEOUT_MS', 60_000),
          maxRetries: integerSetting(env, 'MNEMO_MODEL_RETRIES', 2),
        }
      : { kind: 'none' };
  const parsed = Config.safeParse({ db: databasePath(env, options.db), embedder, model });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`invalid configuration at ${issue.path.join('.') || 'root'}: ${issue.message}`);
  }
  return parsed.data;
}

function integerSetting(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0)
    throw new ConfigError(`${name} must be a non-negative integer, not "${raw}"`);
  return value;
}
