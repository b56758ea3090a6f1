import type { BaseMessage } from '@langchain/core/messages';
import type { TokenUsage } from '../events.js';

/** A message's text: its string content, or the text parts of a multi-part one. */
export const messageText = (message: BaseMessage): string =>
  typeof message.content === 'string'
    ? message.content
    : message.content
        .map((part) =>
          typeof part === 'string' ? part : 'text' in part && typeof part.text === 'string' ? part.text : '',
        )
        .join('');

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
