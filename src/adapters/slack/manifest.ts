import { InputError } from '../../errors.js';

/** The slash command that deletes the speaker's memory. */
export const FORGET_COMMAND = '/mnemo-forget';
/** The path Slack posts events, interactions and slash commands to in HTTP mode. */
export const EVENTS_PATH = '/slack/events';
/** The host a manifest printed without `--url` asks to replace. */
const PLACEHOLDER_URL = 'https://YOUR-HOST.example.com';

/** Options of {@link slackManifest}. */
export interface SlackManifestOptions {
  /** Socket Mode (no public URL) instead of HTTP. @default false */
  socketMode?: boolean;
  /**
   * Public base URL of `mnemo slack` in HTTP mode, checked by {@link eventsUrl}; `/slack/events` is appended to its
   * path. @default 'https://YOUR-HOST.example.com'
   */
  url?: string;
  /** The app's and bot's name in Slack. @default 'mnemo' */
  name?: string;
}

type Yaml = string | boolean | readonly Yaml[] | { readonly [key: string]: Yaml };

/**
 * The Slack app manifest mnemo needs: the bot scopes, the `app_mention` and `message.im` events, interactivity
 * (rating buttons) and `/mnemo-forget`. Paste it at https://api.slack.com/apps → Create New App → From a manifest.
 */
export function slackManifest(options: SlackManifestOptions = {}): Record<string, Yaml> {
  const name = options.name ?? 'mnemo';
  // The placeholder is kept as written (URL parsing would lower-case it, and it is meant to stand out).
  const requestUrl = options.url === undefined ? `${PLACEHOLDER_URL}${EVENTS_PATH}` : eventsUrl(options.url);
  const http = !options.socketMode;
  return {
    display_information: {
      name,
      description: 'A conversational agent with long-term memory',
    },
    features: {
      app_home: { home_tab_enabled: false, messages_tab_enabled: true, messages_tab_read_only_enabled: false },
      bot_user: { display_name: name, always_online: true },
      slash_commands: [
        {
          command: FORGET_COMMAND,
          ...(http ? { url: requestUrl } : {}),
          description: `Delete everything ${name} remembers about you`,
          should_escape: false,
        },
      ],
    },
    oauth_config: {
      scopes: {
        // app_mentions:read + im:history: hear mentions and DMs; chat:write: reply; commands: /mnemo-forget.
        bot: ['app_mentions:read', 'chat:write', 'commands', 'im:history'],
      },
    },
    settings: {
      event_subscriptions: { ...(http ? { request_url: requestUrl } : {}), bot_events: ['app_mention', 'message.im'] },
      interactivity: { is_enabled: true, ...(http ? { request_url: requestUrl } : {}) },
      org_deploy_enabled: false,
      socket_mode_enabled: !http,
      token_rotation_enabled: false,
    },
  };
}

/**
 * Where Slack posts to, from the public base URL of `mnemo slack`: `/slack/events` joined onto its path. The base
 * must be absolute, https (http only for localhost, Slack itself requires https) and carry no query or fragment,
 * which Slack would not keep; anything else is an InputError.
 *
 * @example
 * eventsUrl('https://bot.example.org/mnemo/') // 'https://bot.example.org/mnemo/slack/events'
 */
export function eventsUrl(base: string): string {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new InputError(`"${base}" is not an absolute URL like https://bot.example.org`);
  }
  const local = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && local)) {
    throw new InputError(`"${base}" is not https:// (http:// is accepted only for localhost)`);
  }
  // Checked on the text: `new URL('https://x/?')` parses to an empty search yet the "?" is still in the href.
  if (/[?#]/.test(base)) throw new InputError(`"${base}" has a query or fragment; give the base URL alone`);
  if (url.username || url.password) throw new InputError('the URL must not carry a user name or password');
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}${EVENTS_PATH}`;
}

/** The manifest as YAML, with a comment saying what to do with it (and what to replace, when no URL was given). */
export function slackManifestYaml(options: SlackManifestOptions = {}): string {
  const paste = 'Paste at https://api.slack.com/apps → Create New App → From a manifest.';
  const header = options.socketMode
    ? `# mnemo Slack app manifest (Socket Mode). ${paste}\n# Then: Basic Information → App-Level Tokens → generate one with connections:write (SLACK_APP_TOKEN=xapp-...),\n# Install App → Bot User OAuth Token (SLACK_BOT_TOKEN=xoxb-...), and run \`mnemo slack\`.\n`
    : `# mnemo Slack app manifest (HTTP). ${paste}\n${
        options.url === undefined
          ? '# Replace YOUR-HOST.example.com with the public HTTPS address of `mnemo slack` (or use `mnemo slack --manifest --url URL`).\n'
          : ''
      }# Then: Basic Information → Signing Secret (SLACK_SIGNING_SECRET), Install App → Bot User OAuth Token (SLACK_BOT_TOKEN).\n`;
  return `${header}${yaml(slackManifest(options), 0)}`;
}

// Enough YAML for the manifest: nested maps, lists of scalars or maps, strings and booleans.
function yaml(value: Yaml, indent: number): string {
  const pad = '  '.repeat(indent);
  if (Array.isArray(value)) {
    return value
      .map((item: Yaml) => {
        if (typeof item !== 'object') return `${pad}- ${scalar(item)}\n`;
        const body = yaml(item, indent + 1);
        return `${pad}- ${body.slice(pad.length + 2)}`;
      })
      .join('');
  }
  if (typeof value !== 'object') return `${pad}${scalar(value)}\n`;
  return Object.entries(value)
    .map(([key, child]) =>
      typeof child === 'object' ? `${pad}${key}:\n${yaml(child, indent + 1)}` : `${pad}${key}: ${scalar(child)}\n`,
    )
    .join('');
}

function scalar(value: string | boolean): string {
  if (typeof value === 'boolean') return String(value);
  return /^[A-Za-z0-9 _./:@-]+$/.test(value) &&
    !/^[-\s]|:\s|\s$/.test(value) &&
    !['true', 'false', 'null', 'yes', 'no'].includes(value)
    ? value
    : JSON.stringify(value);
}
