import { forgetTool, rememberTool, searchMemoryTool } from './memory-tools.js';
import { rateTool, recommendTool } from './recommender-tools.js';
import type { ToolDefinition } from './types.js';

export { defineTool, type ToolContext, type ToolDefinition, type ToolServices, type ToolSpec } from './types.js';

/** The names of the tools whose results quote stored memory (see ToolSpec.quotesMemory). */
export const memoryQuotingTools = (tools: readonly ToolDefinition[]): ReadonlySet<string> =>
  new Set(tools.filter((tool) => tool.quotesMemory).map((tool) => tool.name));

/** Every tool the agent offers the model. */
export const TOOLS: readonly ToolDefinition[] = [recommendTool, rateTool, rememberTool, forgetTool, searchMemoryTool];
