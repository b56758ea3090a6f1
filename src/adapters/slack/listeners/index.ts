import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { FORGET_COMMAND } from '../manifest.js';
import { RATE_ACTION } from '../render.js';
import type { SlackDependencies } from '../types.js';
import { createAppMentionListener } from './app-mention.js';
import { createDirectMessageListener } from './direct-message.js';
import { createForgetCommandListener } from './forget-command.js';
import { createRateButtonListener } from './rate-button.js';

/** Wires mnemo's listeners into a Bolt app: DMs, mentions, rating buttons and `/mnemo-forget`. */
export function registerListeners(app: App, dependencies: SlackDependencies): void {
  app.event('message', createDirectMessageListener(dependencies));
  app.event('app_mention', createAppMentionListener(dependencies));
  app.action<BlockAction<ButtonAction>>(
    { type: 'block_actions', action_id: RATE_ACTION },
    createRateButtonListener(dependencies),
  );
  app.command(FORGET_COMMAND, createForgetCommandListener(dependencies));
}
