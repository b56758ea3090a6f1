import { NO_MODEL_HELP } from '../../config.js';
import { ConfigError, errorLine, InputError, UsageError } from '../../errors.js';
import { type CommandContext, defineCommand, type OptionSpecs } from '../command.js';
import { progressBar } from '../io.js';

const SLACK_OPTIONS = {
  manifest: {
    type: 'boolean',
    description:
      'print the Slack app manifest (scopes, events, /mnemo-forget) to paste at https://api.slack.com/apps, and exit',
  },
  'socket-mode': { type: 'boolean', description: 'with --manifest: the Socket Mode manifest (no request URLs)' },
  url: {
    type: 'string',
    value: 'URL',
    description:
      'with --manifest: the public https:// base URL of this server, without query or fragment; http:// only for localhost (default https://YOUR-HOST.example.com)',
  },
} as const satisfies OptionSpecs;

export const slackCommand = defineCommand({
  name: 'slack',
  summary: 'run the Slack bot (HTTP events or Socket Mode; needs a model)',
  description: `
Runs mnemo as a Slack bot until interrupted. It answers direct messages and @mentions
in threads; each Slack thread is an agent thread. Every person is their own mnemo user
(TEAM:USER), so in a shared channel nobody sees anyone else's memories. Recommendations
carry 1-5 rating buttons; a click records the rating. "forget me" (as a message) or
/mnemo-forget deletes everything mnemo keeps about the speaker. A failure is answered
with ":warning: reason" and the bot keeps running.

With --manifest it prints the app manifest instead: mnemo slack --manifest [--socket-mode] [--url URL]`,
  options: SLACK_OPTIONS,
  positionals: [],
  environment: ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'PORT', 'SLACK_APP_TOKEN', 'SLACK_API_URL'],
  notes: 'Also the model and database settings of mnemo --help (a model is required).',
  async run(context) {
    const { io, values } = context;
    if (values.manifest) return printManifest(context);
    for (const flag of ['socket-mode', 'url'] as const)
      if (values[flag] !== undefined) throw new UsageError(`--${flag} only applies with --manifest`);
    const settings = context.config.slack;
    if (settings.mode === 'unusable') throw new ConfigError(settings.problem);
    if (context.config.model.kind === 'none') throw new ConfigError(NO_MODEL_HELP);
    const [
      { openServices },
      { checkBotToken, createSlackApp, DEFAULT_SLACK_API_URL },
      { DeliveryLedger, PostgresDeliveryLedger },
    ] = await Promise.all([
      import('../../services.js'),
      import('../../adapters/slack/app.js'),
      import('../../adapters/slack/dedupe.js'),
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
        // Deliveries are claimed in the memory database, so replicas sharing it answer each event once.
        deliveries:
          services.memory.backend.kind === 'sqlite'
            ? new DeliveryLedger(services.memory.backend.db)
            : await PostgresDeliveryLedger.create(services.memory.backend.pool),
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
      await services.close();
    }
  },
});

/** `--manifest`: the manifest for `--url` (checked: a bad URL is a usage error) or with the placeholder host. */
async function printManifest({ io, values }: CommandContext<typeof SLACK_OPTIONS>): Promise<number> {
  const { eventsUrl, slackManifestYaml } = await import('../../adapters/slack/manifest.js');
  const socketMode = values['socket-mode'] === true;
  const { url } = values;
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
