import { forgetSpeaker } from '../turn.js';
import { mnemoUserId, type SlackDependencies, type SlackLogger } from '../types.js';

/** What Bolt passes to a slash-command listener, as far as this one reads it. */
export interface ForgetCommandArgs {
  readonly command: { readonly team_id: string; readonly user_id: string };
  ack(response: { response_type: 'ephemeral'; text: string }): Promise<void>;
  readonly logger: SlackLogger;
}

/** `/mnemo-forget`: deletes the speaker's memory, threads and ratings, and confirms to them alone. */
export function createForgetCommandListener(dependencies: Pick<SlackDependencies, 'memory'>) {
  const { memory } = dependencies;
  return async ({ command, ack, logger }: ForgetCommandArgs): Promise<void> => {
    // Forgetting is one local transaction, well inside the three seconds Slack gives the acknowledgement.
    const { text } = await forgetSpeaker(memory, mnemoUserId(command.team_id, command.user_id), logger);
    await ack({ response_type: 'ephemeral', text });
  };
}
