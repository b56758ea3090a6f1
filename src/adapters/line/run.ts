import { createInterface } from 'node:readline';
import type { Agent } from '../../agent.js';
import { type ChatMemory, type ChatRecommender, keepUnanswered, runCommand } from '../../chat/commands.js';
import { eventLines, type TranscriptLine } from '../../chat/transcript.js';
import { NO_MODEL_HELP } from '../../config.js';
import { errorLine } from '../../errors.js';

/** Options of {@link runLineChat}. */
export interface LineChatOptions {
  input: NodeJS.ReadableStream;
  output: { write(text: string): unknown };
  memory: ChatMemory;
  recommender: ChatRecommender;
  agent: Agent | undefined;
  userId: string;
  threadId: string;
  exportDir: string;
}

const render = (line: TranscriptLine): string =>
  line.kind === 'error'
    ? `! ${line.text}`
    : line.kind === 'memory' || line.kind === 'tool'
      ? `· ${line.text}`
      : line.text;

/**
 * The chat for a pipe or a script (stdin is not a terminal): one message or slash command per input line, the reply
 * and the same memory lines as the terminal UI, as plain text. Renders AgentEvents only, like every surface.
 */
export async function runLineChat(options: LineChatOptions): Promise<void> {
  const { output } = options;
  let userId = options.userId;
  if (!options.agent) output.write(`! ${NO_MODEL_HELP}\n`);
  for await (const raw of createInterface({ input: options.input, crlfDelay: Infinity })) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('/')) {
      const result = await runCommand(line, {
        memory: options.memory,
        recommender: options.recommender,
        userId,
        exportDir: options.exportDir,
      });
      for (const entry of result.lines) output.write(`${render(entry)}\n`);
      if (result.action?.type === 'quit') return;
      if (result.action?.type === 'switch-user') userId = result.action.userId;
      continue;
    }
    if (!options.agent) {
      for (const entry of await keepUnanswered(line, { memory: options.memory, userId, threadId: options.threadId }))
        output.write(`${render(entry)}\n`);
      continue;
    }
    try {
      let replied = false;
      for await (const event of options.agent.stream(line, { userId, threadId: options.threadId })) {
        if (event.type === 'text-delta') {
          output.write(event.text);
          replied = true;
          continue;
        }
        if (replied && event.type !== 'turn-end') {
          output.write('\n');
          replied = false;
        }
        for (const entry of eventLines(event)) output.write(`${render(entry)}\n`);
        if (event.type === 'turn-end' && replied) output.write('\n');
      }
    } catch (error) {
      output.write(`! ${errorLine(error)}\n`);
    }
  }
}
