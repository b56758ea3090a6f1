import { userScope } from '../../../memory/types.js';
import { NO_MODEL_HELP } from '../../config.js';
import type { AgentEvent } from '../../events.js';
import { renderTurn, shortReason, warningMessage } from './render.js';
import type { SlackClient, SlackDependencies, SlackLogger, SlackMessage } from './types.js';

/** Where a reply goes and who is speaking. */
export interface SlackTurn {
  readonly channel: string;
  /** The Slack thread the reply joins (the message's own ts when it started one). */
  readonly threadTs: string;
  /** The mnemo user (`team:user`). */
  readonly userId: string;
  readonly text: string;
}

/**
 * Runs one agent turn for a Slack message and posts the rendered events in its thread. A failure is posted as
 * `:warning: reason` and logged; it never throws, so one bad turn never stops the bot.
 */
export async function answerInThread(turn: SlackTurn, services: { agent: SlackDependencies['agent']; client: SlackClient; logger: SlackLogger }): Promise<void> {
  const { agent, client, logger } = services;
  let message: SlackMessage;
  if (!agent) {
    message = warningMessage(NO_MODEL_HELP);
  } else {
    try {
      const events: AgentEvent[] = [];
      // The Slack thread is the agent's thread. Channel + ts make it unique; the agent keys it per user, so two
      // people in one Slack thread each keep their own conversation and memory.
      for await (const event of agent.stream(turn.text, { userId: turn.userId, threadId: `${turn.channel}:${turn.threadTs}` })) events.push(event);
      message = renderTurn(events, { userId: turn.userId });
    } catch (error) {
      logger.error('mnemo turn failed', error);
      message = warningMessage(shortReason(error));
    }
  }
  await post(client, logger, { channel: turn.channel, thread_ts: turn.threadTs, ...message });
}

/** Deletes everything mnemo keeps about the speaker and says so; failures become `:warning:` text. */
export function forgetSpeaker(memory: SlackDependencies['memory'], userId: string, logger: SlackLogger): SlackMessage {
  try {
    const { deleted } = memory.forget(userScope(userId));
    return { text: `Done: I forgot everything I knew about you (${deleted} ${deleted === 1 ? 'memory' : 'memories'}, your ratings and our conversations).` };
  } catch (error) {
    logger.error('mnemo forget failed', error);
    return warningMessage(`could not forget you: ${shortReason(error)}`);
  }
}

/** Posts a message; a failing Web API call is logged, never thrown (there is nobody left to tell). */
export async function post(client: SlackClient, logger: SlackLogger, message: { channel: string; thread_ts?: string } & SlackMessage): Promise<void> {
  try {
    await client.chat.postMessage({ channel: message.channel, text: message.text, ...(message.thread_ts ? { thread_ts: message.thread_ts } : {}), ...(message.blocks ? { blocks: [...message.blocks] } : {}) });
  } catch (error) {
    logger.error('chat.postMessage failed', error);
  }
}
