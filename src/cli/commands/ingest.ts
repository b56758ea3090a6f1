import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { badLinesError, InputError } from '../../errors.js';
import type { EpisodeInput } from '../../../memory/types.js';
import { userScope } from '../../../memory/types.js';
import { requireFlag, USER_OPTION, type Command } from '../command.js';
import { progressBar, type CliIo } from '../io.js';

const required = (what: string) => ({ error: (issue: { input: unknown }) => (issue.input === undefined ? 'is required' : `must be ${what}`) });

const Line = z.object({
  text: z.string(required('a string')).trim().min(1, 'must be a non-empty string'),
  role: z.string().min(1).max(200).optional(),
  at: z
    .string(required('an ISO-8601 date string'))
    .refine((value) => !Number.isNaN(Date.parse(value)), 'must be an ISO-8601 date, e.g. 2024-05-08T13:56:00Z')
    .optional(),
  session: z.union([z.string(), z.number()]).transform(String).optional(),
  id: z.union([z.string(), z.number()]).transform(String).optional(),
});

/** Parses JSONL into episodes; every bad line is reported with its number, and nothing is returned if any is bad. */
export function parseEpisodesJsonl(content: string, name: string): EpisodeInput[] {
  const episodes: EpisodeInput[] = [];
  const problems: string[] = [];
  content.split(/\r?\n/).forEach((raw, index) => {
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      problems.push(`line ${index + 1}: not valid JSON (${(error as Error).message})`);
      return;
    }
    const parsed = Line.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.length > 0 ? `"${issue.path.join('.')}" ` : '';
      problems.push(`line ${index + 1}: ${field}${issue.path.length === 0 ? 'must be a JSON object with "text"' : issue.message}`);
      return;
    }
    const line = parsed.data;
    episodes.push({
      text: line.text,
      ...(line.role !== undefined ? { role: line.role } : {}),
      ...(line.at !== undefined ? { at: line.at } : {}),
      ...(line.session !== undefined ? { session: line.session } : {}),
      ...(line.id !== undefined ? { sourceId: line.id } : {}),
    });
  });
  if (problems.length > 0) throw badLinesError(name, problems);
  if (episodes.length === 0) throw new InputError(`${name}: no episodes (the file is empty)`, { code: 'invalid_input' });
  return episodes;
}

async function readInput(file: string, io: CliIo): Promise<string> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of io.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new InputError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
}

export const ingestCommand: Command = {
  name: 'ingest',
  summary: 'append conversation turns from a JSONL file to a user\'s episodic memory',
  help: `Usage: mnemo ingest --user U FILE.jsonl     (FILE "-" reads stdin)

Appends one episode per line. Each line is a JSON object:
  text     string, required   what was said or happened
  role     string             "user" (default), "assistant", or a speaker's name
  at       ISO-8601 string    when it happened (default: now)
  session  string            session or thread; neighbouring turns give each other context
  id       string            your own id for the turn, returned by search as source.id

The whole file is one transaction: if any line is bad, every bad line is reported with its
number and nothing is written.

Options:
  -u, --user U   the user the turns belong to (required)
      --db PATH  database file (default: $MNEMO_DB, else ~/.local/share/mnemo/mnemo.db)
  -h, --help     show this help
`,
  options: { ...USER_OPTION },
  positionals: [1, 1],
  async run(context) {
    const user = requireFlag(context, 'user');
    const file = context.positionals[0]!;
    const episodes = parseEpisodesJsonl(await readInput(file, context.io), file === '-' ? 'stdin' : file);
    const store = await context.openStore();
    try {
      const bar = progressBar(context.io, 'embedding');
      const stored = await store.addEpisodes(userScope(user), episodes, { onProgress: ({ done, total }) => bar.update(done, total) });
      bar.finish();
      context.io.stdout.write(`ingested ${stored.length} episode${stored.length === 1 ? '' : 's'} for ${user}\n`);
    } finally {
      store.close();
    }
  },
};
