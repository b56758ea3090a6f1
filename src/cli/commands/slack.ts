import { NO_MODEL_HELP } from '../../config.js';
import { ConfigError, errorLine, InputError, UsageError } from '../../errors.js';
import { type Command, type CommandContext, DB_HELP } from '../command.js';
import { progressBar } from '../io.js';

/** How `mnemo slack` connects, as read from the environment. */
export type SlackSettings =
  | {
      readonly mode: 'http';
      readonly botToken: string;
      readonly signingSecret: string;
      readonly port: number;
      readonly slackApiUrl?: string;
    }
  | { readonly mode: 'socket'; readonly botToken: string; readonly appToken: string; readonly slackApiUrl?: string };

/**
 * Reads the Slack settings: Socket Mode when SLACK_APP_TOKEN is set, else HTTP mode with SLACK_SIGNING_SECRET and
 * PORT (default 3000). SLACK_BOT_TOKEN is always needed. A missing or malformed variable is one ConfigError line.
 */
export function slackSettings(env: NodeJS.ProcessEnv): SlackSettings {
  const read = (name: string): string | undefined => env[name]?.trim() || undefined;
  const botToken = read('SLACK_BOT_TOKEN');
  const appToken = read('SLACK_APP_TOKEN');
  const signingSecret = read('SLACK_SIGNING_SECRET');
  const apiUrl = read('SLACK_API_URL');
  if (!botToken) {
    throw new ConfigError(
      'SLACK_BOT_TOKEN is not set: give the bot token (xoxb-...) and SLACK_SIGNING_SECRET (HTTP mode) or SLACK_APP_TOKEN (Socket Mode); see mnemo slack --help',
    );
  }
  if (apiUrl !== undefined && !/^https?:\/\/[^\s/]+/.test(apiUrl))
    throw new ConfigError(`SLACK_API_URL must be an http(s) URL, not "${apiUrl}"`);
  const slackApiUrl = apiUrl ? { slackApiUrl: apiUrl } : {};
  if (appToken) {
    if (!appToken.startsWith('xapp-'))
      throw new ConfigError('SLACK_APP_TOKEN must be an app-level token (xapp-...) with connections:write');
    return { mode: 'socket', botToken, appToken, ...slackApiUrl };
  }
  if (!signingSecret) {
    throw new ConfigError(
      'set SLACK_SIGNING_SECRET for HTTP mode, or SLACK_APP_TOKEN (xapp-...) for Socket Mode; see mnemo slack --help',
    );
  }
  const rawPort = read('PORT');
  const port = rawPort === undefined ? 3000 : Number(rawPort);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new ConfigError(`PORT must be a port number from 0 to 65535, not "${rawPort}"`);
  return { mode: 'http', botToken, signingSecret, port, ...slackApiUrl };
}

