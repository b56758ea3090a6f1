import { LogLevel, webApi } from '@slack/bolt';
import { errorLine } from '../../errors.js';

/** Slack's Web API when no other base URL is given. */
export const DEFAULT_SLACK_API_URL = 'https://slack.com/api/';

/** How long {@link checkBotToken} waits for auth.test. */
export const TOKEN_CHECK_TIMEOUT_MS = 10_000;

/** The bot's own ids, as auth.test reports them; Bolt needs them to ignore the bot's own messages. */
export interface SlackBotIdentity {
  readonly botUserId: string;
  readonly botId: string;
}

/** What auth.test said about a bot token: the bot's identity, or why the token could not be used. */
export type TokenCheck =
  | ({ readonly ok: true } & SlackBotIdentity)
  | {
      readonly ok: false;
      /** `rejected`: Slack answered and refused the token; `unreachable`: no usable answer came. */
      readonly problem: 'rejected' | 'unreachable';
      /** One line: Slack's error code (`invalid_auth`), the network error, or the timeout. */
      readonly reason: string;
    };

/** Options of {@link checkBotToken}. */
export interface TokenCheckOptions {
  /** The bot token (`xoxb-…`). */
  readonly botToken: string;
  /** Base URL of the Slack Web API. @default DEFAULT_SLACK_API_URL */
  readonly slackApiUrl?: string;
  /** How long to wait for the answer. @default TOKEN_CHECK_TIMEOUT_MS */
  readonly timeoutMs?: number;
}

/**
 * Asks auth.test, once and within a timeout, whether the bot token works. It never throws: a bot should refuse to
 * start with a clear reason rather than start and fail on every message (or retry for half an hour).
 *
 * @example
 * const check = await checkBotToken({ botToken });
 * if (!check.ok) throw new ConfigError(`Slack rejected the bot token: ${check.reason}`);
 */
export async function checkBotToken(options: TokenCheckOptions): Promise<TokenCheck> {
  const timeoutMs = options.timeoutMs ?? TOKEN_CHECK_TIMEOUT_MS;
  const client = new webApi.WebClient(options.botToken, {
    slackApiUrl: apiBaseUrl(options.slackApiUrl),
    retryConfig: { retries: 0 },
    timeout: timeoutMs,
    // The failure is the result; the client's own warning would only repeat it.
    logLevel: LogLevel.ERROR,
  });
  try {
    const answer = await client.auth.test();
    if (!answer.user_id || !answer.bot_id)
      return {
        ok: false,
        problem: 'rejected',
        reason: 'not a bot token (auth.test names no bot); give the Bot User OAuth Token, xoxb-...',
      };
    return { ok: true, botUserId: answer.user_id, botId: answer.bot_id };
  } catch (error) {
    return failure(error, timeoutMs);
  }
}

/** The Web API base URL with the trailing slash the WebClient joins method names onto. */
export function apiBaseUrl(slackApiUrl: string | undefined): string {
  const base = slackApiUrl ?? DEFAULT_SLACK_API_URL;
  return base.endsWith('/') ? base : `${base}/`;
}

function failure(error: unknown, timeoutMs: number): Extract<TokenCheck, { ok: false }> {
  const coded = error as {
    code?: unknown;
    data?: { error?: unknown };
    statusCode?: unknown;
    statusMessage?: unknown;
    original?: unknown;
  };
  if (coded.code === webApi.ErrorCode.PlatformError) {
    // Slack names its errors like invalid_auth; anything else (an HTML page from a proxy) is not Slack answering.
    const reason = String(coded.data?.error ?? '');
    if (/^[a-z0-9_]+$/.test(reason)) return { ok: false, problem: 'rejected', reason };
    return {
      ok: false,
      problem: 'unreachable',
      reason: `the answer is not the Slack Web API's: ${errorLine(reason || 'no error code', 80)}`,
    };
  }
  if (coded.code === webApi.ErrorCode.HTTPError)
    return {
      ok: false,
      problem: 'unreachable',
      reason: `HTTP ${String(coded.statusCode)} ${String(coded.statusMessage ?? '')}`.trim(),
    };
  const original = coded.code === webApi.ErrorCode.RequestError ? coded.original : error;
  if (original instanceof Error && (original.name === 'TimeoutError' || original.name === 'AbortError')) {
    return { ok: false, problem: 'unreachable', reason: `no answer within ${timeoutMs / 1000} s` };
  }
  // fetch says only "fetch failed"; the cause says what failed (connect ECONNREFUSED 127.0.0.1:1).
  const cause = original instanceof Error ? original.cause : undefined;
  return {
    ok: false,
    problem: 'unreachable',
    reason: errorLine(cause instanceof Error ? cause : original) || 'unknown error',
  };
}
