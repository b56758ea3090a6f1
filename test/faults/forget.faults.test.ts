import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnvironment, mnemo } from '../helpers/cli.js';
import { faultCount, reportFaults } from '../helpers/faults.js';
import { occurrencesInDatabase } from '../helpers/files.js';
import { sharedGloveEmbedder } from '../helpers/glove.js';
import { contentText, type OpenAIServer, startOpenAIServer } from '../helpers/openai-server.js';

// Forget, then scan the database and its write-ahead log byte for byte, over every kind of data a user leaves:
// ingested turns with their sessions and source ids, facts and their superseded history, conversation threads
// (their names and checkpoints, through `mnemo ask --thread`), facts the model extracted, ratings, and a persona
// placed by hand. Every string a user leaves carries a marker unique to them, so one needle per kind finds any copy.

let server: OpenAIServer;

beforeAll(async () => {
  await sharedGloveEmbedder();
  // The chat model: answers plainly, and the extraction call adds a fact carrying the person's marker.
  server = await startOpenAIServer({
    fallback: (request) => {
      const system = contentText(request.body.messages?.[0]?.content);
      const last = contentText(request.body.messages?.at(-1)?.content);
      if (system.includes('long-term memory about a person')) {
        const marker = /mk\w+/.exec(last)?.[0] ?? 'none';
        return {
          text: JSON.stringify({ changes: [{ op: 'add', kind: 'fact', text: `extracted-${marker} likes tea` }] }),
        };
      }
      return { text: 'Noted.' };
    },
  });
});
afterAll(() => server.close());

/** What one user leaves, by kind, each with the needle that finds it. */
const kinds = (marker: string) => ({
  'user id': `user-${marker}`,
  'ingested turns': `turn-${marker}`,
  sessions: `sess-${marker}`,
  'source ids': `src-${marker}`,
  'current facts': `fact-${marker}`,
  'fact history (superseded)': `old-${marker}`,
  'thread names': `thr-${marker}`,
  'chat turns': `said-${marker}`,
  'extracted facts': `extracted-${marker}`,
  'persona placed by hand': `persona-${marker}`,
});

describe('forget, then scan the files', () => {
  it('leaves no byte of a forgotten user, of any kind, while the others keep theirs', {
    timeout: 600_000,
  }, async () => {
    const env = cliEnvironment({ OPENAI_BASE_URL: server.baseURL, OPENAI_API_KEY: 'sk-test', MNEMO_MODEL: 'm' });
    const db = env.MNEMO_DB!;
    const run = async (...argv: string[]) => {
      const result = await mnemo(env, argv);
      if (result.code !== 0) throw new Error(`mnemo ${argv.join(' ')} exited ${result.code}: ${result.stderr}`);
      return result.stdout;
    };
    const catalog = join(env.HOME!, 'catalog.csv');
    writeFileSync(
      catalog,
      ['id,title,tags', ...Array.from({ length: 12 }, (_, i) => `m${i},Film number ${i} (199${i % 10}),Drama`)].join(
        '\n',
      ),
    );
    await run('catalog', 'import', catalog);

    const users = Array.from(
      { length: faultCount(6, 24) },
      (_, index) => `mk${index}q${Math.random().toString(36).slice(2, 8)}`,
    );
    for (const [index, marker] of users.entries()) {
      const user = `user-${marker}`;
      const file = join(env.HOME!, `${marker}.jsonl`);
      const turns = Array.from({ length: 12 }, (_, turn) =>
        JSON.stringify({
          text: `turn-${marker} number ${turn} about the garden`,
          session: `sess-${marker}-${turn % 3}`,
          id: `src-${marker}-${turn}`,
        }),
      );
      writeFileSync(file, `${turns.join('\n')}\n`);
      await run('ingest', '--user', user, file);
      const old = JSON.parse(await run('remember', '--user', user, '--json', `old-${marker} lives in Lyon`)) as {
        id: string;
      };
      await run('remember', '--user', user, '--supersedes', old.id, `fact-${marker} lives in Oslo`);
      for (let thread = 0; thread < 2; thread++)
        await run(
          'ask',
          '--user',
          user,
          '--thread',
          `thr-${marker}-${thread}`,
          `said-${marker} hello in thread ${thread}`,
        );
      for (let item = 0; item < 3; item++)
        await run(
          'rate',
          '--user',
          user,
          '--item',
          `m${(index + item) % 12}`,
          '--stars',
          String(1 + ((index + item) % 5)),
        );
      await run('persona', '--user', user, '--set', `persona-${marker}`);
    }

    const forgotten = users.filter((_, index) => index % 2 === 0);
    const kept = users.filter((_, index) => index % 2 === 1);
    type Kind = keyof ReturnType<typeof kinds>;
    const residueAt = (marker: string): Kind[] =>
      (Object.entries(kinds(marker)) as Array<[Kind, string]>)
        .filter(([, needle]) => occurrencesInDatabase(db, needle) > 0)
        .map(([kind]) => kind);
    // Scanned right after each forget, and again at the end, when every other user's writes have come after it.
    const rightAfter = new Map<string, Kind[]>();
    for (const marker of forgotten) {
      const said = await run('forget', '--user', `user-${marker}`);
      expect(said).toMatch(/deleted/);
      rightAfter.set(marker, residueAt(marker));
    }
    const atEnd = new Map(forgotten.map((marker) => [marker, residueAt(marker)]));

    const rows = (Object.keys(kinds('')) as Kind[]).map((kind) => {
      const residue = forgotten.filter(
        (marker) => rightAfter.get(marker)!.includes(kind) || atEnd.get(marker)!.includes(kind),
      );
      // The scan must see what is there: the kept users' copies of the same kind.
      const missing = kept.filter((marker) => occurrencesInDatabase(db, kinds(marker)[kind]) === 0);
      return {
        fault: `forget --user, then scan: ${kind}`,
        tried: forgotten.length,
        failed: residue.length + missing.length,
        ...(residue.length + missing.length > 0
          ? { note: `residue: ${residue.join(' ')} missing for kept: ${missing.join(' ')}` }
          : {}),
      };
    });
    // The kept users' ratings and exports are whole.
    const exported = JSON.parse(await run('export', '--user', `user-${kept[0]}`)) as {
      ratings: unknown[];
      persona: unknown;
    };
    rows.push({
      fault: 'kept user still exported whole',
      tried: 1,
      failed: exported.ratings.length === 3 && exported.persona ? 0 : 1,
    });
    expect(reportFaults('forget-then-scan over every kind of data', rows)).toEqual([]);
  });
});
