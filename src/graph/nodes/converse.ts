import { randomUUID } from 'node:crypto';
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { SystemMessage, type AIMessage, type BaseMessage } from '@langchain/core/messages';
import type { ToolDefinition } from '../../../tools/types.js';
import { systemPrompt } from '../../../prompts/system.js';
import { emit, type NodeConfig } from '../context.js';
import type { AgentStateType, AgentStateUpdate } from '../state.js';
import { oneLine } from '../../errors.js';

/** Dependencies of the converse node. */
export interface ConverseNodeOptions {
  model: BaseChatModel;
  tools: readonly ToolDefinition[];
  /** Most thread messages sent with each call (older ones are in memory). @default 24 */
  historyLimit?: number;
  clock?: () => Date;
}

/** The last `limit` messages, starting at a human message so no tool result loses its call. */
export function messageWindow(messages: readonly BaseMessage[], limit: number): BaseMessage[] {
  let start = Math.max(0, messages.length - limit);
  while (start > 0 && messages[start]!.getType() !== 'human') start -= 1;
  return messages.slice(start);
}

/** A 400 that names tools: the model cannot call them (Ollama: "<model> does not support tools"). */
function rejectsTools(error: unknown): boolean {
  const { status, message } = (error ?? {}) as { status?: unknown; message?: unknown };
  return status === 400 && typeof message === 'string' && /\btools?\b/i.test(message);
}

/**
 * converse (φp + M): the personalized prompt — instructions, profile, recalled memories quoted as data, persona
 * notes — then the model, which answers (streamed) or asks for tools. A failing model becomes an `error` event and a
 * flag, so the turn is still stored.
 */
export function createConverseNode(options: ConverseNodeOptions) {
  const clock = options.clock ?? (() => new Date());
  const toolSpecs = options.tools.map((tool) => ({ name: tool.name, description: tool.description, schema: tool.schema }));
  const toolNames = options.tools.map((tool) => tool.name);
  const withTools = options.tools.length > 0 && options.model.bindTools ? options.model.bindTools(toolSpecs) : undefined;
  // Set once the server refuses tools; the conversation goes on without them.
  let toolsRefused = false;
  return async (state: AgentStateType, config: NodeConfig): Promise<AgentStateUpdate> => {
    const started = performance.now();
    const now = clock();
    const prompt = (tools: readonly string[]): BaseMessage[] => [
      new SystemMessage(systemPrompt({ profile: state.profile, memories: state.recalled, ...(state.persona ? { persona: state.persona } : {}), now, tools })),
      ...messageWindow(state.messages, options.historyLimit ?? 24),
    ];
    try {
      // The run's config carries LangGraph's stream handlers: passing it is what streams the reply's tokens.
      let response: AIMessage;
      try {
        const model = withTools && !toolsRefused ? withTools : options.model;
        response = (await model.invoke(prompt(toolsRefused ? [] : toolNames), config)) as AIMessage;
      } catch (error) {
        if (!withTools || toolsRefused || !rejectsTools(error)) throw error;
        toolsRefused = true;
        response = (await options.model.invoke(prompt([]), config)) as AIMessage;
      }
      // LangGraph merges messages by id: a server that reuses completion ids would overwrite earlier replies.
      if (!response.id || state.messages.some((message) => message.id === response.id)) response.id = randomUUID();
      for (const call of response.tool_calls ?? []) emit(config, { type: 'tool-call', id: call.id ?? '', name: call.name, args: call.args });
      const usage = (response as unknown as { usage_metadata?: { input_tokens?: number; output_tokens?: number } }).usage_metadata;
      emit(config, { type: 'stage', stage: 'model', ms: performance.now() - started, usage: { input: usage?.input_tokens ?? 0, output: usage?.output_tokens ?? 0 } });
      return { messages: [response] };
    } catch (error) {
      if (config.signal?.aborted) throw error;
      emit(config, { type: 'error', stage: 'model', code: 'model_failed', message: `the model failed: ${oneLine(error)}` });
      emit(config, { type: 'stage', stage: 'model', ms: performance.now() - started });
      return { failed: true };
    }
  };
}
