import { App, HTTPReceiver, LogLevel } from '@slack/bolt';
import { registerListeners } from './listeners/index.js';
import { EVENTS_PATH } from './manifest.js';
import type { SlackDependencies } from './types.js';

export { EVENTS_PATH } from './manifest.js';

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
  /** Bolt's log level. @default LogLevel.INFO */
  readonly logLevel?: LogLevel;
}

/**
 * Creates mnemo's Bolt app; `await app.start(port)` (HTTP) or `await app.start()` (Socket Mode) runs it.
 *
 * @example
 * const app = createSlackApp({ connection: { mode: 'http', signingSecret }, botToken, agent, memory, recommender });
 * await app.start(3000);
 */
export function createSlackApp(options: SlackAppOptions): App {
  const { connection, botToken, slackApiUrl, logLevel = LogLevel.INFO, agent, memory, recommender } = options;
  const clientOptions = slackApiUrl ? { slackApiUrl: slackApiUrl.endsWith('/') ? slackApiUrl : `${slackApiUrl}/` } : {};
  const app =
    connection.mode === 'http'
      ? new App({
          token: botToken,
          receiver: new HTTPReceiver({ signingSecret: connection.signingSecret, endpoints: EVENTS_PATH, logLevel }),
          clientOptions,
          logLevel,
        })
      : new App({ token: botToken, appToken: connection.appToken, socketMode: true, clientOptions, logLevel });
  registerListeners(app, { agent, memory, recommender });
  // A listener that throws anyway is logged; Bolt keeps serving the next request.
  app.error(async (error) => {
    app.logger.error('mnemo slack listener failed', error);
  });
  return app;
}
