import { userInfo } from 'node:os';
import { z } from 'zod';
import { ConfigError } from './errors.js';
import { cacheDirectory, databaseFile, dataDirectory } from './paths.js';

/** One environment variable mnemo reads. `loadConfig` reads it and `mnemo --help` lists it from this, nothing else. */
export interface EnvironmentVariable {
  /** What it sets, as `mnemo --help` says it. */
  readonly description: string;
  /** The value used when it is unset or blank; help shows it. */
  readonly default?: string;
  /** What mnemo does when it is unset and no single value says it (a path built from others, the OS user). */
  readonly otherwise?: string;
  /** Parses the trimmed value; its message, after the variable's name, is the ConfigError line. */
  readonly schema?: z.ZodType<unknown, string>;
}

/** A whole number ≥ 0, written any way `Number` reads it. */
const count = z
  .string()
  .refine((raw) => Number.isInteger(Number(raw)) && Number(raw) >= 0, {
    error: (issue) => `must be a non-negative integer, not "${issue.input}"`,
  })
  .transform(Number);

/**
 * Every environment variable mnemo reads, in the order `mnemo --help` lists them. Read them with
 * {@link readSetting} (only config.ts does); `mnemo --help` prints this table, so the two cannot drift apart.
 */
export const ENVIRONMENT = {
  MNEMO_DB: {
    description:
      'database: a file, or a postgres:// URL (PostgreSQL with pgvector 0.8+) that several processes share (--db wins); a file’s directory must exist, only the default location is created',
    otherwise: '$XDG_DATA_HOME/mnemo/mnemo.db, else ~/.local/share/mnemo/mnemo.db',
  },
  XDG_DATA_HOME: {
    description:
      'the data directory is $XDG_DATA_HOME/mnemo (else ~/.local/share/mnemo): the database and, in cache/, the word-vector cache (41 MB, built on first use)',
  },
  HOME: { description: 'your home directory, where the default data directory is', otherwise: "the OS account's" },
  MNEMO_EMBEDDER: {
    description: 'glove (offline GloVe word vectors) or openai (any OpenAI-compatible /v1/embeddings)',
    default: 'glove',
    schema: z
      .string()
      .transform((value) => value.toLowerCase())
      .pipe(z.enum(['glove', 'openai'], { error: (issue) => `must be "glove" or "openai", not "${issue.input}"` })),
  },
  OPENAI_BASE_URL: {
    description:
      'OpenAI-compatible endpoint (Ollama, vLLM, LM Studio) of the chat model and, with MNEMO_EMBEDDER=openai, of the embeddings',
    otherwise: 'https://api.openai.com/v1',
  },
  OPENAI_API_KEY: { description: 'its key' },
  MNEMO_EMBEDDING_MODEL: { description: 'embedding model', default: 'text-embedding-3-small' },
  MNEMO_MODEL: {
    description:
      'chat model for chat, ask and slack; a model is configured by OPENAI_API_KEY and/or OPENAI_BASE_URL (any OpenAI-compatible server)',
    default: 'gpt-4o-mini',
  },
  MNEMO_MODEL_TIMEOUT_MS: {
    description: 'per-attempt timeout of a model call, also the longest silence allowed inside a streamed reply',
    default: '60000',
    schema: count,
  },
  MNEMO_MODEL_RETRIES: {
    description: 'retries on 429/5xx/network errors, with exponential backoff honouring Retry-After up to a minute',
    default: '2',
    schema: count,
  },
  MNEMO_USER: { description: 'who you are in the terminal chat', otherwise: 'your OS user name' },
  USER: { description: 'your OS user name when the system has no entry for this uid (containers)', default: 'me' },
  MNEMO_DEBUG: { description: 'any value: an unexpected error also prints its stack trace' },
  SLACK_BOT_TOKEN: { description: 'Slack bot token, xoxb-... (required by mnemo slack)' },
  SLACK_SIGNING_SECRET: { description: 'Slack HTTP mode: verifies requests to POST /slack/events' },
  PORT: {
    description: 'Slack HTTP mode: port to listen on',
    default: '3000',
    schema: z
      .string()
      .refine((raw) => Number.isInteger(Number(raw)) && Number(raw) >= 0 && Number(raw) <= 65_535, {
        error: (issue) => `must be a port number from 0 to 65535, not "${issue.input}"`,
      })
      .transform(Number),
  },
  SLACK_APP_TOKEN: {
    description:
      'Slack Socket Mode instead of HTTP: app-level token, xapp-..., with connections:write (no public URL needed)',
    schema: z.string().startsWith('xapp-', {
      error: 'must be an app-level token (xapp-...) with connections:write',
    }),
  },
  SLACK_API_URL: {
    description: 'Slack Web API base URL, for proxies',
    otherwise: 'https://slack.com/api/',
    schema: z
      .string()
      .regex(/^https?:\/\/[^\s/]+/, { error: (issue) => `must be an http(s) URL, not "${issue.input}"` }),
  },
} as const satisfies Record<string, EnvironmentVariable>;

