import { randomUUID } from 'node:crypto';
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { type BaseMessage, HumanMessage } from '@langchain/core/messages';
import type { BaseCheckpointSaver } from '@langchain/langgraph';
import type { MemoryStore, QueryGenerator } from '../memory/index.js';
import { userScope, validateScope, validateText } from '../memory/index.js';
import type { Recommender } from '../recommender/index.js';
import type { ToolDefinition } from '../tools/index.js';
import { memoryQuotingTools, TOOLS } from '../tools/index.js';
import type { AgentEvent, EventMemory, FactWrite, StageLatency, TokenUsage } from './events.js';
import { scrubTurnContext } from './graph/checkpoints.js';
import type { NodeEmission } from './graph/context.js';
import { createAgentGraph } from './graph/graph.js';
import { messageText } from './graph/messages.js';
import { llmQueryGenerator } from './graph/query-rewrite.js';
import { checkpointerFor } from './graph/threads.js';

/** Options of {@link createAgent}. */
export interface CreateAgentOptions {
  /** The chat model (LangChain `BaseChatModel`: `ChatOpenAI`, or `fakeModel()` in tests). */
  model: BaseChatModel;
  /** An open memory store (`openStore`); threads are checkpointed in the same database. */
  store: MemoryStore;
  /** The downstream recommender behind the `recommend` and `rate` tools. */
  recommender?: Recommender;
  /** Where threads are checkpointed. @default LangGraph's SqliteSaver or PostgresSaver in the store's database */
  checkpointer?: BaseCheckpointSaver;
  /** φq: how retrieval queries are made. @default the memory store's offline rules */
  queryGenerator?: QueryGenerator;
  /** Let the model rewrite follow-up messages into standalone queries (one extra call per turn). @default false */
  rewriteQueries?: boolean;
  /** Tools offered to the model. @default recommend, rate, remember, forget, search_memory */
  tools?: readonly ToolDefinition[];
  /** Memories recalled per turn. @default 8 */
  recallK?: number;
  clock?: () => Date;
}

/** Options of one turn. */
export interface TurnOptions {
  /** Whose turn it is: any non-empty id up to 200 characters. */
  userId: string;
  /** Continues this thread; a new one is started when omitted. */
  threadId?: string;
  signal?: AbortSignal;
}

/** Everything one turn did, as `chat` returns it. */
export interface TurnResult {
  reply: string;
  threadId: string;
  recalled: EventMemory[];
  written: { episodes: EventMemory[]; facts: FactWrite[] };
  toolCalls: Array<{ id: string; name: string; args: Record<string, unknown>; result?: string; isError?: boolean }>;
  usage: TokenUsage;
  latencyMs: StageLatency;
  errors: Array<{ stage: string; message: string }>;
}

/** A conversational agent with long-term memory. */
export interface Agent {
  /** One turn; resolves when the reply is delivered and memory is written. */
  chat(input: string, options: TurnOptions): Promise<TurnResult>;
  /** One turn as events: text deltas while the reply streams, then memory and timing events. */
  stream(input: string, options: TurnOptions): AsyncIterable<AgentEvent>;
  /** The memory store the agent reads and writes. */
  readonly memory: MemoryStore;
}

/**
 * Creates the agent: compiles the graph with an injected model, memory store, tools and checkpointer.
 *
 * @example
 * const agent = createAgent({ store, model: new ChatOpenAI({ model: 'gpt-4o-mini' }) });
 * const { reply } = await agent.chat('I just adopted a greyhound', { userId: 'ada' });
 */
