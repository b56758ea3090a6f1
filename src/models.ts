import type { CallbackManagerForLLMRun } from '@langchain/core/callbacks/manager';
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { AIMessageChunk, type AIMessage, type BaseMessage } from '@langchain/core/messages';
import { ChatGenerationChunk } from '@langchain/core/outputs';
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

  override async *_streamResponseChunks(messages: BaseMessage[], options: this['ParsedCallOptions'], runManager?: CallbackManagerForLLMRun): AsyncGenerator<ChatGenerationChunk> {
    if (!this.server.ignoresStreaming) {
      let streamed = false;
      for await (const chunk of super._streamResponseChunks(messages, options, runManager)) {
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
 * The configured chat model, or undefined when none is configured. The one place that chooses a provider: any
 * OpenAI-compatible server (OpenAI, Ollama, vLLM, LM Studio). The OpenAI SDK retries 408/409/429/5xx and network
 * errors with exponential backoff (honouring Retry-After) up to `maxRetries` times, each attempt bounded by the timeout.
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
    streamUsage: true,
  });
}
