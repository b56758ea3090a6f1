import { z } from 'zod';
import { FACT_KINDS, InputError, userScope } from '../memory/index.js';
import { defineTool } from './types.js';

const line = (value: unknown): string => JSON.stringify(value);

export const rememberTool = defineTool({
  name: 'remember',
  quotesMemory: true,
  description: 'Store a durable fact or preference about the user when they ask you to remember it.',
  schema: z.object({
    text: z
      .string()
      .min(1)
      .max(1000)
      .describe('The fact as a short third-person statement, e.g. "prefers window seats".'),
    kind: z
      .enum(FACT_KINDS)
      .default('fact')
      .describe('fact (default), preference (likes/dislikes) or profile (who they are).'),
  }),
  async execute({ text, kind }, services, context) {
    const [fact] = await services.memory.changeFacts(userScope(context.userId), [{ op: 'add', fact: { text, kind } }], {
      turn: context.turn,
    });
    if (!fact) throw new InputError('nothing was stored: the user has been forgotten');
    return `remembered ${fact.id}: ${fact.text}`;
  },
});

export const forgetTool = defineTool({
  name: 'forget',
  quotesMemory: true,
  description: 'Delete one memory of the user when they ask you to forget something. Give its id, or words to find it.',
  schema: z.object({
    id: z.string().optional().describe('Id of the memory to delete (e.g. f12 or e34), from the recalled memories.'),
    query: z.string().optional().describe('Words describing the memory to delete, when no id is known.'),
  }),
  async execute(args, services, context) {
    const user = userScope(context.userId);
    let id = args.id?.trim() || undefined;
    let text: string | undefined;
    if (!id) {
      const query = args.query?.trim();
      if (!query) throw new InputError('give the id of the memory to forget, or words to find it');
      const [best] = await services.memory.search([user], query, { k: 1, kinds: FACT_KINDS });
      const found = best ?? (await services.memory.search([user], query, { k: 1 }))[0];
      if (!found) throw new InputError(`no memory matches "${query}"`, { code: 'not_found' });
      id = found.memory.id;
      text = found.memory.text;
    }
    text ??= (await services.memory.get(user, id))?.text;
    await services.memory.forget(user, id);
    return `forgot ${id}${text ? `: ${text}` : ''}`;
  },
});

export const searchMemoryTool = defineTool({
  name: 'search_memory',
  quotesMemory: true,
  description:
    'Search everything remembered about the user (past conversations and facts), beyond the memories already shown.',
  schema: z.object({
    query: z.string().min(1).max(500).describe('What to look for, in plain words; may name a time like "last month".'),
    k: z.number().int().min(1).max(25).default(5).describe('How many results (1-25, default 5).'),
  }),
  async execute({ query, k }, services, context) {
    const hits = await services.memory.search([userScope(context.userId)], query, { k, signal: context.signal });
    if (hits.length === 0) return 'no memories match';
    return hits
      .map((hit) =>
        line({
          id: hit.memory.id,
          date: hit.memory.at.toISOString().slice(0, 10),
          kind: hit.memory.kind,
          said_by: hit.memory.role,
          text: hit.memory.text,
        }),
      )
      .join('\n');
  },
});