export type EnvironmentName = keyof typeof ENVIRONMENT;
type Declared<N extends EnvironmentName> = (typeof ENVIRONMENT)[N];
type Parsed<N extends EnvironmentName> = Declared<N> extends { schema: z.ZodType<infer T, string> } ? T : string;
/** A variable's value: parsed by its schema; `undefined` when unset or blank and it has no default. */
export type Setting<N extends EnvironmentName> =
  Declared<N> extends { default: string } ? Parsed<N> : Parsed<N> | undefined;

/**
 * Reads one declared variable: trimmed, blank as unset, its default applied, parsed by its schema. A bad value is
 * one ConfigError line: `PORT must be a port number from 0 to 65535, not "eighty"`.
 */
export function readSetting<N extends EnvironmentName>(env: NodeJS.ProcessEnv, name: N): Setting<N> {
  const declared: EnvironmentVariable = ENVIRONMENT[name];
  const raw = env[name]?.trim() || declared.default;
  if (raw === undefined || declared.schema === undefined) return raw as Setting<N>;
  const parsed = declared.schema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`${name} ${parsed.error.issues[0]!.message}`);
  return parsed.data as Setting<N>;
}

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

/** How `mnemo slack` connects; `unusable` (with the one line that says why) when the variables do not add up. */
const SlackConfig = z.discriminatedUnion('mode', [
  z.object({
    mode: z.literal('http'),
    botToken: z.string(),
    signingSecret: z.string(),
    port: z.number().int(),
    slackApiUrl: z.string().optional(),
  }),
  z.object({
    mode: z.literal('socket'),
    botToken: z.string(),
    appToken: z.string(),
    slackApiUrl: z.string().optional(),
  }),
  z.object({ mode: z.literal('unusable'), problem: z.string() }),
]);

const Config = z.object({
  /** The database file. */
  db: z.string().min(1),
  /** What named the database file, when something did (its directory must then exist). */
  dbNamedBy: z.enum(['--db', 'MNEMO_DB']).optional(),
  /** Where mnemo keeps its data (the default database, the word-vector cache, chat exports). */
  dataDir: z.string().min(1),
  embedder: EmbedderConfig,
  model: ModelConfig,
  /** Who is talking in the terminal chat when `--user` does not say. */
  user: z.string().min(1),
  /** Print stack traces of unexpected errors. */
  debug: z.boolean(),
  slack: SlackConfig,
});

export type MnemoConfig = z.infer<typeof Config>;
export type EmbedderSettings = z.infer<typeof EmbedderConfig>;
export type ModelSettings = z.infer<typeof ModelConfig>;
/** How `mnemo slack` connects, once the variables add up. */
export type SlackSettings = Exclude<z.infer<typeof SlackConfig>, { mode: 'unusable' }>;

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

/** Where mnemo keeps its data: `$XDG_DATA_HOME/mnemo`, else `~/.local/share/mnemo`. */
export function dataDir(env: NodeJS.ProcessEnv): string {
  return dataDirectory({ xdgDataHome: readSetting(env, 'XDG_DATA_HOME'), home: readSetting(env, 'HOME') });
}

/** The database file: `--db`, else `$MNEMO_DB`, else `mnemo.db` in the data directory. */
export function databasePath(env: NodeJS.ProcessEnv, flag?: string): string {
  return databaseFile(dataDir(env), flag?.trim() || readSetting(env, 'MNEMO_DB'));
}

