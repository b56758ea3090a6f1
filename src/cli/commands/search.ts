import { squeeze } from '../../../memory/index.js';
import { formatHit, hitJson, scopeLabel } from '../../format.js';
import { defineCommand, SCOPE_OPTIONS, scopeFlag, textArgument } from '../command.js';
import { printJson } from '../io.js';

export const searchCommand = defineCommand({
  name: 'search',
  summary: "hybrid search of a user's memories (full text + vectors, time and speaker aware)",
  description: `
Searches the user's (or persona's, or the global) episodes and current facts, best first.
The query may name a time ("last month", "in May 2023") or a speaker, and both are taken
into account.`,
  options: {
    ...SCOPE_OPTIONS,
    k: { type: 'integer', short: 'k', value: 'N', min: 1, max: 1000, default: 10, description: 'number of results' },
    context: {
      type: 'integer',
      value: 'N',
      min: 0,
      max: 20,
      default: 0,
      description: 'attach N neighbouring turns on each side of each episode',
    },
    json: {
      type: 'boolean',
      description: 'print a JSON array of\n{ id, kind, text, score, at, role, session, source: { id }, parts }',
    },
  },
  positionals: [{ name: '"query"' }],
  async run(context) {
    const scope = scopeFlag(context.values);
    const query = textArgument(context, 'the query');
    const { k, context: around } = context.values;
    const store = await context.openStore({ writes: false });
    try {
      const hits = await store.search([scope], query, { k, context: around });
      if (context.values.json) {
        context.io.stdout.write(printJson(hits.map(hitJson)));
        return;
      }
      if (hits.length === 0) context.io.stdout.write(`no memories of ${scopeLabel(scope)} match\n`);
      hits.forEach((hit, index) => {
        context.io.stdout.write(`${formatHit(hit, index + 1)}\n`);
        for (const turn of hit.context)
          context.io.stdout.write(`      · ${turn.role ?? ''}: ${squeeze(turn.text, 140)}\n`);
      });
    } finally {
      await store.close();
    }
  },
});
