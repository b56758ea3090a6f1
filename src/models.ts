import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { ChatOpenAI } from '@langchain/openai';
import type { ModelSettings } from './config.js';

/**
 * The configured chat model, or undefined when none is configured. The one place that chooses a provider: any
 * OpenAI-compatible server (OpenAI, Ollama, vLLM, LM Studio). The OpenAI SDK retries 408/409/429/5xx and network
 * errors with exponential backoff (honouring Retry-After) up to `maxRetries` times, each attempt bounded by the timeout.
 */
export function createChatModel(settings: ModelSettings): BaseChatModel | undefined {
  if (settings.kind === 'none') return undefined;
  return new ChatOpenAI({
    model: settings.model,
    // Local servers need no key, but the SDK refuses to start without one.
    apiKey: settings.apiKey ?? 'not-needed',
    ...(settings.baseURL ? { configuration: { baseURL: settings.baseURL } } : {}),
    timeout: settings.timeoutMs,
    maxRetries: settings.maxRetries,
    streamUsage: true,
  });
}