/**
 * Resolves mnemo's configuration from the environment and global flags: every variable of {@link ENVIRONMENT},
 * validated here. Pure but for asking the OS for the user name: the only reader of `process.env` is bin/, which
 * passes it in. Settings only one command needs never stop the others: a model timeout is read when a model is
 * configured, and Slack's variables become `slack: { mode: 'unusable', problem }` for `mnemo slack` to report.
 */
export function loadConfig(options: LoadConfigOptions): MnemoConfig {
  const { env } = options;
  const setting = <N extends EnvironmentName>(name: N) => readSetting(env, name);
  const directory = dataDir(env);
  const apiKey = setting('OPENAI_API_KEY');
  const baseURL = setting('OPENAI_BASE_URL');
  const endpoint = { ...(baseURL ? { baseURL } : {}), ...(apiKey ? { apiKey } : {}) };
  const embedder: EmbedderSettings =
    setting('MNEMO_EMBEDDER') === 'glove'
      ? { kind: 'glove', cacheDir: cacheDirectory(directory) }
      : { kind: 'openai', ...endpoint, model: setting('MNEMO_EMBEDDING_MODEL') };
  const model: ModelSettings =
    apiKey || baseURL
      ? {
          kind: 'openai',
          model: setting('MNEMO_MODEL'),
          ...endpoint,
          timeoutMs: setting('MNEMO_MODEL_TIMEOUT_MS'),
          maxRetries: setting('MNEMO_MODEL_RETRIES'),
        }
      : { kind: 'none' };
  const flag = options.db?.trim() || undefined;
  const named = setting('MNEMO_DB');
  const parsed = Config.safeParse({
    db: databaseFile(directory, flag ?? named),
    dbNamedBy: flag ? '--db' : named ? 'MNEMO_DB' : undefined,
    dataDir: directory,
    embedder,
    model,
    user: setting('MNEMO_USER') ?? osUserName(env),
    debug: setting('MNEMO_DEBUG') !== undefined,
    slack: slackConfig(env),
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`invalid configuration at ${issue.path.join('.') || 'root'}: ${issue.message}`);
  }
  return parsed.data;
}

/** The OS user's name; containers may run as a uid with no passwd entry, and then `$USER` says it. */
function osUserName(env: NodeJS.ProcessEnv): string {
  try {
    return userInfo().username;
  } catch {
    return readSetting(env, 'USER');
  }
}

/**
 * Reads the Slack settings: Socket Mode when SLACK_APP_TOKEN is set, else HTTP mode with SLACK_SIGNING_SECRET and
 * PORT (default 3000). SLACK_BOT_TOKEN is always needed. A missing or malformed variable is one ConfigError line.
 */
export function slackSettings(env: NodeJS.ProcessEnv): SlackSettings {
  const setting = <N extends EnvironmentName>(name: N) => readSetting(env, name);
  const botToken = setting('SLACK_BOT_TOKEN');
  if (!botToken) {
    throw new ConfigError(
      'SLACK_BOT_TOKEN is not set: give the bot token (xoxb-...) and SLACK_SIGNING_SECRET (HTTP mode) or SLACK_APP_TOKEN (Socket Mode); see mnemo slack --help',
    );
  }
  const apiUrl = setting('SLACK_API_URL');
  const slackApiUrl = apiUrl ? { slackApiUrl: apiUrl } : {};
  const appToken = setting('SLACK_APP_TOKEN');
  if (appToken) return { mode: 'socket', botToken, appToken, ...slackApiUrl };
  const signingSecret = setting('SLACK_SIGNING_SECRET');
  if (!signingSecret) {
    throw new ConfigError(
      'set SLACK_SIGNING_SECRET for HTTP mode, or SLACK_APP_TOKEN (xapp-...) for Socket Mode; see mnemo slack --help',
    );
  }
  return { mode: 'http', botToken, signingSecret, port: setting('PORT'), ...slackApiUrl };
}

function slackConfig(env: NodeJS.ProcessEnv): z.infer<typeof SlackConfig> {
  try {
    return slackSettings(env);
  } catch (error) {
    if (error instanceof ConfigError) return { mode: 'unusable', problem: error.message };
    throw error;
  }
}
