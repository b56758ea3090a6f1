import { type AIMessage, ToolMessage } from '@langchain/core/messages';
import type { ToolDefinition, ToolServices } from '../../../tools/index.js';
import { errorLine } from '../../errors.js';
import { type AgentNode, emit, turnContext } from '../context.js';

/** Where a tool call keeps arguments that were not valid JSON (see the converse node); answered with an error. */
export const UNPARSED_ARGUMENTS = '__unparsed_arguments';

/** Dependencies of the tools node. */
export interface ToolsNodeOptions {
  tools: readonly ToolDefinition[];
  services: ToolServices;
}

/**
 * tasks: runs the tools the model asked for, always for the turn's own user. A failing tool (bad arguments, unknown
 * item, no recommender yet) becomes an error result the model reads and can recover from.
 */
export function createToolsNode(options: ToolsNodeOptions): AgentNode {
  const byName = new Map(options.tools.map((tool) => [tool.name, tool]));
  return async (state, config) => {
    const started = performance.now();
    const { userId, threadId, turn } = turnContext(config);
    const calls = (state.messages.at(-1) as AIMessage | undefined)?.tool_calls ?? [];
    const results: ToolMessage[] = [];
    for (const call of calls) {
      const tool = byName.get(call.name);
      let result: string;
      let isError = false;
      try {
        if (!tool) throw new Error(`unknown tool "${call.name}"; available: ${[...byName.keys()].join(', ')}`);
        if (UNPARSED_ARGUMENTS in call.args)
          throw new Error(`the arguments are not valid JSON: ${String(call.args[UNPARSED_ARGUMENTS]).slice(0, 200)}`);
        // The user said "forget me" while this turn ran: no tool may store anything for them any more.
        if (await turn.forgotten()) throw new Error('the user has been forgotten; nothing more is done for this turn');
        result = await tool.call(call.args, options.services, {
          userId,
          threadId,
          turn,
          signal: config.signal,
        });
      } catch (error) {
        isError = true;
        result = `error: ${errorLine(error)}`;
      }
      emit(config, { type: 'tool-result', id: call.id ?? '', name: call.name, result, isError });
      results.push(
        new ToolMessage({
          content: result,
          tool_call_id: call.id ?? '',
          name: call.name,
          status: isError ? 'error' : 'success',
        }),
      );
    }
    emit(config, { type: 'stage', stage: 'tools', ms: performance.now() - started });
    return { messages: results, toolRounds: state.toolRounds + 1 };
  };
}
