import { isForgetRequest } from '../render.js';
import { forgetSpeaker, post } from '../turn.js';
import type { SlackClient, SlackDependencies, SlackLogger } from '../types.js';

/**
 * "forget me" typed in a DM or a mention: deletes the speaker's memory and confirms in the thread. Returns false
 * (doing nothing) for any other text, so the message goes to the agent.
 */
export async function handleForgetMe(
  request: { text: string; userId: string; channel: string; threadTs: string },
  services: { memory: SlackDependencies['memory']; client: SlackClient; logger: SlackLogger },
): Promise<boolean> {
  if (!isForgetRequest(request.text)) return false;
  const { memory, client, logger } = services;
  await post(client, logger, { channel: request.channel, thread_ts: request.threadTs, ...forgetSpeaker(memory, request.userId, logger) });
  return true;
}
