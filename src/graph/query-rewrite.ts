import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { HumanMessage, SystemMessage } from '@langchain/core/messages';
import { type QueryGenerator, ruleQueryGenerator } from '../../memory/retrieval/query.js';
import { messageText } from './nodes/recall.js';
import { tokenUsage } from './usage.js';

/**
 * φq with a model: rewrites the latest message into a standalone search query (resolving "she", "that trip" from
 * the thread), then applies the offline rules to the rewrite. Costs one extra model call per turn; when the call
 * fails or returns nothing usable, the offline rules run on the original message.
 */
export function llmQueryGenerator(model: BaseChatModel): QueryGenerator {
  return async (input) => {
    if (!input.history || input.history.length === 0) return ruleQueryGenerator(input);
    try {
      const answer = await model.invoke([
        new SystemMessage(
          "Rewrite the last message of this conversation as one standalone search query for the person's memory. Resolve pronouns and references from the earlier messages. Answer with the query only.",
        ),
        new HumanMessage(JSON.stringify({ earlier: input.history, last: input.text })),
      ]);
      const rewritten = messageText(answer).replace(/\s+/g, ' ').trim();
      if (rewritten === '' || rewritten.length > 500) return ruleQueryGenerator(input);
      const plan = await ruleQueryGenerator({ ...input, text: rewritten, history: [] });
      // Keep the user's own words for display and for the time they name.
      return { ...plan, text: input.text, usage: tokenUsage(answer) };
    } catch {
      return ruleQueryGenerator(input);
    }
  };
}
