import { FACT_KINDS, type FactKind, parseMemoryId } from '../../../memory/index.js';
import { UsageError } from '../../errors.js';
import { exportDocument } from '../../export.js';
import { forgotten, formatMemory, memoryJson, scopeLabel } from '../../format.js';
import {
  type Command,
  type CommandContext,
  checkArgument,
  DB_HELP,
  JSON_OPTION,
  SCOPE_HELP,
  SCOPE_OPTIONS,
  SCOPE_USAGE,
  scopeFlag,
  textArgument,
} from '../command.js';
import { printJson } from '../io.js';

/** An optional memory id flag (`--id`, `--supersedes`); a malformed id is a usage mistake. */
function idFlag(context: CommandContext, name: string): string | undefined {
  const id = context.values[name];
  if (typeof id === 'string') checkArgument(() => parseMemoryId(id));
  return id as string | undefined;
}

export const rememberCommand: Command = {
  name: 'remember',
  summary: 'store a durable fact or preference about a user',
  help: `Usage: mnemo remember ${SCOPE_USAGE} [--kind fact|preference|profile] [--supersedes ID] "text"

Writes one fact to the user's semantic memory. With --supersedes, the older fact is closed
(kept in history with its end date) and search returns the new one. With --persona or
--global the fact is shared: the agent recalls a persona's facts for its members and global
facts for everyone, after the user's own.

Options:
${SCOPE_HELP}      --kind KIND      fact (default), preference or profile
      --supersedes ID  id of the current fact this one replaces (see \`mnemo memories\`)
      --json           print the stored fact as JSON
${DB_HELP}`,
  options: { ...SCOPE_OPTIONS, ...JSON_OPTION, kind: { type: 'string' }, supersedes: { type: 'string' } },
  positionals: [1, 1],
  async run(context) {
    const scope = scopeFlag(context);
    const kind = (context.values.kind as string | undefined) ?? 'fact';
    if (!FACT_KINDS.includes(kind as FactKind))
      throw new UsageError(`--kind must be one of ${FACT_KINDS.join(', ')}, not "${kind}"`);
    const fact = { text: textArgument(context, 'the fact'), kind: kind as FactKind };
    const supersedes = idFlag(context, 'supersedes');
    const store = await context.openStore();
    try {
      const [stored] = await store.changeFacts(scope, [
        supersedes ? { op: 'supersede', id: supersedes, fact } : { op: 'add', fact },
      ]);
      context.io.stdout.write(
        context.values.json ? printJson(memoryJson(stored!)) : `remembered ${formatMemory(stored!)}\n`,
      );
    } finally {
      store.close();
    }
  },
};

export const memoriesCommand: Command = {
  name: 'memories',
  summary: 'list what mnemo knows about a user',
  help: `Usage: mnemo memories ${SCOPE_USAGE} [--all] [--json]

Lists the current facts, preferences and profile of a user (or a persona, or the global
memory), newest first. With --all, also every episode and every superseded or invalidated
fact (with the date it stopped holding).

Options:
${SCOPE_HELP}      --all            include episodes and history
      --json           print a JSON array
${DB_HELP}`,
  options: { ...SCOPE_OPTIONS, ...JSON_OPTION, all: { type: 'boolean' } },
  positionals: [0, 0],
  async run(context) {
    const scope = scopeFlag(context);
    const store = await context.openStore({ embedder: false });
    try {
      const memories = context.values.all
        ? store.list(scope, { history: true })
        : store.list(scope, { kinds: FACT_KINDS });
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
      store.close();
    }
  },
};

export const forgetCommand: Command = {
  name: 'forget',
  summary: 'delete one memory, or everything stored about a user',
  help: `Usage: mnemo forget ${SCOPE_USAGE} [--id ID]

With --id, deletes that one memory. Without it, deletes everything stored about the user:
episodes, facts, their history, full-text and vector entries (with --persona or --global,
every memory of that scope; users and their own memories are kept). Deleted bytes are zeroed
and the write-ahead log is truncated, so the database files keep no copy of the text.

Options:
${SCOPE_HELP}      --id ID          the memory to delete (e.g. e12 or f34, see \`mnemo memories --all\`)
      --json           print { "deleted": N }
${DB_HELP}`,
  options: { ...SCOPE_OPTIONS, ...JSON_OPTION, id: { type: 'string' } },
  positionals: [0, 0],
  async run(context) {
    const scope = scopeFlag(context);
    const id = idFlag(context, 'id');
    const store = await context.openStore({ embedder: false });
    try {
      const removed = store.forget(scope, id);
      context.io.stdout.write(
        context.values.json
          ? printJson(removed)
          : id
            ? `forgot ${id}\n`
            : `forgot ${scopeLabel(scope)}: ${forgotten(removed)} deleted\n`,
      );
      if (!removed.flushed) {
        context.io.stderr.write(
          'mnemo forget: another process is reading the database, so the deleted text stays in its write-ahead log for now; run this again once it is idle\n',
        );
      }
    } finally {
      store.close();
    }
  },
};

export const exportCommand: Command = {
  name: 'export',
  summary: 'print everything stored about a user as JSON',
  help: `Usage: mnemo export ${SCOPE_USAGE}

Prints a JSON document with every episode and fact of the user (or persona, or the global
memory), history included, oldest first; for a user also their persona, ratings and
demographics: everything that mnemo forget deletes.

Options:
${SCOPE_HELP}${DB_HELP}`,
  options: { ...SCOPE_OPTIONS },
  positionals: [0, 0],
  async run(context) {
    const scope = scopeFlag(context);
    const store = await context.openStore({ embedder: false });
    try {
      context.io.stdout.write(printJson(exportDocument(store, scope, new Date())));
    } finally {
      store.close();
    }
  },
};
