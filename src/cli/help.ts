import { ENVIRONMENT, type EnvironmentName, type EnvironmentVariable } from '../config.js';
import type { Command, OptionSpec, OptionSpecs } from './command.js';

/** Help text is wrapped to this many columns. */
export const HELP_WIDTH = 100;

/** The options every command takes; the CLI parses them for each. */
export const GLOBAL_OPTIONS = {
  db: {
    type: 'string',
    value: 'PATH|URL',
    description: `database file or postgres:// URL (default: $MNEMO_DB, else ${ENVIRONMENT.MNEMO_DB.otherwise})`,
  },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
} as const satisfies OptionSpecs;

/** Words of `text` in lines of at most `width` columns (a longer word gets a line of its own). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line];
}

/** Two aligned columns, the second wrapped under itself (a `\n` in it breaks the line): every list in `--help`. */
export function columns(rows: ReadonlyArray<readonly [string, string]>): string {
  const left = Math.max(...rows.map(([term]) => term.length)) + 2;
  return rows
    .map(([term, description]) =>
      description
        .split('\n')
        .flatMap((paragraph) => wrap(paragraph, HELP_WIDTH - left - 2))
        .map((line, index) => `  ${(index === 0 ? term : '').padEnd(left)}${line}`.trimEnd())
        .join('\n'),
    )
    .join('\n');
}

/** `--user U`, `--json`. */
const flag = (name: string, spec: OptionSpec): string => `--${name}${spec.type === 'boolean' ? '' : ` ${spec.value}`}`;

/** The members of each `oneOf` group, by group. */
function groups(options: OptionSpecs): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const [name, spec] of Object.entries(options)) {
    if (!('oneOf' in spec) || spec.oneOf === undefined) continue;
    found.set(spec.oneOf, [...(found.get(spec.oneOf) ?? []), name]);
  }
  return found;
}

/** How a usage mistake names a group: `--user U, --persona NAME, --global`. */
export const groupFlags = (options: OptionSpecs, members: readonly string[]): string =>
  members.map((name) => flag(name, options[name]!)).join(', ');

/** The rows of an options list: `-u, --user U` and what it does, with its range, default and whether required. */
export function optionRows(options: OptionSpecs): Array<[string, string]> {
  const grouped = groups(options);
  return Object.entries(options).map(([name, spec]) => {
    const notes: string[] = [];
    if (spec.type === 'integer') notes.push(`${spec.min} to ${spec.max}`);
    if (spec.type === 'integer' && spec.default !== undefined) notes.push(`default ${spec.default}`);
    if (spec.type !== 'boolean' && spec.required) notes.push('required');
    const group = 'oneOf' in spec && spec.oneOf !== undefined ? grouped.get(spec.oneOf)! : undefined;
    if (group?.[0] === name) notes.push(`one of ${group.map((member) => `--${member}`).join(', ')} is required`);
    const term = `${spec.short ? `-${spec.short}, ` : '    '}${flag(name, spec)}`;
    return [term, notes.length > 0 ? `${spec.description} (${notes.join(', ')})` : spec.description];
  });
}

/** `MNEMO_MODEL  chat model ... (default gpt-4o-mini)` for each named variable. */
export function environmentRows(names: readonly EnvironmentName[]): Array<[string, string]> {
  return names.map((name) => {
    const variable: EnvironmentVariable = ENVIRONMENT[name];
    const otherwise =
      variable.default !== undefined
        ? ` (default ${variable.default})`
        : variable.otherwise
          ? ` (default: ${variable.otherwise})`
          : '';
    return [name, `${variable.description}${otherwise}`];
  });
}

/** `Usage: mnemo search (--user U | --persona NAME | --global) [--k N] ... "query"`, wrapped under itself. */
export function usageLine(command: Command): string {
  const grouped = groups(command.options);
  const words: string[] = [];
  for (const [name, spec] of Object.entries(command.options)) {
    const group = 'oneOf' in spec && spec.oneOf !== undefined ? grouped.get(spec.oneOf)! : undefined;
    if (group) {
      if (group[0] === name)
        words.push(`(${group.map((member) => flag(member, command.options[member]!)).join(' | ')})`);
    } else if (spec.type !== 'boolean' && spec.required) words.push(flag(name, spec));
    else words.push(`[${flag(name, spec)}]`);
  }
  words.push(...command.positionals.map((positional) => positional.name));
  const lead = `Usage: mnemo ${command.name} `;
  // Wrapped by bracketed terms, never inside one: `[--k N]` stays on one line.
  const lines: string[] = [];
  let line = '';
  for (const word of words) {
    if (line && lead.length + line.length + 1 + word.length > HELP_WIDTH) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line].map((text, index) => `${index === 0 ? lead : ' '.repeat(lead.length)}${text}`).join('\n');
}

/** A command's `--help`: usage, description, options (its own, then --db and --help), environment, notes. */
export function commandHelp(command: Command): string {
  const { db, help } = GLOBAL_OPTIONS;
  const options = { ...command.options, ...(command.database === false ? {} : { db }), help };
  const sections = [
    usageLine(command),
    // Only blank lines are trimmed: a description may start with an indented line.
    command.description.replace(/^\s*\n/, '').trimEnd(),
    `Options:\n${columns(optionRows(options))}`,
    ...(command.environment ? [`Environment:\n${columns(environmentRows(command.environment))}`] : []),
    ...(command.notes ? [command.notes.trim()] : []),
  ];
  return `${sections.join('\n\n')}\n`;
}
