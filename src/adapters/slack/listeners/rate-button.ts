import { decodeRating, ratedBlock, shortReason } from '../render.js';
import { mnemoUserId, type SlackBlock, type SlackClient, type SlackDependencies, type SlackLogger } from '../types.js';

/** What Bolt passes to a block-action listener, as far as this one reads it. */
export interface RateButtonArgs {
  ack(): Promise<void>;
  readonly action: { readonly block_id?: string | undefined; readonly value?: string | undefined };
  readonly body: {
    readonly team?: { readonly id: string } | null | undefined;
    readonly user: { readonly id: string; readonly team_id?: string | undefined };
    readonly channel?: { readonly id: string } | undefined;
    readonly message?:
      | { readonly ts: string; readonly text?: string | undefined; readonly blocks?: readonly SlackBlock[] | undefined }
      | undefined;
  };
  readonly client: SlackClient;
  readonly logger: SlackLogger;
}

/**
 * A click on a recommendation's 1–5 buttons: records the clicker's rating of the item. The person the list was
 * made for sees the buttons replaced by their rating; anyone else who clicks gets a note only they can see.
 */
export function createRateButtonListener(dependencies: Pick<SlackDependencies, 'recommender'>) {
  const { recommender } = dependencies;
  return async ({ ack, action, body, client, logger }: RateButtonArgs): Promise<void> => {
    await ack();
    const value = decodeRating(action.value);
    const team = body.user.team_id ?? body.team?.id;
    const channel = body.channel?.id;
    if (!value || !team) return;
    const userId = mnemoUserId(team, body.user.id);
    const tell = async (text: string): Promise<void> => {
      if (!channel) return;
      await client.chat
        .postEphemeral({ channel, user: body.user.id, text })
        .catch((error: unknown) => logger.error('chat.postEphemeral failed', error));
    };
    try {
      await recommender.rate(userId, value.itemId, value.stars, { source: 'explicit' });
    } catch (error) {
      logger.error('mnemo rate failed', error);
      await tell(`:warning: could not record your rating: ${shortReason(error)}`);
      return;
    }
    const message = body.message;
    if (value.forUser === userId && channel && message?.blocks && action.block_id) {
      const blockId = action.block_id;
      const blocks = message.blocks.map((block) => (block.block_id === blockId ? ratedBlock(value, blockId) : block));
      try {
        await client.chat.update({ channel, ts: message.ts, text: message.text ?? 'Recommendations', blocks });
        return;
      } catch (error) {
        logger.error('chat.update failed', error);
      }
    }
    await tell(`Rated *${value.title}* ${value.stars}/5.`);
  };
}
