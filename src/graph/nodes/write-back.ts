import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { type BaseMessage, HumanMessage, SystemMessage, ToolMessage } from '@langchain/core/messages';
import type { MemoryStore } from '../../../memory/index.js';
import { type EpisodeInput, FACT_KINDS, type FactChange, userScope } from '../../../memory/index.js';
import { type ExtractedChange, extractionPrompt, parseExtraction } from '../../../prompts/extraction.js';
import { errorLine, MnemoError, type MnemoErrorCode } from '../../errors.js';
import type { FactWrite, TokenUsage } from '../../events.js';
import { memoryQuoteNote } from '../checkpoints.js';
import { type AgentNode, emit, type NodeConfig, turnContext } from '../context.js';
import { eventMemory } from '../memories.js';
import { addUsage, messageText, tokenUsage } from '../messages.js';

/** Dependencies of the write-back node. */
export interface WriteBackNodeOptions {
  memory: MemoryStore;
  /** The model that extracts facts; the same chat model by default. */
  model: BaseChatModel;
  /** Tools whose results quote stored memories: the thread keeps only a note of them (see ToolSpec.quotesMemory). */
  memoryQuotingTools?: ReadonlySet<string>;
  /** Existing facts shown to the extractor to decide against. @default 8 */
  similarFacts?: number;
  clock?: () => Date;
}

/**
 * write-back: the turn is appended to episodic memory, then one model call extracts durable facts about the user and
 * decides against the similar existing ones (add, supersede, invalidate, or nothing). Unparseable output is retried
 * once, then skipped; nothing here can fail the turn.
 */
export function createWriteBackNode(options: WriteBackNodeOptions): AgentNode {
  const clock = options.clock ?? (() => new Date());
  return async (state, config) => {
    const started = performance.now();
    const { userId, threadId } = turnContext(config);
    const user = userScope(userId);
    const lastHuman = state.messages.findLastIndex((message) => message.getType() === 'human');
    const userMessage = lastHuman >= 0 ? messageText(state.messages[lastHuman]!) : '';
    const replyMessage = state.failed
      ? undefined
      : state.messages.slice(lastHuman + 1).findLast((message) => message.getType() === 'ai');
    const reply = replyMessage ? messageText(replyMessage) : '';
    let facts: FactWrite[] = [];
    const usage: TokenUsage = { input: 0, output: 0 };
    try {
      const now = clock();
      const turns: EpisodeInput[] = [];
      if (userMessage.trim() !== '') turns.push({ text: userMessage, role: 'user', session: threadId, at: now });
      if (reply.trim() !== '')
        turns.push({ text: reply, role: 'assistant', session: threadId, at: new Date(now.getTime() + 1) });
      // A user who said "forget me" while this turn ran gets nothing of it stored.
      const episodes =
        turns.length > 0 ? await options.memory.addEpisodes(user, turns, { turn: turnContext(config).turn }) : [];
      // From here on a cancelled turn must not store the user's message again.
      turnContext(config).onStored?.();
      if (!state.failed && userMessage.trim() !== '') {
        const provenance = episodes.filter((episode) => episode.role === 'user').map((episode) => episode.id);
        try {
          facts = await extractFacts(options, config, { userMessage, reply, provenance }, usage);
        } catch (error) {
          if (config.signal?.aborted) throw error;
          emit(config, {
            type: 'error',
            stage: 'writeBack',
            code: errorCode(error, 'model_failed'),
            message: `fact extraction failed: ${errorLine(error)}`,
          });
        }
      }
      emit(config, { type: 'memory-written', episodes: episodes.map((episode) => eventMemory(episode)), facts });
    } catch (error) {
      emit(config, {
        type: 'error',
        stage: 'writeBack',
        code: errorCode(error, 'store_failed'),
        message: `memory write-back failed: ${errorLine(error)}`,
      });
    }
    emit(config, { type: 'stage', stage: 'writeBack', ms: performance.now() - started, usage });
    return { messages: withoutMemoryQuotes(state.messages.slice(lastHuman + 1), options.memoryQuotingTools) };
  };
}