export const slackCommand: Command = {
  name: 'slack',
  summary: 'run the Slack bot (HTTP events or Socket Mode; needs a model)',
  help: `Usage: mnemo slack
       mnemo slack --manifest [--socket-mode] [--url URL]

Runs mnemo as a Slack bot until interrupted. It answers direct messages and @mentions
in threads; each Slack thread is an agent thread. Every person is their own mnemo user
(TEAM:USER), so in a shared channel nobody sees anyone else's memories. Recommendations
carry 1-5 rating buttons; a click records the rating. "forget me" (as a message) or
/mnemo-forget deletes everything mnemo keeps about the speaker. A failure is answered
with ":warning: reason" and the bot keeps running.

Environment:
  SLACK_BOT_TOKEN        bot token, xoxb-... (required)
  SLACK_SIGNING_SECRET   HTTP mode: verifies requests to POST /slack/events
  PORT                   HTTP mode: port to listen on (default 3000)
  SLACK_APP_TOKEN        Socket Mode instead of HTTP: app-level token, xapp-...,
                         with connections:write (no public URL needed)
  SLACK_API_URL          Web API base URL (default https://slack.com/api/), for proxies
  plus the model and database settings of mnemo --help (a model is required)

Options:
      --manifest       print the Slack app manifest (scopes, events, /mnemo-forget) to
                       paste at https://api.slack.com/apps, and exit
      --socket-mode    with --manifest: the Socket Mode manifest (no request URLs)
      --url URL        with --manifest: the public https:// base URL of this server,
                       without query or fragment; http:// only for localhost
                       (default https://YOUR-HOST.example.com)
${DB_HELP}`,
  options: { manifest: { type: 'boolean' }, 'socket-mode': { type: 'boolean' }, url: { type: 'string' } },
  positionals: [0, 0],
  async run(context) {
    const { io, values } = context;
    if (values.manifest) return printManifest(context);
    for (const flag of ['socket-mode', 'url'])
      if (values[flag] !== undefined) throw new UsageError(`--${flag} only applies with --manifest`);
    const settings = slackSettings(io.env);
    if (context.config.model.kind === 'none') throw new ConfigError(NO_MODEL_HELP);
    const [{ openServices }, { checkBotToken, createSlackApp, DEFAULT_SLACK_API_URL }] = await Promise.all([
      import('../../services.js'),
      import('../../adapters/slack/app.js'),
    ]);
    // Before anything is opened or "listening" is said: a wrong token or an unreachable Web API stops here.
    const check = await checkBotToken({
      botToken: settings.botToken,
      ...(settings.slackApiUrl ? { slackApiUrl: settings.slackApiUrl } : {}),
    });
    if (!check.ok) {
      throw new ConfigError(
        check.problem === 'rejected'
          ? `Slack rejected SLACK_BOT_TOKEN (auth.test: ${check.reason}); give the app's Bot User OAuth Token, xoxb-...`
          : `could not check SLACK_BOT_TOKEN with the Slack Web API at ${settings.slackApiUrl ?? DEFAULT_SLACK_API_URL}: ${check.reason}`,
      );
    }
    const bar = progressBar(io, 'preparing word vectors (first run only)');
    const services = await openServices(context.config, {
      onProgress: ({ done, total }) => bar.update(done, total),
    });
    bar.finish();
    try {
      const app = createSlackApp({
        connection:
          settings.mode === 'http'
            ? { mode: 'http', signingSecret: settings.signingSecret }
            : { mode: 'socket', appToken: settings.appToken },
        botToken: settings.botToken,
        identity: check,
        ...(settings.slackApiUrl ? { slackApiUrl: settings.slackApiUrl } : {}),
        agent: services.agent,
        memory: services.memory,
        recommender: services.recommender,
      });
      let started: unknown;
      try {
        started = await (settings.mode === 'http' ? app.start(settings.port) : app.start());
      } catch (error) {
        const refused = (error as { data?: { error?: unknown } }).data?.error;
        throw new ConfigError(
          settings.mode === 'socket' && typeof refused === 'string'
            ? `Slack rejected SLACK_APP_TOKEN (apps.connections.open: ${refused}); give an app-level token, xapp-..., with connections:write`
            : `could not start the Slack app: ${errorLine(error)}`,
        );
      }
      io.stderr.write(
        settings.mode === 'http'
          ? `mnemo slack: listening on port ${boundPort(started) ?? settings.port}, events at /slack/events (Ctrl-C to stop)\n`
          : 'mnemo slack: connected in Socket Mode (Ctrl-C to stop)\n',
      );
      await firstSignal();
      await app.stop();
      return 0;
    } finally {
      services.close();
    }
  },
};

/** `--manifest`: the manifest for `--url` (checked: a bad URL is a usage error) or with the placeholder host. */
async function printManifest({ io, values }: CommandContext): Promise<number> {
  const { eventsUrl, slackManifestYaml } = await import('../../adapters/slack/manifest.js');
  const socketMode = values['socket-mode'] === true;
  const url = typeof values.url === 'string' ? values.url : undefined;
  if (url !== undefined) {
    if (socketMode) throw new UsageError('--url does not apply with --socket-mode (Socket Mode needs no request URL)');
    try {
      eventsUrl(url);
    } catch (error) {
      throw error instanceof InputError ? new UsageError(`--url: ${error.message}`) : error;
    }
  }
  io.stdout.write(slackManifestYaml({ socketMode, ...(url !== undefined ? { url } : {}) }));
  return 0;
}

/**
 * Resolves on the first SIGINT or SIGTERM and then stops listening for either, so a second one ends the process
 * the default way should stopping hang.
 */
function firstSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** The port the HTTP receiver's server is bound to (PORT=0 picks a free one). */
function boundPort(started: unknown): number | undefined {
  const address = (started as { address?: () => unknown } | undefined)?.address?.();
  return typeof address === 'object' && address !== null && 'port' in address && typeof address.port === 'number'
    ? address.port
    : undefined;
}
