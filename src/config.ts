import { z } from 'zod';
import { ConfigError } from './errors.js';
import { cacheDir, databasePath } from './paths.js';

/** Which embedder builds and searches the vectors. Changing it on an existing file needs `mnemo reindex`. */
const EmbedderConfig = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('glove'), cacheDir: z.string() }),
  z.object({
    kind: z.literal('openai'),
    baseURL: z.string().url(),
    apiKey: z.string().optional(),
    model: z.string().min(1),
  }),
]);

const Config = z.object({
  /** The database file. */
  db: z.string().min(1),
  embedder: EmbedderConfig,
});

export type MnemoConfig = z.infer<typeof Config>;
export type EmbedderSettings = z.infer<typeof EmbedderConfig>;

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
      baseURL: env.OPENAI_BASE_URL?.trim() || 'https://api.openai.com/v1',
      ...(env.OPENAI_API_KEY?.trim() ? { apiKey: env.OPENAI_API_KEY.trim() } : {}),
      model: env.MNEMO_EMBEDDING_MODEL?.trim() || 'text-embedding-3-small',
    };
  } else {
    throw new ConfigError(`MNEMO_EMBEDDER must be "glove" or "openai", not "${env.MNEMO_EMBEDDER}"`);
  }
  const parsed = Config.safeParse({ db: databasePath(env, options.db), embedder });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`invalid configuration at ${issue.path.join('.') || 'root'}: ${issue.message}`);
  }
  return parsed.data;
}