/**
 * The turn's results of tools that quote stored memories, as notes that keep the call answered but hold no memory
 * text (same message ids, so they replace the originals). The turn is checkpointed once, at its end, so the
 * originals never reach the checkpoint tables: forgetting a memory leaves no copy of it in the thread.
 */
function withoutMemoryQuotes(turn: readonly BaseMessage[], tools: ReadonlySet<string> = new Set()): ToolMessage[] {
  return turn
    .filter((message): message is ToolMessage => ToolMessage.isInstance(message) && tools.has(message.name ?? ''))
    .map(
      (message) =>
        new ToolMessage({
          ...(message.id !== undefined ? { id: message.id } : {}),
          content: memoryQuoteNote(message.name ?? '', message.status === 'error'),
          tool_call_id: message.tool_call_id,
          name: message.name ?? '',
          ...(message.status !== undefined ? { status: message.status } : {}),
        }),
    );
}

const errorCode = (error: unknown, fallback: MnemoErrorCode): MnemoErrorCode =>
  error instanceof MnemoError ? error.code : fallback;

/** Asks the model for fact changes (retrying once on unparseable output) and applies the valid ones. */
async function extractFacts(
  options: WriteBackNodeOptions,
  config: NodeConfig,
  turn: { userMessage: string; reply: string; provenance: string[] },
  usage: TokenUsage,
): Promise<FactWrite[]> {
  const { userId, turn: inFlight } = turnContext(config);
  const user = userScope(userId);
  const similar = await options.memory.search([user], turn.userMessage, {
    k: options.similarFacts ?? 8,
    kinds: FACT_KINDS,
  });
  const existing = new Map(similar.map((hit) => [hit.memory.id, hit.memory]));
  const prompt = extractionPrompt({
    userMessage: turn.userMessage,
    assistantReply: turn.reply,
    existing: similar.map((hit) => ({ id: hit.memory.id, kind: hit.memory.kind, text: hit.memory.text })),
  });
  let changes: ExtractedChange[] | undefined;
  let feedback = '';
  for (let attempt = 0; attempt < 2 && !changes; attempt++) {
    // Not passed the run's stream handlers: the extraction's tokens are not part of the reply.
    const answer = await options.model.invoke(
      [new SystemMessage(prompt.system), new HumanMessage(prompt.user + feedback)],
      config.signal ? { signal: config.signal } : {},
    );
    addUsage(usage, tokenUsage(answer));
    try {
      changes = parseExtraction(messageText(answer));
    } catch (error) {
      feedback = `\nYour previous answer could not be used (${errorLine(error, 120)}). Answer with the JSON object only.`;
    }
  }
  if (!changes) {
    emit(config, {
      type: 'error',
      stage: 'writeBack',
      code: 'model_failed',
      message: 'fact extraction returned no usable JSON twice; skipped for this turn',
    });
    return [];
  }
  // Only ids the extractor was shown can be replaced or invalidated: a hallucinated id is ignored.
  const valid = changes.filter((change) => change.op === 'add' || existing.has(change.id));
  const factChanges: FactChange[] = valid.map((change) =>
    change.op === 'invalidate'
      ? { op: 'invalidate', id: change.id }
      : change.op === 'supersede'
        ? {
            op: 'supersede',
            id: change.id,
            fact: { text: change.text, kind: change.kind, provenance: turn.provenance },
          }
        : { op: 'add', fact: { text: change.text, kind: change.kind, provenance: turn.provenance } },
  );
  if (factChanges.length === 0) return [];
  const written = await options.memory.changeFacts(user, factChanges, { turn: inFlight });
  if (await inFlight.forgotten()) return [];
  let next = 0;
  return valid.map((change): FactWrite => {
    if (change.op === 'invalidate')
      return { op: 'invalidate', id: change.id, text: existing.get(change.id)?.text ?? '' };
    const fact = written[next++]!;
    return {
      op: change.op,
      id: fact.id,
      kind: fact.kind,
      text: fact.text,
      ...(change.op === 'supersede' ? { replaces: change.id } : {}),
    };
  });
}
