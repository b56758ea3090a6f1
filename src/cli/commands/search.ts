import { squeeze } from '../../../memory/index.js';
import { formatHit, hitJson, scopeLabel } from '../../format.js';
import {
  type Command,
  DB_HELP,
  integerFlag,
  JSON_OPTION,
  SCOPE_HELP,
  SCOPE_OPTIONS,
  SCOPE_USAGE,
  scopeFlag,
  textArgument,
} from '../command.js';
import { printJson } from '../io.js';

export const searchCommand: Command = {
  name: 'search',
  summary: "hybrid search of a user's memories (full text + vectors, time and speaker aware)",
  help: `Usage: mnemo search ${SCOPE_USAGE} [--k 10] [--context N] [--json] "query"

Searches the user's (or persona's, or the global) episodes and current facts, best first.
The query may name a time ("last month", "in May 2023") or a speaker, and both are taken
into account.

Options:
${SCOPE_HELP}  -k, --k N            number of results, 1-1000 (default 10)
      --context N      attach N neighbouring turns on each side of each episode (default 0)
      --json           print a JSON array of { id, kind, text, score, at, role, session,
                       source: { id }, parts }
${DB_HELP}`,
  options: { ...SCOPE_OPTIONS, ...JSON_OPTION, k: { type: 'string', short: 'k' }, context: { type: 'string' } },
  positionals: [1, 1],
  async run(context) {
    const scope = scopeFlag(context);
    const query = textArgument(context, 'the query');
    const k = integerFlag(context, 'k', 10, [1, 1000]);
    const around = integerFlag(context, 'context', 0, [0, 20]);
    const store = await context.openStore();
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
      store.close();
    }
  },
};
