import { z } from 'zod';
import { MnemoError } from '../memory/index.js';
import { NOTHING_LEFT } from '../recommender/index.js';
import { defineTool, type ToolServices } from './types.js';

const requireRecommender = (services: ToolServices) => {
  if (!services.recommender)
    throw new MnemoError('tool_failed', 'no recommender is set up: import a catalog and run `mnemo train` first');
  return services.recommender;
};

export const recommendTool = defineTool({
  name: 'recommend',
  description:
    'Recommend catalog items (e.g. movies) the user has not rated, personalized from their ratings and memories.',
  schema: z.object({
    k: z.number().int().min(1).max(20).default(5).describe('How many items to recommend (1-20, default 5).'),
    query: z.string().max(300).optional().describe('Optional wish for this request, e.g. "a light comedy".'),
  }),
  async execute({ k, query }, services, context) {
    const items = await requireRecommender(services).recommend(context.userId, { k, query, signal: context.signal });
    if (items.length === 0) return NOTHING_LEFT;
    return items
      .map((item) =>
        JSON.stringify({
          itemId: item.itemId,
          title: item.title,
          predicted: Math.round(item.predicted * 10) / 10,
          why: item.why.map((reason) => reason.text),
        }),
      )
      .join('\n');
  },
});

export const rateTool = defineTool({
  name: 'rate',
  description: "Record the user's rating of a catalog item when they rate it or clearly say how much they liked it.",
  schema: z.object({
    item: z.string().min(1).max(300).describe('The item id or its title.'),
    stars: z.number().int().min(1).max(5).describe('Rating from 1 (hated it) to 5 (loved it).'),
  }),
  async execute({ item, stars }, services, context) {
    const rating = await requireRecommender(services).rate(context.userId, item, stars, { source: 'stated-in-chat' });
    return `recorded ${rating.stars} stars for ${rating.itemId}`;
  },
});
