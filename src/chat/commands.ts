import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MemoryStore } from '../../memory/index.js';
import { FACT_KINDS, squeeze, userScope, validateScope } from '../../memory/index.js';
import type { RecommenderService } from '../../recommender/index.js';
import { NOTHING_LEFT } from '../../recommender/index.js';
import { NO_MODEL_HELP } from '../config.js';
import { errorLine, MnemoError } from '../errors.js';
import { exportDocument } from '../export.js';
import { forgotten, formatMemory } from '../format.js';
import type { TranscriptLine } from './transcript.js';

/** What the slash commands need of the memory store (a `MemoryStore`). */
export type ChatMemory = Pick<
  MemoryStore,
  'changeFacts' | 'list' | 'forget' | 'search' | 'export' | 'count' | 'personaOf' | 'backend' | 'addEpisodes'
>;
/** What the slash commands need of the recommender (a `RecommenderService`). */
export type ChatRecommender = Pick<RecommenderService, 'recommend' | 'rate' | 'persona' | 'resolveItem'>;

/** Everything a slash command runs over. */
export interface ChatCommandContext {
  memory: ChatMemory;
  recommender: ChatRecommender;
  /** Whose memory the commands read and write. */
  userId: string;
  /** Directory `/export` writes its JSON file to (created if missing). */
  exportDir: string;
  /** Clock for export file names and dates. @default () => new Date() */
  now?: () => Date;
}

/** What the chat should do after a command, besides showing its lines. */
export type ChatAction = { readonly type: 'switch-user'; readonly userId: string } | { readonly type: 'quit' };

/** The result of one slash command: lines for the transcript, and maybe an action for the UI. */
export interface CommandResult {
  readonly lines: readonly TranscriptLine[];
  readonly action?: ChatAction;
}

/** A slash command line split into its name (without the slash, lower case) and the rest. */
export interface ParsedCommand {
  readonly name: string;
  readonly argument: string;
}

/** Splits `/name rest of line`; undefined when the line is not a slash command (a message for the agent). */
export function parseCommand(line: string): ParsedCommand | undefined {
  const match = /^\/(\S*)\s*([\s\S]*)$/.exec(line.trim());
  if (!match) return undefined;
  return { name: match[1]!.toLowerCase(), argument: match[2]!.trim() };
}

type Handler = (argument: string, context: ChatCommandContext) => Promise<CommandResult> | CommandResult;

interface CommandSpec {
  readonly usage: string;
  readonly summary: string;
  readonly run: Handler;
}

const info = (text: string): TranscriptLine => ({ kind: 'info', text });
const lines = (...texts: string[]): CommandResult => ({ lines: texts.map(info) });
const usageError = (usage: string): CommandResult => ({ lines: [{ kind: 'error', text: `usage: ${usage}` }] });

