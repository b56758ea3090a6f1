import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../memory/index.js';

// Reading PrefEval's files (Zhao et al., ICLR 2025). The data is CC BY-NC and is never copied into this repository:
// the bench reads it by path, and the tests write their own synthetic files in the same shape.

/** One explicit preference: stated once, tested by a later question. */
export interface ExplicitItem {
  preference: string;
  question: string;
}

/** One multiple-choice item (`mcq_options/`): the first of its four options is the preference-aligned one. */
export interface McqItem {
  preference: string;
  question: string;
  classification_task_options: string[];
}

/** One implicit, choice-based item: the preference shows only in which option the user picked. */
export interface ImplicitItem {
  question: string;
  options: string[];
  aligned_op: string;
  conversation: { query: string; assistant_options: string; user_selection: string; assistant_acknowledgment: string };
}

/** One message of a filler conversation. */
export interface FillerMessage {
  role: string;
  content: string;
  /** The conversation it comes from (its session in memory). */
  conversationId: string;
}

/** One topic's items, index-aligned across the three files as PrefEval ships them. */
export interface PrefevalTopic {
  name: string;
  explicit: ExplicitItem[];
  mcq: McqItem[];
  /** Absent when the data set has no `implicit_preference/choice-based/` directory. */
  implicit?: ImplicitItem[];
}

export interface PrefevalData {
  topics: PrefevalTopic[];
  /** The filler conversations' messages, in file order (conversations concatenated, as PrefEval reads them). */
  filler: FillerMessage[];
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new InputError(`cannot read PrefEval data at ${path}: ${(error as Error).message}`, { cause: error });
  }
}

const isText = (value: unknown): value is string => typeof value === 'string' && value.trim() !== '';

function readItems<T>(path: string, valid: (item: Record<string, unknown>) => boolean): T[] {
  const items = readJson(path);
  if (!Array.isArray(items)) throw new InputError(`${path} is not a PrefEval topic file (expected a JSON array)`);
  items.forEach((item, index) => {
    if (typeof item !== 'object' || item === null || !valid(item as Record<string, unknown>))
      throw new InputError(`${path}: item ${index} lacks the fields PrefEval's items have`);
  });
  return items as T[];
}

const fourOptions = (value: unknown): boolean => Array.isArray(value) && value.length === 4 && value.every(isText);

/**
 * Reads the PrefEval directory: `explicit_preference/*.json` (the topics), `mcq_options/` with the same file names
 * and items in the same order (checked by question), `implicit_preference/choice-based/` when present, and
 * `filtered_inter_turns.json`.
 */
export function loadPrefeval(directory: string): PrefevalData {
  const explicitDirectory = join(directory, 'explicit_preference');
  if (!existsSync(explicitDirectory))
    throw new InputError(`${directory} is not the PrefEval data directory (no explicit_preference/ in it)`);
  const names = readdirSync(explicitDirectory)
    .filter((name) => name.endsWith('.json'))
    .sort();
  if (names.length === 0) throw new InputError(`${explicitDirectory} holds no topic files`);
  const implicitDirectory = join(directory, 'implicit_preference', 'choice-based');
  const hasImplicit = existsSync(implicitDirectory);

  const topics = names.map((file): PrefevalTopic => {
    const name = file.replace(/\.json$/, '');
    const explicit = readItems<ExplicitItem>(
      join(explicitDirectory, file),
      (item) => isText(item.preference) && isText(item.question),
    );
    const mcq = readItems<McqItem>(
      join(directory, 'mcq_options', file),
      (item) => isText(item.preference) && isText(item.question) && fourOptions(item.classification_task_options),
    );
    const aligned = (items: ReadonlyArray<{ question: string }>, what: string): void => {
      const mismatch = items.findIndex((item, index) => item.question !== explicit[index]?.question);
      if (items.length !== explicit.length || mismatch >= 0)
        throw new InputError(
          `${what}/${file} does not line up with explicit_preference/${file} (item ${mismatch >= 0 ? mismatch : items.length})`,
        );
    };
    aligned(mcq, 'mcq_options');
    const topic: PrefevalTopic = { name, explicit, mcq };
    if (hasImplicit) {
      const implicit = readItems<ImplicitItem>(join(implicitDirectory, file), (item) => {
        const conversation = item.conversation as Record<string, unknown> | undefined;
        return (
          isText(item.question) &&
          fourOptions(item.options) &&
          (item.options as string[]).includes(item.aligned_op as string) &&
          typeof conversation === 'object' &&
          conversation !== null &&
          ['query', 'assistant_options', 'user_selection', 'assistant_acknowledgment'].every((key) =>
            isText(conversation[key]),
          )
        );
      });
      aligned(implicit, 'implicit_preference/choice-based');
      topic.implicit = implicit;
    }
    return topic;
  });

  const fillerPath = join(directory, 'filtered_inter_turns.json');
  const conversations = readJson(fillerPath);
  if (!Array.isArray(conversations))
    throw new InputError(`${fillerPath} is not PrefEval's filler file (expected a JSON array)`);
  const filler = conversations.flatMap((conversation: unknown, index): FillerMessage[] => {
    const { conversation_id: id, conversation: messages } = (conversation ?? {}) as Record<string, unknown>;
    if (!Array.isArray(messages))
      throw new InputError(`${fillerPath}: conversation ${index} has no "conversation" array`);
    return messages
      .filter(
        (message): message is { role: string; content: string } => isText(message?.role) && isText(message?.content),
      )
      .map((message) => ({ role: message.role, content: message.content, conversationId: String(id ?? index) }));
  });
  return { topics, filler };
}
