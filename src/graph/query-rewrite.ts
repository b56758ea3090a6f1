import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { HumanMessage, SystemMessage } from '@langchain/core/messages';
import { type QueryGenerator, ruleQueryGenerator, squeeze } from '../../memory/index.js';
import { queryRewritePrompt } from '../../prompts/query-rewrite.js';
import { messageText, tokenUsage } from './messages.js';

/**
 * φq with a model: rewrites the latest message into a standalone search query (resolving "she", "that trip" from
 * the thread), then applies the offline rules to the rewrite. Costs one extra model call per turn; when the call
 * fails or returns nothing usable, the offline rules run on the original message.
 */
export function llmQueryGenerator(model: BaseChatModel): QueryGenerator {
  return async (input) => {
    if (!input.history || input.history.length === 0) return ruleQueryGenerator(input);
    try {
      const prompt = queryRewritePrompt({ earlier: input.history, last: input.text });
      const answer = await model.invoke([new SystemMessage(prompt.system), new HumanMessage(prompt.user)]);
      const rewritten = squeeze(messageText(answer));
      if (rewritten === '' || rewritten.length > 500) return ruleQueryGenerator(input);
      const plan = await ruleQueryGenerator({ ...input, text: rewritten, history: [] });
      // Keep the user's own words for display and for the time they name.
      return { ...plan, text: input.text, usage: tokenUsage(answer) };
    } catch {
      return ruleQueryGenerator(input);
    }
  };
}
