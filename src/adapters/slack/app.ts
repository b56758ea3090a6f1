import { App, HTTPReceiver, LogLevel } from '@slack/bolt';
import Database from 'better-sqlite3';
import { type DeliveryClaims, DeliveryLedger, firstDeliveryOnly } from './dedupe.js';
import { registerListeners } from './listeners/index.js';
import { EVENTS_PATH } from './manifest.js';
import { BODY_LIMIT_BYTES, guardRequests } from './requests.js';
import { apiBaseUrl, type SlackBotIdentity } from './token.js';
import type { SlackDependencies } from './types.js';

export { EVENTS_PATH } from './manifest.js';
export { checkBotToken, DEFAULT_SLACK_API_URL, type SlackBotIdentity, type TokenCheck } from './token.js';

/** How the app hears from Slack: HTTP requests it verifies, or a Socket Mode websocket it opens. */
export type SlackConnection =
  | {
      readonly mode: 'http';
      /** The app's signing secret: every request's `x-slack-signature` is checked against it. */
      readonly signingSecret: string;
    }
  | {
      readonly mode: 'socket';
      /** An app-level token (`xapp-…`) with `connections:write`. */
      readonly appToken: string;
    };

/** Options of {@link createSlackApp}. The CLI reads them from the environment; nothing here reads it. */
export interface SlackAppOptions extends SlackDependencies {
  /** HTTP (events at `/slack/events`) or Socket Mode. */
  readonly connection: SlackConnection;
  /** The bot token (`xoxb-…`) replies are posted with. */
  readonly botToken: string;
  /** Base URL of the Slack Web API, for a proxy or a test stub. @default 'https://slack.com/api/' */
  readonly slackApiUrl?: string;
  /**
   * The bot's ids from {@link checkBotToken}, so Bolt does not call auth.test itself. Without them Bolt calls it
   * when the first event arrives (never at construction, where a failure would be an unhandled rejection).
   */
  readonly identity?: SlackBotIdentity;
  /** Bolt's log level. @default LogLevel.INFO */
  readonly logLevel?: LogLevel;
  /**
   * Where the deliveries already answered are recorded ({@link DeliveryLedger} in a SQLite file,
   * `PostgresDeliveryLedger`), so a retried or replayed event is answered once, even by replicas sharing it.
   * `mnemo slack` passes its memory database. @default a private in-memory database: once per process
   */
  readonly deliveries?: DeliveryClaims | undefined;
}

/**
 * Retries of the bot's Web API calls (replies, updates): a few over about half a minute, not the WebClient's
 * default ten over half an hour, since a reply that late answers nobody. The timers are unref'd so a retry still
 * pending when the app stops never keeps the process alive.
 */
const REPLY_RETRIES = { retries: 4, factor: 2, minTimeout: 1000, maxTimeout: 15_000, randomize: true, unref: true };
/** How long one Web API request may take before it is abandoned (and retried). */
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * Creates mnemo's Bolt app; `await app.start(port)` (HTTP) or `await app.start()` (Socket Mode) runs it.
 *
 * @example
 * const check = await checkBotToken({ botToken });
 * if (!check.ok) throw new Error(check.reason);
 * const app = createSlackApp({ connection: { mode: 'http', signingSecret }, botToken, identity: check, agent, memory, recommender });
 * await app.start(3000);
 */
export function createSlackApp(options: SlackAppOptions): App {
  const { connection, botToken, slackApiUrl, identity, logLevel = LogLevel.INFO, agent, memory, recommender } = options;
  const ledger = options.deliveries ?? new DeliveryLedger(new Database(':memory:'));
  const base = { slackApiUrl: apiBaseUrl(slackApiUrl) };
  const clientOptions = { ...base, retryConfig: REPLY_RETRIES, timeout: REQUEST_TIMEOUT_MS };
  const bot = identity ? { botId: identity.botId, botUserId: identity.botUserId } : { tokenVerificationEnabled: false };
  const httpApp = (signingSecret: string): App => {
    const receiver = new HTTPReceiver({ signingSecret, endpoints: EVENTS_PATH, logLevel, bodyLimit: BODY_LIMIT_BYTES });
    const created = new App({ token: botToken, ...bot, receiver, clientOptions, logLevel });
    // HTTPReceiver.start() serves every request through the receiver's public `requestListener`: replacing it puts
    // the guard in front of Bolt without forking it.
    receiver.requestListener = guardRequests(receiver.requestListener, { signingSecret, logger: created.logger });
    return created;
  };
  const socketApp = (appToken: string): App =>
    new App({
      token: botToken,
      ...bot,
      appToken,
      socketMode: true,
      clientOptions,
      // The socket's own client keeps its default of many retries: it reconnects after a dropped connection,
      // and while it does, its timers are what keeps the process running.
      installerOptions: { clientOptions: base },
      logLevel,
    });
  const app = connection.mode === 'http' ? httpApp(connection.signingSecret) : socketApp(connection.appToken);
  app.use(firstDeliveryOnly(ledger));
  registerListeners(app, { agent, memory, recommender });
  // A listener that throws anyway is logged; Bolt keeps serving the next request.
  app.error(async (error) => {
    app.logger.error('mnemo slack listener failed', error);
  });
  return app;
}
