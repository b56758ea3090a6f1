import type { z } from 'zod';
import type { SqliteMemoryStore } from '../memory/index.js';
import type { Recommender } from '../recommender/index.js';

/** The services a tool acts on. */
export interface ToolServices {
  readonly memory: SqliteMemoryStore;
  /** Absent until a catalog and a model exist; the recommend and rate tools then explain so. */
  readonly recommender?: Recommender;
}

/** Who the tool acts for: always the user of the current turn, never a user the model names. */
export interface ToolContext {
  readonly userId: string;
  readonly threadId: string;
  /** The turn's checkpoint key: memory writes pass it, so a user forgotten during the turn gets nothing stored. */
  readonly threadKey?: string;
  readonly signal?: AbortSignal;
}

/** A tool the model may call: a zod schema (every field described) and a thin execute over a service. */
export interface ToolDefinition<Schema extends z.ZodObject = z.ZodObject> {
  readonly name: string;
  readonly description: string;
  readonly schema: Schema;
  /** Returns the text the model reads; throws a MnemoError the model can recover from. */
  execute(args: z.infer<Schema>, services: ToolServices, context: ToolContext): Promise<string>;
}
