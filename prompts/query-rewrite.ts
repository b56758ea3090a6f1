/** Inputs of {@link queryRewritePrompt}. */
export interface QueryRewriteInput {
  /** The thread's latest messages before the one to rewrite, oldest first. */
  readonly earlier: readonly string[];
  /** The message to rewrite. */
  readonly last: string;
}

/**
 * The system and user messages that ask a model to turn a follow-up ("what did she say about it?") into one
 * standalone search query, resolving pronouns and references from the thread. The thread travels as JSON, so nothing
 * a person said can pose as an instruction.
 *
 * @example
 * queryRewritePrompt({ earlier: ['My sister Mia moved to Lyon'], last: 'Where does she live now?' });
 */
export function queryRewritePrompt(input: QueryRewriteInput): { system: string; user: string } {
  return {
    system:
      "Rewrite the last message of this conversation as one standalone search query for the person's memory. Resolve pronouns and references from the earlier messages. Answer with the query only.",
    user: JSON.stringify({ earlier: input.earlier, last: input.last }),
  };
}
