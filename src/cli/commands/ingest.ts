import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { EpisodeInput } from '../../../memory/index.js';
import { decodeUtf8, MAX_FIELD, MAX_ROLE, MAX_TEXT, parseTime, userScope } from '../../../memory/index.js';
import { badLinesError, InputError } from '../../errors.js';
import { defineCommand, USER_OPTION } from '../command.js';
import { type CliIo, progressBar } from '../io.js';

const required = (what: string) => ({
  error: (issue: { input: unknown }) => (issue.input === undefined ? 'is required' : `must be ${what}`),
});

/** Waits this long for another process's write lock: parallel ingests into one file take turns. */
const INGEST_BUSY_TIMEOUT_MS = 5 * 60_000;

// The store's own limits, checked here so that every bad line is reported in one pass.
const longer = (max: number) => `is longer than ${max} characters`;
const label = z
  .union([z.string(), z.number()])
  .transform(String)
  .pipe(z.string().max(MAX_FIELD, longer(MAX_FIELD)));
const Line = z.object({
  text: z.string(required('a string')).trim().min(1, 'must be a non-empty string').max(MAX_TEXT, longer(MAX_TEXT)),
  role: z.string().min(1).max(MAX_ROLE, longer(MAX_ROLE)).optional(),
  at: z
    .string(required('an ISO-8601 date string'))
    .refine(
      (value) => !Number.isNaN(parseTime(value)),
      'must be an ISO-8601 date that exists, e.g. 2024-05-08T13:56:00Z',
    )
    .optional(),
  session: label.optional(),
  id: label.optional(),
});

/** Parses JSONL into episodes; every bad line is reported with its number, and nothing is returned if any is bad. */
export function parseEpisodesJsonl(content: string, name: string): EpisodeInput[] {
  const episodes: EpisodeInput[] = [];
  const problems: string[] = [];
  // Editors on Windows start UTF-8 files with a byte-order mark; it is not part of the first line's JSON.
  content
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .forEach((raw, index) => {
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
        problems.push(
          `line ${index + 1}: ${field}${issue.path.length === 0 ? 'must be a JSON object with "text"' : issue.message}`,
        );
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
  return episodes;
}

/** The bytes of FILE (or stdin for "-"), decoded as UTF-8: malformed bytes are refused, never replaced. */
async function readInput(file: string, io: CliIo): Promise<string> {
  const name = file === '-' ? 'stdin' : file;
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of io.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
    return decodeUtf8(Buffer.concat(chunks), name);
  }
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new InputError(
      `cannot read ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`,
    );
  }
  return decodeUtf8(bytes, name);
}

export const ingestCommand = defineCommand({
  name: 'ingest',
  summary: "append conversation turns from a JSONL file to a user's episodic memory",
  description: `
Appends one episode per line of FILE.jsonl (FILE "-" reads stdin). Each line is a JSON object:
  text     string, required   what was said or happened
  role     string             "user" (default), "assistant", or a speaker's name
  at       ISO-8601 string    when it happened (default: now)
  session  string            session or thread; neighbouring turns give each other context
  id       string            your own id for the turn, returned by search as source.id; a line
                             whose id the user already has is skipped, so a file ingested
                             twice is stored once (lines without id are always appended)

The whole file is one transaction: if any line is bad, every bad line is reported with its
number and nothing is written. An ingest waits up to 5 minutes for another process writing
to the same file.`,
  options: { user: { ...USER_OPTION.user, description: 'the user the turns belong to', required: true } },
  positionals: [{ name: 'FILE.jsonl' }],
  async run(context) {
    const user = context.values.user;
    const file = context.positionals[0]!;
    const episodes = parseEpisodesJsonl(await readInput(file, context.io), file === '-' ? 'stdin' : file);
    let stored = 0;
    if (episodes.length > 0) {
      const store = await context.openStore({ busyTimeoutMs: INGEST_BUSY_TIMEOUT_MS });
      try {
        const bar = progressBar(context.io, 'embedding');
        const onProgress = ({ done, total }: { done: number; total: number }) => bar.update(done, total);
        stored = (await store.addEpisodes(userScope(user), episodes, { skipKnownSourceIds: true, onProgress })).length;
        bar.finish();
      } finally {
        await store.close();
      }
    }
    const skipped = episodes.length - stored;
    context.io.stdout.write(
      `ingested ${stored} episode${stored === 1 ? '' : 's'} for ${user}${skipped > 0 ? ` (${skipped} already stored, skipped)` : ''}\n`,
    );
  },
});
