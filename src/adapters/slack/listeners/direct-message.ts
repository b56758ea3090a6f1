import { mnemoUserId, type SlackClient, type SlackDependencies, type SlackLogger } from '../types.js';
import { replyInThread, speakerTeam } from './reply.js';

/** The fields of a `message` event the listener reads. */
export interface MessageEventFields {
  readonly subtype?: string | undefined;
  readonly channel?: string | undefined;
  readonly channel_type?: string | undefined;
  readonly user?: string | undefined;
  readonly text?: string | undefined;
  readonly ts?: string | undefined;
  readonly thread_ts?: string | undefined;
  readonly bot_id?: string | undefined;
  readonly team?: string | undefined;
  readonly user_team?: string | undefined;
}

/** What Bolt passes to a `message` listener, as far as this one reads it. */
export interface DirectMessageArgs {
  readonly event: MessageEventFields;
  readonly body: { readonly team_id?: string | undefined };
  readonly context: { readonly teamId?: string | undefined };
  readonly client: SlackClient;
  readonly logger: SlackLogger;
}

/**
 * Answers direct messages, in a thread under the message (or in the thread it was sent in). Edits, bot messages
 * and channel messages are ignored: channels reach the bot through mentions only.
 */
export function createDirectMessageListener(dependencies: Pick<SlackDependencies, 'agent' | 'memory'>) {
  const { agent, memory } = dependencies;
  return async ({ event, body, context, client, logger }: DirectMessageArgs): Promise<void> => {
    if (event.channel_type !== 'im' || event.subtype !== undefined || event.bot_id !== undefined) return;
    const team = speakerTeam(event, body, context);
    const text = event.text?.trim();
    if (!event.channel || !event.user || !event.ts || !team || !text) return;
    const turn = {
      channel: event.channel,
      threadTs: event.thread_ts ?? event.ts,
      userId: mnemoUserId(team, event.user),
      text,
    };
    await replyInThread(turn, { agent, memory, client, logger });
  };
}
