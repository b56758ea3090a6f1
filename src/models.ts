import type { CallbackManagerForLLMRun } from '@langchain/core/callbacks/manager';
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { type AIMessage, AIMessageChunk, type BaseMessage } from '@langchain/core/messages';
import { ChatGenerationChunk, type ChatResult } from '@langchain/core/outputs';
import { classifyRateLimitError } from '@langchain/core/utils/async_caller';
import { ChatOpenAI } from '@langchain/openai';
import type { ModelSettings } from './config.js';

/**
 * ChatOpenAI that also works with servers ignoring `stream: true`. Some OpenAI-compatible servers answer a streaming
 * request with one plain JSON completion, which the SDK reads as a stream of no events; the same request is then
 * made without streaming, and its answer passed on whole.
 */
class ChatOpenAICompatible extends ChatOpenAI {
  /** What was learned about the server, shared with the copies withConfig() makes: later calls skip the stream. */
  private server = { ignoresStreaming: false };

  // bindTools() goes through withConfig(), which would otherwise make a plain ChatOpenAI.
  override withConfig(config: Partial<this['ParsedCallOptions']>): ChatOpenAICompatible {
    const model = new ChatOpenAICompatible(this.fields);
    model.defaultOptions = { ...this.defaultOptions, ...config };
    model.server = this.server;
    return model;
  }

  /** A whole (non-streamed) answer, its retries included, within a deadline: the SDK's timeout stops at the headers. */
  override async _generate(
    messages: BaseMessage[],
    options: this['ParsedCallOptions'],
    runManager?: CallbackManagerForLLMRun,
  ): Promise<ChatResult> {
    if (!this.timeout) return super._generate(messages, options, runManager);
    const retries = this.fields?.maxRetries ?? 6;
    // Every attempt may take the timeout; p-retry waits at most 2 s, 4 s, 8 s, ... between them.
    const budget = this.timeout * (retries + 1) + 2000 * (2 ** retries - 1);
    const deadline = AbortSignal.timeout(budget);
    try {
      return await super._generate(
        messages,
        { ...options, signal: options.signal ? AbortSignal.any([options.signal, deadline]) : deadline },
        runManager,
      );
    } catch (error) {
      if (deadline.aborted && !options.signal?.aborted)
        throw new ModelTimeoutError(`the model did not answer within ${seconds(budget)} (MNEMO_MODEL_TIMEOUT_MS)`);
      throw error;
    }
  }

  override async *_streamResponseChunks(
    messages: BaseMessage[],
    options: this['ParsedCallOptions'],
    runManager?: CallbackManagerForLLMRun,
  ): AsyncGenerator<ChatGenerationChunk> {
    if (!this.server.ignoresStreaming) {
      let streamed = false;
      for await (const chunk of idleBounded(this.timeout, options.signal, (signal) =>
        super._streamResponseChunks(messages, { ...options, signal }, runManager),
      )) {
        streamed = true;
        yield chunk;
      }
      if (streamed || options.signal?.aborted) return;
      this.server.ignoresStreaming = true;
    }
    const [generation] = (await this._generate(messages, options, runManager)).generations;
    if (!generation) return;
    const message = generation.message as AIMessage;
    yield new ChatGenerationChunk({
      text: generation.text,
      message: new AIMessageChunk({
        content: message.content,
        ...(message.id !== undefined ? { id: message.id } : {}),
        tool_calls: message.tool_calls ?? [],
        additional_kwargs: message.additional_kwargs,
        response_metadata: message.response_metadata,
        ...(message.usage_metadata ? { usage_metadata: message.usage_metadata } : {}),
      }),
      ...(generation.generationInfo ? { generationInfo: generation.generationInfo } : {}),
    });
  }
}

/**
 * The chunks of `stream`, failing with a timeout when the server sends nothing for `timeoutMs`: the SDK's own
 * timeout stops at the response headers, and a stream that stalls after them would hang the turn.
 */
async function* idleBounded<T>(
  timeoutMs: number | undefined,
  outer: AbortSignal | undefined,
  stream: (signal: AbortSignal) => AsyncGenerator<T>,
): AsyncGenerator<T> {
  if (!timeoutMs) return yield* stream(outer ?? new AbortController().signal);
  const idle = new AbortController();
  const stalled = (): never => {
    throw new ModelTimeoutError(`the model sent nothing for ${seconds(timeoutMs)} (MNEMO_MODEL_TIMEOUT_MS)`);
  };
  let timer = setTimeout(() => idle.abort(), timeoutMs);
  try {
    for await (const chunk of stream(outer ? AbortSignal.any([outer, idle.signal]) : idle.signal)) {
      clearTimeout(timer);
      yield chunk;
      timer = setTimeout(() => idle.abort(), timeoutMs);
    }
  } catch (error) {
    if (idle.signal.aborted && !outer?.aborted) stalled();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  // LangChain ends an aborted stream quietly.
  if (idle.signal.aborted && !outer?.aborted) stalled();
}

const seconds = (ms: number): string => `${Number((ms / 1000).toFixed(ms < 10_000 ? 1 : 0))} s`;

/** A model server that stopped answering mid-reply. */
export class ModelTimeoutError extends Error {
  override readonly name = 'ModelTimeoutError';
}

/** Client errors that another attempt cannot fix (408 timeouts and 429 rate limits are not among them). */
const FINAL_STATUSES = new Set([400, 401, 402, 403, 404, 405, 406, 407, 409, 413, 422]);
/** Longest Retry-After worth waiting for within a turn. */
const MAX_RETRY_AFTER_MS = 60_000;

/**
 * Decides after each failed model call whether LangChain retries it (with exponential backoff): throwing ends the
 * retries. LangChain's default gives up at once on a 429 without Retry-After; mnemo backs off and tries again, and
 * waits as long as a Retry-After asks, up to a minute.
 */
export function retryFailedAttempt(error: unknown): void {
  if (typeof error !== 'object' || error === null) return;
  const { name, status } = error as { name?: unknown; status?: unknown };
  if (name === 'AbortError' || (typeof name === 'string' && name.endsWith('UserAbortError'))) throw error;
  if (typeof status === 'number' && FINAL_STATUSES.has(status)) throw error;
  const limit = classifyRateLimitError(error);
  if (!limit) return;
  if (limit.action === 'stop' || (limit.retryAfterMs ?? 0) > MAX_RETRY_AFTER_MS) throw error;
  if (limit.retryAfterMs !== undefined) Object.assign(error, { retryAfterMs: limit.retryAfterMs });
}

/**
 * The configured chat model, or undefined when none is configured. The one place that chooses a provider: any
 * OpenAI-compatible server (OpenAI, Ollama, vLLM, LM Studio). Failed calls (429, 5xx, network errors) are retried up
 * to `maxRetries` times with exponential backoff, honouring Retry-After (see {@link retryFailedAttempt}); each
 * attempt is bounded by the timeout, and so is every silence of a streamed reply.
 */
export function createChatModel(settings: ModelSettings): BaseChatModel | undefined {
  if (settings.kind === 'none') return undefined;
  return new ChatOpenAICompatible({
    model: settings.model,
    // Local servers need no key, but the SDK refuses to start without one.
    apiKey: settings.apiKey ?? 'not-needed',
    ...(settings.baseURL ? { configuration: { baseURL: settings.baseURL } } : {}),
    timeout: settings.timeoutMs,
    maxRetries: settings.maxRetries,
    onFailedAttempt: retryFailedAttempt,
    streamUsage: true,
  });
}
