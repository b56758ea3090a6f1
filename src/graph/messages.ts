import type { BaseMessage } from '@langchain/core/messages';
import type { TokenUsage } from '../events.js';

/** The tokens a model answer reports it read and wrote (0 when the provider reports none). */
export function tokenUsage(message: BaseMessage): TokenUsage {
  const usage = (message as { usage_metadata?: { input_tokens?: number; output_tokens?: number } }).usage_metadata;
  return { input: usage?.input_tokens ?? 0, output: usage?.output_tokens ?? 0 };
}

/** Adds `more` to `total` in place. */
export function addUsage(total: TokenUsage, more: TokenUsage): void {
  total.input += more.input;
  total.output += more.output;
}
