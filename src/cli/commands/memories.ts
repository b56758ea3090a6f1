import { FACT_KINDS, type FactKind, parseMemoryId } from '../../../memory/index.js';
import { memoryQuotingTools, TOOLS } from '../../../tools/index.js';
import { UsageError } from '../../errors.js';
import { exportDocument } from '../../export.js';
import { forgotten, formatMemory, memoryJson, scopeLabel } from '../../format.js';
import { scrubTurnContext } from '../../graph/checkpoints.js';
import { checkArgument, defineCommand, SCOPE_OPTIONS, scopeFlag, textArgument } from '../command.js';
import { printJson } from '../io.js';

/** An optional memory id flag (`--id`, `--supersedes`); a malformed id is a usage mistake. */
function idFlag(id: string | undefined): string | undefined {
  if (id !== undefined) checkArgument(() => parseMemoryId(id));
  return id;
}

export const rememberCommand = defineCommand({
  name: 'remember',
  summary: 'store a durable fact or preference about a user',
  description: `
Writes one fact to the user's semantic memory. With --supersedes, the older fact is closed
(kept in history with its end date) and search returns the new one. With --persona or
--global the fact is shared: the agent recalls a persona's facts for its members and global
facts for everyone, after the user's own.`,
  options: {
    ...SCOPE_OPTIONS,
    kind: { type: 'string', value: 'KIND', description: 'fact (default), preference or profile' },
    supersedes: {
      type: 'string',
      value: 'ID',
      description: 'id of the current fact this one replaces (see `mnemo memories`)',
    },
    json: { type: 'boolean', description: 'print the stored fact as JSON' },
  },
  positionals: [{ name: '"text"' }],
  async run(context) {
    const scope = scopeFlag(context.values);
    const kind = context.values.kind ?? 'fact';
    if (!FACT_KINDS.includes(kind as FactKind))
      throw new UsageError(`--kind must be one of ${FACT_KINDS.join(', ')}, not "${kind}"`);
    const fact = { text: textArgument(context, 'the fact'), kind: kind as FactKind };
    const supersedes = idFlag(context.values.supersedes);
    const store = await context.openStore();
    try {
      const [stored] = await store.changeFacts(scope, [
        supersedes ? { op: 'supersede', id: supersedes, fact } : { op: 'add', fact },
      ]);
      context.io.stdout.write(
        context.values.json ? printJson(memoryJson(stored!)) : `remembered ${formatMemory(stored!)}\n`,
      );
    } finally {
      await store.close();
    }
  },
});

export const memoriesCommand = defineCommand({
  name: 'memories',
  summary: 'list what mnemo knows about a user',
  description: `
Lists the current facts, preferences and profile of a user (or a persona, or the global
memory), newest first. With --all, also every episode and every superseded or invalidated
fact (with the date it stopped holding).`,
  options: {
    ...SCOPE_OPTIONS,
    all: { type: 'boolean', description: 'include episodes and history' },
    json: { type: 'boolean', description: 'print a JSON array' },
  },
  positionals: [],
  async run(context) {
    const scope = scopeFlag(context.values);
    const store = await context.openStore({ embedder: false, writes: false });
    try {
      const memories = context.values.all
        ? await store.list(scope, { history: true })
        : await store.list(scope, { kinds: FACT_KINDS });
      if (context.values.json) {
        context.io.stdout.write(printJson(memories.map(memoryJson)));
        return;
      }
      if (memories.length === 0)
        context.io.stdout.write(
          `no ${context.values.all ? 'memories' : 'facts or preferences'} stored for ${scopeLabel(scope)}\n`,
        );
      for (const memory of memories) context.io.stdout.write(`${formatMemory(memory)}\n`);
    } finally {
      await store.close();
    }
  },
});

export const forgetCommand = defineCommand({
  name: 'forget',
  summary: 'delete one memory, or everything stored about a user',
  description: `
With --id, deletes that one memory. Without it, deletes everything stored about the user:
episodes, facts, their history, full-text and vector entries (with --persona or --global,
every memory of that scope; users and their own memories are kept). Deleted bytes are zeroed,
the file is rewritten and the write-ahead log is truncated, so the database files keep no copy
of the text. The rewrite copies the whole file: seconds on a file of a gigabyte.`,
  options: {
    ...SCOPE_OPTIONS,
    id: {
      type: 'string',
      value: 'ID',
      description: 'the memory to delete (e.g. e12 or f34, see `mnemo memories --all`)',
    },
    json: { type: 'boolean', description: 'print { "deleted": N }' },
  },
  positionals: [],
  async run(context) {
    const scope = scopeFlag(context.values);
    const id = idFlag(context.values.id);
    const store = await context.openStore({ embedder: false });
    try {
      // Threads an earlier version checkpointed may still quote the memory: strip them first.
      if (id !== undefined && store.backend.kind === 'sqlite')
        scrubTurnContext(store.backend.db, memoryQuotingTools(TOOLS));
      const removed = await store.forget(scope, id);
      context.io.stdout.write(
        context.values.json
          ? printJson({ deleted: removed.deleted, ...removed.alsoDeleted, flushed: removed.flushed })
          : id
            ? `forgot ${id}\n`
            : `forgot ${scopeLabel(scope)}: ${forgotten(removed)} deleted\n`,
      );
      if (!removed.flushed) {
        context.io.stderr.write(
          'mnemo forget: another process is using the database, so a copy of the deleted text stays in the file for now; run this again once it is idle\n',
        );
      }
    } finally {
      await store.close();
    }
  },
});

export const exportCommand = defineCommand({
  name: 'export',
  summary: 'print everything stored about a user as JSON',
  description: `
Prints a JSON document with every episode and fact of the user (or persona, or the global
memory), history included, oldest first; for a user also their persona, ratings and
demographics: everything that mnemo forget deletes.`,
  options: SCOPE_OPTIONS,
  positionals: [],
  async run(context) {
    const scope = scopeFlag(context.values);
    const store = await context.openStore({ embedder: false, writes: false });
    try {
      context.io.stdout.write(printJson(await exportDocument(store, scope, new Date())));
    } finally {
      await store.close();
    }
  },
});
