import { FACT_KINDS, globalScope, personaScope, userScope, type FactKind, type Scope } from '../../../memory/types.js';
import { UsageError } from '../../errors.js';
import { JSON_OPTION, requireFlag, USER_OPTION, type Command, type CommandContext } from '../command.js';
import { formatMemory, memoryJson, printJson } from '../format.js';

const DB_HELP = '      --db PATH        database file (default: $MNEMO_DB, else ~/.local/share/mnemo/mnemo.db)\n  -h, --help           show this help\n';

/** The one scope `remember` writes to: --user, --persona or --global. */
function rememberScope(context: CommandContext): Scope {
  const given = [context.values.user !== undefined, context.values.persona !== undefined, context.values.global === true].filter(Boolean).length;
  if (given !== 1) throw new UsageError('give exactly one of --user U, --persona NAME, --global');
  if (context.values.global) return globalScope;
  if (typeof context.values.persona === 'string') return personaScope(context.values.persona);
  return userScope(requireFlag(context, 'user'));
}

export const rememberCommand: Command = {
  name: 'remember',
  summary: 'store a durable fact or preference about a user',
  help: `Usage: mnemo remember --user U [--kind fact|preference|profile] [--supersedes ID] "text"
       mnemo remember --persona NAME | --global [--kind ...] "text"

Writes one fact to the user's semantic memory. With --supersedes, the older fact is closed
(kept in history with its end date) and search returns the new one. With --persona or
--global the fact is shared: the agent recalls a persona's facts for its members and global
facts for everyone, after the user's own.

Options:
  -u, --user U         whose memory (one of --user, --persona, --global is required)
      --persona NAME   a persona's shared memory
      --global         the memory shared by everyone
      --kind KIND      fact (default), preference or profile
      --supersedes ID  id of the current fact this one replaces (see \`mnemo memories\`)
      --json           print the stored fact as JSON
${DB_HELP}`,
  options: { ...USER_OPTION, ...JSON_OPTION, kind: { type: 'string' }, supersedes: { type: 'string' }, persona: { type: 'string' }, global: { type: 'boolean' } },
  positionals: [1, 1],
  async run(context) {
    const scope = rememberScope(context);
    const kind = (context.values.kind as string | undefined) ?? 'fact';
    if (!FACT_KINDS.includes(kind as FactKind)) throw new UsageError(`--kind must be one of ${FACT_KINDS.join(', ')}, not "${kind}"`);
    const fact = { text: context.positionals[0]!, kind: kind as FactKind };
    const supersedes = context.values.supersedes as string | undefined;
    const store = await context.openStore();
    try {
      const [stored] = await store.changeFacts(scope, [
        supersedes ? { op: 'supersede', id: supersedes, fact } : { op: 'add', fact },
      ]);
      context.io.stdout.write(context.values.json ? printJson(memoryJson(stored!)) : `remembered ${formatMemory(stored!)}\n`);
    } finally {
      store.close();
    }
  },
};

export const memoriesCommand: Command = {
  name: 'memories',
  summary: 'list what mnemo knows about a user',
  help: `Usage: mnemo memories --user U [--all] [--json]

Lists the user's current facts, preferences and profile, newest first. With --all, also
every episode and every superseded or invalidated fact (with the date it stopped holding).

Options:
  -u, --user U   whose memories (required)
      --all      include episodes and history
      --json     print a JSON array
${DB_HELP}`,
  options: { ...USER_OPTION, ...JSON_OPTION, all: { type: 'boolean' } },
  positionals: [0, 0],
  async run(context) {
    const user = requireFlag(context, 'user');
    const store = await context.openStore({ embedder: false });
    try {
      const memories = context.values.all
        ? store.list(userScope(user), { history: true })
        : store.list(userScope(user), { kinds: FACT_KINDS });
      if (context.values.json) {
        context.io.stdout.write(printJson(memories.map(memoryJson)));
        return;
      }
      if (memories.length === 0) context.io.stdout.write(`no ${context.values.all ? '' : 'facts or preferences '}stored for ${user}\n`);
      for (const memory of memories) context.io.stdout.write(`${formatMemory(memory)}\n`);
    } finally {
      store.close();
    }
  },
};

export const forgetCommand: Command = {
  name: 'forget',
  summary: 'delete one memory, or everything stored about a user',
  help: `Usage: mnemo forget --user U [--id ID]

With --id, deletes that one memory. Without it, deletes everything stored about the user:
episodes, facts, their history, full-text and vector entries. Deleted bytes are zeroed and
the write-ahead log is truncated, so the database files keep no copy of the text.

Options:
  -u, --user U   whose memory (required)
      --id ID    the memory to delete (e.g. e12 or f34, see \`mnemo memories --all\`)
      --json     print { "deleted": N }
${DB_HELP}`,
  options: { ...USER_OPTION, ...JSON_OPTION, id: { type: 'string' } },
  positionals: [0, 0],
  async run(context) {
    const user = requireFlag(context, 'user');
    const id = context.values.id as string | undefined;
    const store = await context.openStore({ embedder: false });
    try {
      const { deleted } = store.forget(userScope(user), id);
      context.io.stdout.write(
        context.values.json ? printJson({ deleted }) : id ? `forgot ${id}\n` : `forgot ${user}: ${deleted} memor${deleted === 1 ? 'y' : 'ies'} deleted\n`,
      );
    } finally {
      store.close();
    }
  },
};

export const exportCommand: Command = {
  name: 'export',
  summary: 'print everything stored about a user as JSON',
  help: `Usage: mnemo export --user U

Prints a JSON document with every episode and fact of the user, history included, oldest
first.

Options:
  -u, --user U   whose memories (required)
${DB_HELP}`,
  options: { ...USER_OPTION },
  positionals: [0, 0],
  async run(context) {
    const user = requireFlag(context, 'user');
    const store = await context.openStore({ embedder: false });
    try {
      const exported = store.export(userScope(user));
      context.io.stdout.write(printJson({ user, exportedAt: new Date().toISOString(), memories: exported.memories.map(memoryJson) }));
    } finally {
      store.close();
    }
  },
};
