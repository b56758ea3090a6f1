import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { slackCommand } from '../../src/cli/commands/slack.js';
import { commandHelp } from '../../src/cli/help.js';
import { mainHelp } from '../../src/cli/main.js';
import { NO_MODEL_HELP, slackSettings } from '../../src/config.js';
import { cliEnvironment, mnemo } from '../helpers/cli.js';

const docs = (name: string) => readFileSync(join(import.meta.dirname, '../../docs', name), 'utf8');

describe('mnemo slack (command line)', () => {
  it('says in one line which variable is missing, before opening anything', async () => {
    const env = cliEnvironment();
    const none = await mnemo(env, ['slack']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^mnemo slack: SLACK_BOT_TOKEN is not set: .*\n$/);

    const noSecret = await mnemo({ ...env, SLACK_BOT_TOKEN: 'xoxb-1' }, ['slack']);
    expect(noSecret.code).toBe(1);
    expect(noSecret.stderr).toBe(
      'mnemo slack: set SLACK_SIGNING_SECRET for HTTP mode, or SLACK_APP_TOKEN (xapp-...) for Socket Mode; see mnemo slack --help\n',
    );

    const badAppToken = await mnemo({ ...env, SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xoxb-2' }, ['slack']);
    expect(badAppToken.stderr).toMatch(/^mnemo slack: SLACK_APP_TOKEN must be an app-level token \(xapp-\.\.\.\)/);

    const noModel = await mnemo({ ...env, SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's' }, ['slack']);
    expect(noModel).toMatchObject({ code: 1, stderr: `mnemo slack: ${NO_MODEL_HELP}\n` });
  });

  it('picks Socket Mode when SLACK_APP_TOKEN is set, else HTTP on PORT (default 3000)', () => {
    expect(slackSettings({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's' })).toEqual({
      mode: 'http',
      botToken: 'xoxb-1',
      signingSecret: 's',
      port: 3000,
    });
    expect(
      slackSettings({
        SLACK_BOT_TOKEN: 'xoxb-1',
        SLACK_SIGNING_SECRET: 's',
        PORT: '8080',
        SLACK_API_URL: 'http://127.0.0.1:9/api/',
      }),
    ).toEqual({
      mode: 'http',
      botToken: 'xoxb-1',
      signingSecret: 's',
      port: 8080,
      slackApiUrl: 'http://127.0.0.1:9/api/',
    });
    expect(slackSettings({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1' })).toEqual({
      mode: 'socket',
      botToken: 'xoxb-1',
      appToken: 'xapp-1',
    });
    expect(() => slackSettings({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's', PORT: 'eighty' })).toThrow(
      'PORT must be a port number',
    );
  });

  it('prints the manifests kept in docs/, and a given URL', async () => {
    const env = cliEnvironment();
    expect((await mnemo(env, ['slack', '--manifest'])).stdout).toBe(docs('slack-manifest.yaml'));
    expect((await mnemo(env, ['slack', '--manifest', '--socket-mode'])).stdout).toBe(
      docs('slack-manifest.socket-mode.yaml'),
    );
    const withUrl = (await mnemo(env, ['slack', '--manifest', '--url', 'https://bot.example.org/'])).stdout;
    expect(withUrl.match(/https:\/\/bot\.example\.org\/slack\/events/g)).toHaveLength(3);
    // Nothing left to replace once the URL is given.
    expect(docs('slack-manifest.yaml')).toContain('YOUR-HOST');
    expect(withUrl).not.toContain('YOUR-HOST');
    for (const needed of [
      'app_mentions:read',
      'chat:write',
      'commands',
      'im:history',
      '- app_mention',
      '- message.im',
      'command: /mnemo-forget',
    ])
      expect(docs('slack-manifest.yaml')).toContain(needed);
  });

  it('joins /slack/events onto the path of --url, and http:// only for localhost', async () => {
    const env = cliEnvironment();
    const requestUrls = async (url: string) =>
      [...(await mnemo(env, ['slack', '--manifest', '--url', url])).stdout.matchAll(/(?:request_)?url: (\S+)/g)].map(
        (match) => match[1],
      );
    expect(await requestUrls('https://bot.example.org/mnemo//')).toEqual(
      Array(3).fill('https://bot.example.org/mnemo/slack/events'),
    );
    expect(await requestUrls('http://localhost:3000')).toEqual(Array(3).fill('http://localhost:3000/slack/events'));
  });

  it('rejects a --url Slack could not post to, and flags that do not apply, as one-line usage errors', async () => {
    const env = cliEnvironment();
    const cases: Array<[string[], RegExp]> = [
      [['--manifest', '--url', 'not a url'], /^mnemo slack: --url: "not a url" is not an absolute URL/],
      [['--manifest', '--url', 'bot.example.org'], /^mnemo slack: --url: "bot\.example\.org" is not an absolute URL/],
      [['--manifest', '--url', 'https://bot.example.org/x?a=b#c'], /^mnemo slack: --url: ".*" has a query or fragment/],
      [['--manifest', '--url', 'https://bot.example.org/#'], /has a query or fragment/],
      [
        ['--manifest', '--url', 'http://bot.example.org'],
        /^mnemo slack: --url: "http:\/\/bot\.example\.org" is not https:\/\//,
      ],
      [['--manifest', '--url', 'ftp://localhost/'], /is not https:\/\//],
      [
        ['--manifest', '--socket-mode', '--url', 'https://bot.example.org'],
        /^mnemo slack: --url does not apply with --socket-mode/,
      ],
      [['--socket-mode'], /^mnemo slack: --socket-mode only applies with --manifest\n$/],
      [['--url', 'https://bot.example.org'], /^mnemo slack: --url only applies with --manifest\n$/],
    ];
    for (const [args, message] of cases) {
      const result = await mnemo(env, ['slack', ...args]);
      expect(result, args.join(' ')).toMatchObject({ code: 2, stdout: '' });
      expect(result.stderr, args.join(' ')).toMatch(message);
      expect(result.stderr.split('\n'), args.join(' ')).toHaveLength(2);
    }
  });

  it('is listed in mnemo --help and documents its variables', () => {
    expect(mainHelp()).toMatch(/\n {2}slack +run the Slack bot/);
    for (const variable of ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN', 'SLACK_API_URL', 'PORT']) {
      expect(commandHelp(slackCommand)).toMatch(new RegExp(`\\n {2}${variable} +\\S`));
      expect(mainHelp()).toMatch(new RegExp(`\\n {2}${variable} +\\S`));
    }
  });
});
