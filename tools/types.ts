import type { z } from 'zod';
import { InputError, type MemoryStore, type Turn } from '../memory/index.js';
import type { Recommender } from '../recommender/index.js';

/** The services a tool acts on. */
export interface ToolServices {
  readonly memory: MemoryStore;
  /** Absent until a catalog and a model exist; the recommend and rate tools then explain so. */
  readonly recommender?: Recommender | undefined;
}

/** Who the tool acts for: always the user of the current turn, never a user the model names. */
export interface ToolContext {
  readonly userId: string;
  readonly threadId: string;
  /** The turn in flight: memory writes pass it, so a user forgotten during the turn gets nothing stored. */
  readonly turn?: Turn | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** What {@link defineTool} takes: a zod object schema (every field described) and a thin execute over a service. */
export interface ToolSpec<Schema extends z.ZodObject> {
  readonly name: string;
  /** What the model reads to decide when to call the tool. */
  readonly description: string;
  readonly schema: Schema;
  /**
   * The result quotes stored memories: the model reads it during the turn, and the thread keeps only a note of it,
   * so forgetting a memory leaves no copy in the thread's checkpoints. @default false
   */
  readonly quotesMemory?: boolean;
  /** Receives the arguments as the schema parsed them (defaults applied); returns the text the model reads. */
  execute(args: z.output<Schema>, services: ToolServices, context: ToolContext): Promise<string>;
}

/** A tool the model may call, as the agent runs it: the model's raw arguments in, the text the model reads out. */
export interface ToolDefinition {
  readonly name: string;
  readonly description: string;
  /** The arguments' schema, sent to the model as JSON Schema. */
  readonly schema: z.ZodObject;
  /** See {@link ToolSpec.quotesMemory}. */
  readonly quotesMemory: boolean;
  /**
   * Checks the model's arguments against the schema and runs the tool. Throws an InputError naming each field the
   * schema refuses (the model reads it and can correct them), or whatever the tool throws.
   */
  call(args: unknown, services: ToolServices, context: ToolContext): Promise<string>;
}

/**
 * Declares a tool whose `execute` receives its schema's parsed type, as vercel/ai's `tool()` does: the arguments
 * are checked once, here, and no tool casts them.
 *
 * @example
 * const echo = defineTool({
 *   name: 'echo',
 *   description: 'Repeat the text.',
 *   schema: z.object({ text: z.string().describe('What to repeat') }),
 *   execute: async ({ text }) => text, // text: string
 * });
 */
export function defineTool<Schema extends z.ZodObject>(spec: ToolSpec<Schema>): ToolDefinition {
  return {
    name: spec.name,
    description: spec.description,
    schema: spec.schema,
    quotesMemory: spec.quotesMemory ?? false,
    async call(args, services, context) {
      const parsed = spec.schema.safeParse(args);
      if (!parsed.success) {
        const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'args'}: ${issue.message}`);
        throw new InputError(`invalid arguments: ${issues.join('; ')}`);
      }
      return spec.execute(parsed.data, services, context);
    },
  };
}
