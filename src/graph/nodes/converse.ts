import { randomUUID } from 'node:crypto';
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { AIMessage, type BaseMessage, SystemMessage, type ToolMessage } from '@langchain/core/messages';
import { systemPrompt } from '../../../prompts/system.js';
import type { ToolDefinition } from '../../../tools/index.js';
import { errorLine } from '../../errors.js';
import { type AgentNode, emit } from '../context.js';
import { tokenUsage } from '../messages.js';
import { MAX_TOOL_ROUNDS } from '../routes.js';
import { UNPARSED_ARGUMENTS } from './tools.js';

/** Dependencies of the converse node. */
export interface ConverseNodeOptions {
  model: BaseChatModel;
  tools: readonly ToolDefinition[];
  /** Most thread messages sent with each call (older ones are in memory). @default 24 */
  historyLimit?: number;
  clock?: () => Date;
}

/**
 * The last `limit` messages, starting at a human message so no tool result loses its call. A tool call left without
 * an answer (a turn cut off between the model and its tools) is dropped: servers refuse a history that has one.
 */
export function messageWindow(messages: readonly BaseMessage[], limit: number): BaseMessage[] {
  let start = Math.max(0, messages.length - limit);
  while (start > 0 && messages[start]!.getType() !== 'human') start -= 1;
  const window = messages.slice(start);
  const answered = new Set(
    window.filter((message) => message.getType() === 'tool').map((message) => (message as ToolMessage).tool_call_id),
  );
  return window.map((message) => {
    const calls = message.getType() === 'ai' ? ((message as AIMessage).tool_calls ?? []) : [];
    return calls.some((call) => !answered.has(call.id ?? '')) ? withoutToolCalls(message as AIMessage) : message;
  });
}

/** The message's text, without the tool calls it asked for. */
function withoutToolCalls(message: AIMessage): AIMessage {
  return withToolCalls(message, []);
}

/** The message with exactly these tool calls (and no raw provider copy of them, which LangChain would re-parse). */
function withToolCalls(message: AIMessage, toolCalls: NonNullable<AIMessage['tool_calls']>): AIMessage {
  return new AIMessage({
    content: message.content,
    tool_calls: toolCalls,
    ...(message.id !== undefined ? { id: message.id } : {}),
    ...(message.usage_metadata ? { usage_metadata: message.usage_metadata } : {}),
  });
}

/**
 * A tool call whose arguments were not valid JSON (LangChain files it under `invalid_tool_calls`) becomes a call
 * carrying its raw text under {@link UNPARSED_ARGUMENTS}: the tools node answers it with an error the model can
 * correct, and the thread never holds a call without its answer.
 */
function withInvalidCallsAnswerable(message: AIMessage): AIMessage {
  const invalid = message.invalid_tool_calls ?? [];
  if (invalid.length === 0) return message;
  return withToolCalls(message, [
    ...(message.tool_calls ?? []),
    ...invalid.map((call) => ({
      id: call.id ?? randomUUID(),
      name: call.name ?? 'unknown',
      args: { [UNPARSED_ARGUMENTS]: call.args ?? '' },
      type: 'tool_call' as const,
    })),
  ]);
}

/**
 * A 400 saying the model or server cannot call tools: Ollama's "<model> does not support tools", vLLM without
 * `--enable-auto-tool-choice`, llama.cpp without `--jinja`. Not any 400 that mentions tools: a malformed history
 * ("tool_calls must be followed by tool messages") is no reason to stop offering them.
 */
export function rejectsTools(error: unknown): boolean {
  const { status, message } = (error ?? {}) as { status?: unknown; message?: unknown };
  return (
    status === 400 &&
    typeof message === 'string' &&
    /does not support tools|tools? (?:are|is) not supported|(?:tool|function) calling is not supported|enable-auto-tool-choice|--jinja/i.test(
      message,
    )
  );
}

/**
 * converse (φp + M): the personalized prompt — instructions, profile, recalled memories quoted as data, persona
 * notes — then the model, which answers (streamed) or asks for tools. A failing model becomes an `error` event and a
 * flag, so the turn is still stored.
 */
export function createConverseNode(options: ConverseNodeOptions): AgentNode {
  const clock = options.clock ?? (() => new Date());
  const toolSpecs = options.tools.map((tool) => ({
    name: tool.name,
    description: tool.description,
    schema: tool.schema,
  }));
  const toolNames = options.tools.map((tool) => tool.name);
  const withTools =
    options.tools.length > 0 && options.model.bindTools ? options.model.bindTools(toolSpecs) : undefined;
  // Set once the server refuses tools; the conversation goes on without them.
  let toolsRefused = false;
  return async (state, config) => {
    const started = performance.now();
    const now = clock();
    const prompt = (tools: readonly string[]): BaseMessage[] => [
      new SystemMessage(
        systemPrompt({
          profile: state.profile,
          memories: state.recalled,
          ...(state.persona ? { persona: state.persona } : {}),
          now,
          tools,
        }),
      ),
      ...messageWindow(state.messages, options.historyLimit ?? 24),
    ];
    // Out of tool rounds, the model answers with what it has: offered no tools, and any call it still makes is dropped.
    const offerTools = withTools !== undefined && !toolsRefused && state.toolRounds < MAX_TOOL_ROUNDS;
    try {
      // The run's config carries LangGraph's stream handlers: passing it is what streams the reply's tokens.
      let response: AIMessage;
      try {
        response = (await (offerTools ? withTools : options.model).invoke(
          prompt(offerTools ? toolNames : []),
          config,
        )) as AIMessage;
      } catch (error) {
        if (!offerTools || !rejectsTools(error)) throw error;
        toolsRefused = true;
        response = (await options.model.invoke(prompt([]), config)) as AIMessage;
      }
      response = offerTools ? withInvalidCallsAnswerable(response) : withoutToolCalls(response);
      // LangGraph merges messages by id: a server that reuses completion ids would overwrite earlier replies.
      if (!response.id || state.messages.some((message) => message.id === response.id)) response.id = randomUUID();
      for (const call of response.tool_calls ?? [])
        emit(config, { type: 'tool-call', id: call.id ?? '', name: call.name, args: call.args });
      emit(config, { type: 'stage', stage: 'model', ms: performance.now() - started, usage: tokenUsage(response) });
      return { messages: [response] };
    } catch (error) {
      if (config.signal?.aborted) throw error;
      emit(config, {
        type: 'error',
        stage: 'model',
        code: 'model_failed',
        message: `the model failed: ${errorLine(error)}`,
      });
      emit(config, { type: 'stage', stage: 'model', ms: performance.now() - started });
      return { failed: true };
    }
  };
}
