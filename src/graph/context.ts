import { Annotation, type LangGraphRunnableConfig } from '@langchain/langgraph';
import type { AgentEvent, TokenUsage } from '../events.js';

/** Per-run identity, passed on each invocation (never global). */
export const TurnContextSchema = Annotation.Root({
  userId: Annotation<string>,
  /** The caller's thread id (the checkpoint key is derived from it and the user). */
  threadId: Annotation<string>,
  /** Which surface the turn came from: `cli`, `tui`, `slack`, `library`. */
  surface: Annotation<string>,
  /**
   * Called once write-back has stored the turn's messages, at once (not through the event stream, which a slow
   * reader may not have drained when the turn is cancelled): the agent must not store them again.
   */
  onStored: Annotation<(() => void) | undefined>,
});

export type TurnContext = typeof TurnContextSchema.State;

/** Internal progress a node reports; the agent folds it into `turn-end`. */
export type StageReport = {
  readonly type: 'stage';
  readonly stage: 'recall' | 'model' | 'tools' | 'writeBack';
  readonly ms: number;
  readonly usage?: TokenUsage;
};

/** What nodes write to the custom stream. */
export type NodeEmission = AgentEvent | StageReport;

export type NodeConfig = LangGraphRunnableConfig<TurnContext>;

/** The turn's context; a node run without one is a programming error. */
export function turnContext(config: NodeConfig): TurnContext {
  const context = config.context;
  if (!context?.userId) throw new Error('the agent graph was invoked without a turn context (userId, threadId)');
  return context;
}

/** The checkpoint key of the run's thread (see SqliteMemoryStore.threadKey). */
export function threadKey(config: NodeConfig): string {
  const key = (config.configurable as { thread_id?: unknown } | undefined)?.thread_id;
  if (typeof key !== 'string') throw new Error('the agent graph was invoked without a thread_id');
  return key;
}

/** Sends an event or a stage report to whoever streams the run. */
export function emit(config: NodeConfig, emission: NodeEmission): void {
  config.writer?.(emission);
}
