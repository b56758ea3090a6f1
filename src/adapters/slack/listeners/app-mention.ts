import { withoutMentions } from '../render.js';
import { mnemoUserId, type SlackClient, type SlackDependencies, type SlackLogger } from '../types.js';
import { replyInThread, speakerTeam } from './reply.js';

/** The fields of an `app_mention` event the listener reads. */
export interface MentionEventFields {
  readonly channel: string;
  readonly user?: string | undefined;
  readonly text: string;
  readonly ts: string;
  readonly thread_ts?: string | undefined;
  readonly bot_id?: string | undefined;
  readonly team?: string | undefined;
  readonly user_team?: string | undefined;
}

/** What Bolt passes to an `app_mention` listener, as far as this one reads it. */
export interface AppMentionArgs {
  readonly event: MentionEventFields;
  readonly body: { readonly team_id?: string | undefined };
  readonly context: {
    readonly teamId?: string | undefined;
    readonly botUserId?: string | undefined;
  };
  readonly client: SlackClient;
  readonly logger: SlackLogger;
}

/**
 * Answers `@mnemo ...` in a channel, in the thread of the mention. The speaker is the mnemo user, so in a shared
 * channel everyone talks to their own memory.
 */
export function createAppMentionListener(dependencies: Pick<SlackDependencies, 'agent' | 'memory'>) {
  const { agent, memory } = dependencies;
  return async ({ event, body, context, client, logger }: AppMentionArgs): Promise<void> => {
    // A DM reaches the bot as a message event already; answering its mention too would reply twice.
    if (event.bot_id !== undefined || event.channel.startsWith('D')) return;
    const team = speakerTeam(event, body, context);
    const text = withoutMentions(event.text, context.botUserId);
    if (!event.user || !team) return;
    // A bare mention is a greeting.
    const turn = {
      channel: event.channel,
      threadTs: event.thread_ts ?? event.ts,
      userId: mnemoUserId(team, event.user),
      text: text || 'Hello!',
    };
    await replyInThread(turn, { agent, memory, client, logger });
  };
}
