import type { ConditionalEdgeRouter, GraphNode, LangGraphRunnableConfig } from '@langchain/langgraph';
import { z } from 'zod';
import type { Turn } from '../../memory/index.js';
import type { AgentEvent, Stage, TokenUsage } from '../events.js';
import type { AgentState } from './state.js';

/** Per-run identity, passed on each invocation as the run's `context` (never global, never checkpointed). */
export const TurnContextSchema = z.object({
  userId: z.string(),
  /** The caller's thread id (the checkpoint key is derived from it and the user). */
  threadId: z.string(),
  /** The turn in flight (MemoryStore.beginTurn): writes pass it, so a user forgotten meanwhile gets nothing stored. */
  turn: z.custom<Turn>((value) => typeof value === 'object' && value !== null && 'threadKey' in value),
  /**
   * Called once write-back has stored the turn's messages, at once (not through the event stream, which a slow
   * reader may not have drained when the turn is cancelled): the agent must not store them again.
   */
  onStored: z.custom<() => void>((value) => typeof value === 'function').optional(),
});

export type TurnContext = z.infer<typeof TurnContextSchema>;

/** The graph's nodes, by name. */
export type NodeName = 'recall' | 'converse' | 'tools' | 'write-back';

/** A node of the agent graph, typed with LangGraph's own node type. */
export type AgentNode = GraphNode<typeof AgentState, TurnContext, NodeName>;

/** A conditional edge of the agent graph, typed with LangGraph's own router type. */
export type AgentRouter<To extends NodeName> = ConditionalEdgeRouter<typeof AgentState, TurnContext, To>;

/** Internal progress a node reports; the agent folds it into `turn-end`. */
export interface StageReport {
  readonly type: 'stage';
  readonly stage: Stage;
  readonly ms: number;
  readonly usage?: TokenUsage;
}

/** What nodes write to the custom stream: events for surfaces, and stage reports. */
export type NodeEmission = AgentEvent | StageReport;

export type NodeConfig = LangGraphRunnableConfig<TurnContext>;

/** The turn's context; a node run without one is a programming error. */
export function turnContext(config: NodeConfig): TurnContext {
  const context = config.context;
  if (!context?.userId) throw new Error('the agent graph was invoked without a turn context (userId, threadId)');
  return context;
}

/** Sends an event or a stage report to whoever streams the run. */
export function emit(config: NodeConfig, emission: NodeEmission): void {
  config.writer?.(emission);
}