export function createAgent(options: CreateAgentOptions): Agent {
  const { store: memory, model, recommender, recallK, clock } = options;
  const queryGenerator = options.queryGenerator ?? (options.rewriteQueries ? llmQueryGenerator(model) : undefined);
  const tools = options.tools ?? TOOLS;
  // Threads an earlier version checkpointed in this file still hold what their turns recalled: strip it once.
  if (!options.checkpointer && memory.backend.kind === 'sqlite')
    scrubTurnContext(memory.backend.db, memoryQuotingTools(tools));
  const graph = createAgentGraph({
    memory,
    model,
    tools,
    services: { memory, recommender },
    queryGenerator,
    recallK,
    clock,
  }).compile({ checkpointer: options.checkpointer ?? checkpointerFor(memory.backend) });
  // Turns of one thread run one after another: two at once would fork its checkpoint.
  const threadQueues = new Map<string, Promise<unknown>>();

  async function* runTurn(input: string, turn: TurnOptions, threadId: string): AsyncGenerator<AgentEvent> {
    const started = performance.now();
    const inFlight = await memory.beginTurn(userScope(turn.userId), threadId);
    // Set by write-back once the turn's messages are stored.
    let stored = false;
    const config = {
      configurable: { thread_id: inFlight.threadKey },
      context: { userId: turn.userId, threadId, turn: inFlight, onStored: () => (stored = true) },
      // One checkpoint per turn, at its end: what tools quoted from memory during the turn never reaches disk.
      durability: 'exit' as const,
      ...(turn.signal ? { signal: turn.signal } : {}),
    };
    const latency: StageLatency = { recall: 0, model: 0, tools: 0, writeBack: 0, total: 0 };
    const usage: TokenUsage = { input: 0, output: 0 };
    const counts = { recalled: 0, written: 0, toolCalls: 0 };
    const tally: Tally = { latency, usage, counts };
    let reply: string;
    try {
      const stream = await graph.stream(
        { messages: [new HumanMessage(input)] },
        { ...config, streamMode: ['messages', 'custom'] },
      );
      for await (const [mode, chunk] of stream as AsyncIterable<[string, unknown]>) {
        const event = translate(mode, chunk, tally);
        if (event) yield event;
      }
      // A turn whose model failed ends on the person's message (or a tool result): it has no reply.
      const { messages } = (await graph.getState(config)).values as { messages?: BaseMessage[] };
      const last = messages?.at(-1);
      reply = last?.getType() === 'ai' ? messageText(last) : '';
    } catch (error) {
      // A cancelled (Esc, Ctrl+C, a closed Slack request) or broken turn that never reached write-back: keep what the
      // user said, unless the store itself is what failed or the user has been forgotten meanwhile. Nothing here
      // may hide the turn's own error.
      if (!stored)
        await memory
          .addEpisodes(userScope(turn.userId), [{ text: input, role: 'user', session: threadId }], { turn: inFlight })
          .catch(() => undefined);
      throw error;
    } finally {
      // Checkpoints of a user forgotten while the turn ran are not theirs to keep.
      try {
        await inFlight.end();
      } catch {
        // The store failing here is reported by whatever uses it next.
      }
    }
    latency.total = performance.now() - started;
    yield { type: 'turn-end', threadId, reply, latencyMs: roundLatency(latency), usage, counts };
  }

  async function* stream(input: string, turn: TurnOptions): AsyncGenerator<AgentEvent> {
    validateText(input, 'message');
    validateScope(userScope(turn.userId));
    if (turn.threadId !== undefined) validateText(turn.threadId, 'thread id');
    const threadId = turn.threadId ?? randomUUID();
    const queueKey = `${turn.userId}\u0000${threadId}`;
    const previous = threadQueues.get(queueKey) ?? Promise.resolve();
    let release!: () => void;
    const done = new Promise<void>((resolve) => (release = resolve));
    const chained = previous.then(() => done);
    threadQueues.set(queueKey, chained);
    await previous;
    try {
      yield* runTurn(input, turn, threadId);
    } finally {
      release();
      if (threadQueues.get(queueKey) === chained) threadQueues.delete(queueKey);
    }
  }

  return {
    memory,
    stream,
    async chat(input, turn) {
      const result: TurnResult = {
        reply: '',
        threadId: turn.threadId ?? '',
        recalled: [],
        written: { episodes: [], facts: [] },
        toolCalls: [],
        usage: { input: 0, output: 0 },
        latencyMs: { recall: 0, model: 0, tools: 0, writeBack: 0, total: 0 },
        errors: [],
      };
      for await (const event of stream(input, turn)) {
        switch (event.type) {
          case 'memory-recalled':
            result.recalled = [...event.memories];
            break;
          case 'memory-written':
            result.written = { episodes: [...event.episodes], facts: [...event.facts] };
            break;
          case 'tool-call':
            result.toolCalls.push({ id: event.id, name: event.name, args: event.args });
            break;
          case 'tool-result': {
            const call = result.toolCalls.find(
              (candidate) => candidate.id === event.id && candidate.result === undefined,
            );
            if (call) Object.assign(call, { result: event.result, isError: event.isError });
            break;
          }
          case 'error':
            result.errors.push({ stage: event.stage, message: event.message });
            break;
          case 'turn-end':
            Object.assign(result, {
              reply: event.reply,
              threadId: event.threadId,
              usage: event.usage,
              latencyMs: event.latencyMs,
            });
            break;
          case 'text-delta':
            break;
        }
      }
      return result;
    },
  };
}

/** What a turn has counted so far. */
interface Tally {
  latency: StageLatency;
  usage: TokenUsage;
  counts: { recalled: number; written: number; toolCalls: number };
}

/** One chunk of the graph's stream as an AgentEvent (or folded into the tally). */
function translate(mode: string, chunk: unknown, tally: Tally): AgentEvent | undefined {
  if (mode === 'messages') {
    const [message, metadata] = chunk as [BaseMessage, { langgraph_node?: string }];
    // Only the converse node's tokens are the reply; the extraction call's are not.
    const text = metadata.langgraph_node === 'converse' && message.getType() === 'ai' ? messageText(message) : '';
    return text ? { type: 'text-delta', text } : undefined;
  }
  const emission = chunk as NodeEmission;
  switch (emission.type) {
    case 'stage':
      tally.latency[emission.stage] += emission.ms;
      tally.usage.input += emission.usage?.input ?? 0;
      tally.usage.output += emission.usage?.output ?? 0;
      return undefined;
    case 'memory-recalled':
      tally.counts.recalled = emission.memories.length;
      break;
    case 'memory-written':
      tally.counts.written = emission.episodes.length + emission.facts.length;
      break;
    case 'tool-call':
      tally.counts.toolCalls += 1;
      break;
  }
  return emission;
}

const roundLatency = (latency: StageLatency): StageLatency =>
  Object.fromEntries(
    Object.entries(latency).map(([stage, ms]) => [stage, Math.round(ms * 10) / 10]),
  ) as unknown as StageLatency;
