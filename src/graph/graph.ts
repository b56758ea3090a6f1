import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { type BaseCheckpointSaver, END, START, StateGraph } from '@langchain/langgraph';
import type { QueryGenerator, SqliteMemoryStore } from '../../memory/index.js';
import type { ToolDefinition, ToolServices } from '../../tools/index.js';
import { TurnContextSchema } from './context.js';
import { createConverseNode } from './nodes/converse.js';
import { createRecallNode } from './nodes/recall.js';
import { createToolsNode } from './nodes/tools.js';
import { createWriteBackNode } from './nodes/write-back.js';
import { afterConverse } from './routes.js';
import { AgentState } from './state.js';

/** Everything the graph's nodes use, injected (no module-level model, no process.env). */
export interface AgentGraphDependencies {
  memory: SqliteMemoryStore;
  model: BaseChatModel;
  tools: readonly ToolDefinition[];
  services: ToolServices;
  checkpointer: BaseCheckpointSaver;
  queryGenerator?: QueryGenerator;
  /** Memories recalled per turn. @default 8 */
  recallK?: number;
  clock?: () => Date;
}

/** recall → converse ⇄ tools → write-back, checkpointed per thread. */
export function createAgentGraph(dependencies: AgentGraphDependencies) {
  const clock = dependencies.clock ?? (() => new Date());
  return new StateGraph(AgentState, TurnContextSchema)
    .addNode(
      'recall',
      createRecallNode({
        memory: dependencies.memory,
        clock,
        ...(dependencies.queryGenerator ? { queryGenerator: dependencies.queryGenerator } : {}),
        ...(dependencies.recallK ? { k: dependencies.recallK } : {}),
      }),
    )
    .addNode('converse', createConverseNode({ model: dependencies.model, tools: dependencies.tools, clock }))
    .addNode('tools', createToolsNode({ tools: dependencies.tools, services: dependencies.services }))
    .addNode('write-back', createWriteBackNode({ memory: dependencies.memory, model: dependencies.model, clock }))
    .addEdge(START, 'recall')
    .addEdge('recall', 'converse')
    .addConditionalEdges('converse', afterConverse, ['tools', 'write-back'])
    .addEdge('tools', 'converse')
    .addEdge('write-back', END)
    .compile({ checkpointer: dependencies.checkpointer });
}

export type AgentGraph = ReturnType<typeof createAgentGraph>;