const COMMANDS: Readonly<Record<string, CommandSpec>> = {
  help: { usage: '/help', summary: 'this list', run: () => ({ lines: helpLines() }) },
  remember: {
    usage: '/remember TEXT',
    summary: 'store a fact about you',
    async run(argument, context) {
      if (!argument) return usageError('/remember TEXT');
      const [stored] = await context.memory.changeFacts(userScope(context.userId), [
        { op: 'add', fact: { text: argument } },
      ]);
      return { lines: [{ kind: 'memory', text: `remembered: ${squeeze(stored!.text, 80)} (${stored!.id})` }] };
    },
  },
  memories: {
    usage: '/memories',
    summary: 'what mnemo knows about you',
    async run(_argument, context) {
      const memories = await context.memory.list(userScope(context.userId), { kinds: FACT_KINDS });
      if (memories.length === 0) return lines(`no facts or preferences stored for ${context.userId}`);
      return lines(...memories.map(formatMemory));
    },
  },
  forget: {
    usage: '/forget ID | /forget all',
    summary: 'delete one memory, or everything about you',
    async run(argument, context) {
      // Forgetting everything cannot be undone, so a bare /forget only explains; `all` is the confirmation.
      if (!argument)
        return lines(
          `/forget ID deletes one memory (ids in /memories); /forget all deletes everything stored about ${context.userId}`,
        );
      if (/\s/.test(argument)) return usageError('/forget ID | /forget all');
      if (argument.toLowerCase() === 'all') {
        return lines(
          `forgot ${context.userId}: ${forgotten(await context.memory.forget(userScope(context.userId)))} deleted`,
        );
      }
      await context.memory.forget(userScope(context.userId), argument);
      return lines(`forgot ${argument}`);
    },
  },
  search: {
    usage: '/search QUERY',
    summary: 'search your memories',
    async run(argument, context) {
      if (!argument) return usageError('/search QUERY');
      const hits = await context.memory.search([userScope(context.userId)], argument, { k: 5 });
      if (hits.length === 0) return lines(`nothing found for "${squeeze(argument, 60)}"`);
      return lines(...hits.map((hit, index) => `${index + 1}. ${hit.score.toFixed(2)} ${formatMemory(hit.memory)}`));
    },
  },
  recommend: {
    usage: '/recommend [WHAT]',
    summary: 'items you may like, each with why',
    async run(argument, context) {
      const found = await context.recommender.recommend(context.userId, {
        k: 5,
        ...(argument ? { query: argument } : {}),
      });
      if (found.length === 0) return lines(NOTHING_LEFT);
      return lines(
        ...found.map(
          (entry, index) =>
            `${index + 1}. ${entry.title} (${entry.itemId}) ${entry.predicted.toFixed(1)}★${entry.why[0] ? ` — ${squeeze(entry.why[0].text, 80)}` : ''}`,
        ),
      );
    },
  },
  rate: {
    usage: '/rate ITEM STARS',
    summary: 'rate a catalog item 1–5',
    async run(argument, context) {
      const match = /^(.+?)\s+(\S+)$/.exec(argument);
      const stars = Number(match?.[2]);
      if (!match || !Number.isInteger(stars) || stars < 1 || stars > 5)
        return usageError('/rate ITEM STARS (ITEM an id or title, STARS 1 to 5)');
      const item = await context.recommender.resolveItem(match[1]!);
      await context.recommender.rate(context.userId, item.id, stars);
      return lines(`rated ${item.title} (${item.id}) ${stars}/5`);
    },
  },
  persona: {
    usage: '/persona',
    summary: 'your taste group and what it likes',
    async run(_argument, context) {
      const report = await context.recommender.persona(context.userId);
      const likes = report.likes
        .slice(0, 5)
        .map((like) => like.title)
        .join(', ');
      return lines(
        `${context.userId}: ${report.persona}, predictions at ${report.level} level (${report.ratings} ratings, ${report.statements} stated preferences)`,
        ...(likes ? [`${report.persona} likes: ${likes}`] : []),
      );
    },
  },
  export: {
    usage: '/export',
    summary: 'write everything about you to a JSON file',
    async run(_argument, context) {
      const now = (context.now ?? (() => new Date()))();
      const document = await exportDocument(context.memory, userScope(context.userId), now);
      const memories = document.memories as unknown[];
      const safeUser = context.userId.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80);
      const file = join(context.exportDir, `export-${safeUser}-${now.toISOString().replace(/[:.]/g, '-')}.json`);
      mkdirSync(context.exportDir, { recursive: true });
      // Personal data: readable by its owner only.
      writeFileSync(file, `${JSON.stringify(document, null, 2)}\n`, { mode: 0o600 });
      return lines(`exported ${memories.length} memor${memories.length === 1 ? 'y' : 'ies'} to ${file}`);
    },
  },
  user: {
    usage: '/user NAME',
    summary: 'talk as someone else',
    run(argument) {
      if (!argument) return usageError('/user NAME');
      validateScope(userScope(argument));
      return { lines: [info(`now talking as ${argument}`)], action: { type: 'switch-user', userId: argument } };
    },
  },
  quit: { usage: '/quit', summary: 'leave (Ctrl+C too)', run: () => ({ lines: [], action: { type: 'quit' } }) },
};

const ALIASES: Readonly<Record<string, string>> = { exit: 'quit', q: 'quit', '?': 'help' };

/** The `/help` text, one command per line. */
export function helpLines(): TranscriptLine[] {
  const width = Math.max(...Object.values(COMMANDS).map((spec) => spec.usage.length));
  return [
    info('type a message to talk to the agent, or a command:'),
    ...Object.values(COMMANDS).map((spec) => info(`  ${spec.usage.padEnd(width)}  ${spec.summary}`)),
    info('Esc cancels a reply in progress; Ctrl+C quits'),
  ];
}

/**
 * Runs one slash command over the memory store and the recommender. Never throws: a mistake or failure becomes one
 * error line (no stack trace), and a line that is not a command is reported as such.
 *
 * @example
 * const { lines } = await runCommand('/remember allergic to cats', { memory, recommender, userId: 'ada', exportDir });
 */
export async function runCommand(line: string, context: ChatCommandContext): Promise<CommandResult> {
  const parsed = parseCommand(line);
  if (!parsed) return { lines: [{ kind: 'error', text: 'not a command (commands start with /)' }] };
  const spec = COMMANDS[ALIASES[parsed.name] ?? parsed.name];
  if (!spec) return { lines: [{ kind: 'error', text: `unknown command /${squeeze(parsed.name, 40)} (try /help)` }] };
  try {
    return await spec.run(parsed.argument, context);
  } catch (error) {
    const text = error instanceof MnemoError ? errorLine(error) : `unexpected error: ${errorLine(error)}`;
    return { lines: [{ kind: 'error', text }] };
  }
}

/** Options of {@link keepUnanswered}. */
export interface KeepUnansweredOptions {
  memory: Pick<ChatMemory, 'addEpisodes'>;
  /** Who said it. */
  userId: string;
  /** The conversation thread it belongs to (the episode's session). */
  threadId: string;
}

/**
 * A message said with no model configured: stored as an episode of the thread, as a turn would store it, so nothing
 * said is lost, and answered with one line that says so and how to configure a model. Never throws.
 *
 * @example
 * append(await keepUnanswered('I moved to Porto', { memory, userId: 'ada', threadId }));
 */
export async function keepUnanswered(
  text: string,
  { memory, userId, threadId }: KeepUnansweredOptions,
): Promise<TranscriptLine[]> {
  try {
    await memory.addEpisodes(userScope(userId), [{ text, role: 'user', session: threadId }]);
    return [{ kind: 'error', text: `message kept in memory; ${NO_MODEL_HELP}` }];
  } catch (error) {
    return [{ kind: 'error', text: `message not kept: ${errorLine(error)}; ${NO_MODEL_HELP}` }];
  }
}
