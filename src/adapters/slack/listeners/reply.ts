import { isForgetRequest } from '../render.js';
import { answerInThread, forgetSpeaker, post, type SlackTurn } from '../turn.js';
import type { SlackClient, SlackDependencies, SlackLogger } from '../types.js';

/** The team of a message's speaker: their own (a shared channel's guest), else the event's, else the workspace's. */
export function speakerTeam(
  event: { readonly user_team?: string | undefined; readonly team?: string | undefined },
  body: { readonly team_id?: string | undefined },
  context: { readonly teamId?: string | undefined },
): string | undefined {
  return event.user_team ?? event.team ?? body.team_id ?? context.teamId;
}

/**
 * Replies to a DM or a mention in its thread: "forget me" deletes the speaker's memory and confirms; anything else
 * is a turn of the agent.
 */
export async function replyInThread(
  turn: SlackTurn,
  services: {
    agent: SlackDependencies['agent'];
    memory: SlackDependencies['memory'];
    client: SlackClient;
    logger: SlackLogger;
  },
): Promise<void> {
  const { agent, memory, client, logger } = services;
  if (isForgetRequest(turn.text)) {
    await post(client, logger, {
      channel: turn.channel,
      thread_ts: turn.threadTs,
      ...(await forgetSpeaker(memory, turn.userId, logger)),
    });
    return;
  }
  await answerInThread(turn, { agent, client, logger });
}
