import type { AIMessage } from '@langchain/core/messages';
import type { AgentRouter } from './context.js';

/** Tool rounds allowed per turn before the agent answers with what it has. */
export const MAX_TOOL_ROUNDS = 4;

/** After the model: run the tools it asked for, or store the turn. */
export const afterConverse: AgentRouter<'tools' | 'write-back'> = (state) => {
  if (state.failed) return 'write-back';
  const last = state.messages.at(-1);
  // By type, not class: a streamed reply is an AIMessageChunk, a restored one an AIMessage.
  const wantsTools = last?.getType() === 'ai' && ((last as AIMessage).tool_calls?.length ?? 0) > 0;
  return wantsTools && state.toolRounds < MAX_TOOL_ROUNDS ? 'tools' : 'write-back';
};
