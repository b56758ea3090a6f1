import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { END, START, StateGraph } from '@langchain/langgraph';
import type { MemoryStore, QueryGenerator } from '../../memory/index.js';
import { memoryQuotingTools, type ToolDefinition, type ToolServices } from '../../tools/index.js';
import { TurnContextSchema } from './context.js';
import { createConverseNode } from './nodes/converse.js';
import { createRecallNode } from './nodes/recall.js';
import { createToolsNode } from './nodes/tools.js';
import { createWriteBackNode } from './nodes/write-back.js';
import { afterConverse } from './routes.js';
import { AgentState } from './state.js';

/** Everything the graph's nodes use, injected (no module-level model, no process.env). */
export interface AgentGraphDependencies {
  memory: MemoryStore;
  model: BaseChatModel;
  tools: readonly ToolDefinition[];
  services: ToolServices;
  /** φq: how retrieval queries are made. @default the memory store's offline rules */
  queryGenerator?: QueryGenerator | undefined;
  /** Memories recalled per turn. @default 8 */
  recallK?: number | undefined;
  clock?: (() => Date) | undefined;
}

/**
 * The agent's graph, uncompiled: recall → converse ⇄ tools → write-back. The caller compiles it with its
 * checkpointer (`createAgentGraph(deps).compile({ checkpointer })`).
 */
export function createAgentGraph(dependencies: AgentGraphDependencies) {
  const { memory, model, tools, services, queryGenerator, recallK } = dependencies;
  const clock = dependencies.clock ?? (() => new Date());
  return new StateGraph(AgentState, TurnContextSchema)
    .addNode('recall', createRecallNode({ memory, clock, queryGenerator, k: recallK }))
    .addNode('converse', createConverseNode({ model, tools, clock }))
    .addNode('tools', createToolsNode({ tools, services }))
    .addNode('write-back', createWriteBackNode({ memory, model, clock, memoryQuotingTools: memoryQuotingTools(tools) }))
    .addEdge(START, 'recall')
    .addEdge('recall', 'converse')
    .addConditionalEdges('converse', afterConverse, ['tools', 'write-back'])
    .addEdge('tools', 'converse')
    .addEdge('write-back', END);
}
