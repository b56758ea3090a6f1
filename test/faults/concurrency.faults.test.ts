import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnvironment } from '../helpers/cli.js';
import { faultCount, reportFaults } from '../helpers/faults.js';
import { sharedGloveEmbedder } from '../helpers/glove.js';
import {
  checkFile,
  faultSeed,
  hasOpen,
  isBusyRefusal,
  listMemories,
  type MnemoExit,
  runMnemo,
  seededRandom,
  sleep,
  spawnMnemo,
} from '../helpers/mnemo-process.js';

// Several `mnemo` processes writing one file at once, as an operator's scripts, a cron job and a chat would: loops of
// `remember` for two users (each loop picks the user at random, so the same user and different users are written at
// the same moment), and beside them the same JSONL file ingested by two processes at once. SQLite lets one writer in
// at a time and the others wait out the busy timeout; a write that cannot get in is refused with one line, never lost
// silently or stored for the wrong user.

const LOOPS = faultCount(2, 3);
const WRITES = faultCount(15, 200);
const INGESTS = faultCount(1, 5);
const TURNS = 1000;
const USERS = ['ada', 'grace'] as const;
const INGEST_USER = 'linus';
/** Busy refusals are allowed (the user is told to try again) but must stay rare: at most this share of commands. */
const BUSY_SHARE = 0.05;

const seed = faultSeed();

const homes: string[] = [];

/** Creates an empty database file in WAL mode, as the first `mnemo` does before its schema, and holds its write lock. */
function holdWriteLock(path: string): { release(): void } {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec('BEGIN IMMEDIATE');
  return {
    release() {
      db.exec('ROLLBACK');
      db.close();
    },
  };
}

beforeAll(async () => {
  await sharedGloveEmbedder(); // the CLI's word-vector cache, built once for the run
}, 120_000);

afterAll(() => {
  for (const home of homes) rmSync(home, { recursive: true, force: true });
});

describe('concurrent writers', () => {
  it(
    'remember loops for the same and different users beside two ingests: every write stored once, for its user',
    async () => {
      // The file does not exist yet: the first processes race to create it too.
      const env = cliEnvironment();
      const home = env.HOME!;
      homes.push(home);
      const db = env.MNEMO_DB!;

      const acknowledged = new Map<string, Map<string, string>>(USERS.map((user) => [user, new Map()]));
      const refused: string[] = [];
      const unexpected: string[] = [];
      let busy = 0;
      let commands = 0;

      /** A command's end: acknowledged (its line), refused as busy, or anything else (recorded as unexpected). */
      const settle = (
        command: string,
        exit: MnemoExit,
        expected: RegExp,
        what: string,
      ): RegExpExecArray | 'busy' | 'unexpected' => {
        commands++;
        const line = expected.exec(exit.stdout);
        if (exit.code === 0 && exit.stderr === '' && line !== null) return line;
        if (isBusyRefusal(exit, command)) {
          busy++;
          return 'busy';
        }
        unexpected.push(`${what}: exit ${exit.code ?? exit.signal}, stdout ${exit.stdout} stderr ${exit.stderr}`);
        return 'unexpected';
      };

      // Each loop draws from its own generator, so the seed replays its choices however the loops interleave.
      const rememberLoop = async (loop: number): Promise<void> => {
        const random = seededRandom(seed + loop + 1);
        for (let write = 0; write < WRITES; write++) {
          const user = USERS[Math.floor(random() * USERS.length)]!;
          const text = `${user} note ${loop}-${write}: prefers tea over coffee`;
          const exit = await runMnemo(env, ['remember', '--user', user, text]);
          const line = settle('remember', exit, /^remembered (f\d+)\s+\S+ fact: (.*)\n$/, `remember "${text}"`);
          if (line === 'busy') refused.push(text);
          else if (line === 'unexpected') continue;
          else if (line[2] !== text) unexpected.push(`remember "${text}" acknowledged as "${line[2]}"`);
          else acknowledged.get(user)!.set(line[1]!, text);
        }
      };

      const ingestIds: string[] = [];
      const ingestRounds: string[] = [];
      const ingestLoop = async (): Promise<void> => {
        const random = seededRandom(seed);
        for (let round = 0; round < INGESTS; round++) {
          // Start once the remember loops are under way, then keep a gap so the rounds spread over their run.
          await sleep(1000 + random() * 2000);
          const file = join(home, `turns-${round}.jsonl`);
          const ids = Array.from({ length: TURNS }, (_, index) => `r${round}-turn-${index}`);
          writeFileSync(
            file,
            ids
              .map((id, index) =>
                JSON.stringify({
                  text: `round ${round} turn ${index}: the greyhound ran on the beach`,
                  session: round,
                  id,
                }),
              )
              .join('\n'),
          );
          ingestIds.push(...ids);
          // The same file twice at once: the ids are checked again under the write lock, so it is stored once.
          const exits = await Promise.all([1, 2].map(() => runMnemo(env, ['ingest', '--user', INGEST_USER, file])));
          const counts = exits.map((exit) => {
            const line = settle(
              'ingest',
              exit,
              /^ingested (\d+) episodes? for \S+(?: \((\d+) already stored, skipped\))?\n$/,
              `ingest round ${round}`,
            );
            return typeof line === 'string' ? 0 : Number(line[1]);
          });
          const stored = counts[0]! + counts[1]!;
          ingestRounds.push(counts.join('+'));
          if (stored !== TURNS) unexpected.push(`ingest round ${round}: the two ingests stored ${stored} of ${TURNS}`);
        }
      };

      const started = Date.now();
      await Promise.all([...Array.from({ length: LOOPS }, (_, loop) => rememberLoop(loop)), ingestLoop()]);
      const seconds = (Date.now() - started) / 1000;

      // Each user's memory against what was acknowledged for them.
      let lost = 0;
      let stray = 0;
      let listed = 0;
      const lists = await Promise.all([...USERS, INGEST_USER].map((user) => listMemories(env, user)));
      for (const [index, user] of USERS.entries()) {
        const memories = lists[index]!;
        listed += memories.length;
        const byId = new Map(memories.map((memory) => [memory.id, memory]));
        for (const [id, text] of acknowledged.get(user)!) {
          if (byId.get(id)?.text !== text) {
            lost++;
            console.log(`${user}: acknowledged ${id} "${text}" is missing`);
          }
        }
        for (const memory of memories) {
          if (acknowledged.get(user)!.get(memory.id) !== memory.text) {
            stray++;
            console.log(`${user}: ${memory.id} "${memory.text}" was not acknowledged for ${user}`);
          }
        }
      }
      const ingested = lists[USERS.length]!;
      listed += ingested.length;
      const expectedIds = new Set(ingestIds);
      const seen = new Map<string, number>();
      for (const memory of ingested) {
        const id = memory.source.id ?? '';
        seen.set(id, (seen.get(id) ?? 0) + 1);
        if (memory.kind !== 'episode' || !expectedIds.has(id)) {
          stray++;
          console.log(`${INGEST_USER}: ${memory.id} "${memory.text}" was not ingested for ${INGEST_USER}`);
        }
      }
      const missingLines = ingestIds.filter((id) => seen.get(id) !== 1).length;
      lost += missingLines;
      const check = checkFile(db);
      const remembered = LOOPS * WRITES;
      const ackCount = USERS.reduce((sum, user) => sum + acknowledged.get(user)!.size, 0);

      for (const problem of unexpected) console.log(problem);
      const failed = reportFaults('concurrent writers on one file', [
        {
          fault: `${LOOPS} remember loops, same and different users`,
          tried: remembered,
          failed: unexpected.filter((problem) => problem.startsWith('remember')).length,
          note: `exit 0 and its line, or exit 1 busy (${seconds.toFixed(0)} s, seed ${seed})`,
        },
        {
          fault: 'the same file ingested twice at once',
          tried: INGESTS * 2,
          failed: unexpected.filter((problem) => problem.startsWith('ingest')).length,
          note: `lines stored by each of the two: ${ingestRounds.join(', ')}`,
        },
        {
          fault: 'acknowledged write lost',
          tried: ackCount + ingestIds.length,
          failed: lost,
          note: `${missingLines} ingested lines missing or repeated`,
        },
        {
          fault: "write in another user's memory or unacknowledged",
          tried: listed,
          failed: stray,
          note: 'a refused write must be absent too',
        },
        {
          fault: 'busy refusal (exit 1, "try again")',
          tried: commands,
          failed: busy > commands * BUSY_SHARE ? busy : 0,
          note: `${busy} refused as busy, ${refused.length} of them remember; at most ${BUSY_SHARE * 100}% allowed`,
        },
        {
          fault: 'integrity_check, every row whole',
          tried: 1,
          failed: check.integrity === 'ok' && check.torn === 0 ? 0 : 1,
          note: `${check.integrity}, ${check.torn} torn rows`,
        },
      ]);
      expect(failed).toEqual([]);
    },
    faultCount(120_000, 900_000),
  );

  it(
    'first use: three processes that open a new file at once all get in',
    async () => {
      // The schema is created by the first process that opens the file; the others must wait for it, not create it
      // again. Every other round lets them race as they come; in the others the test holds the write lock of the new
      // (empty, WAL) file while they open it, as a slow first process would, so all of them meet at the same moment.
      const rounds = faultCount(2, 20);
      const writers = ['ada', 'grace', 'ada'];
      const failures: string[] = [];
      let busy = 0;
      for (let round = 0; round < rounds; round++) {
        const env = cliEnvironment();
        homes.push(env.HOME!);
        const db = env.MNEMO_DB!;
        const held = round % 2 === 1 ? holdWriteLock(db) : undefined;
        const texts = writers.map((user, index) => `${user} first ${round}-${index}: reads at night`);
        const running = writers.map((user, index) => spawnMnemo(env, ['remember', '--user', user, texts[index]!]));
        if (held) {
          // Let go once every process has the file open (or after 10 s), well within their 5 s busy timeout.
          const until = Date.now() + 10_000;
          while (Date.now() < until && !running.every(({ child }) => hasOpen(child.pid!, db))) await sleep(5);
          await sleep(100);
          held.release();
        }
        const exits = await Promise.all(running.map(({ exited }) => exited));
        const acknowledged = new Map<string, string[]>();
        exits.forEach((exit, index) => {
          const line = /^remembered (f\d+)\s+\S+ fact: (.*)\n$/.exec(exit.stdout);
          if (exit.code === 0 && line?.[2] === texts[index])
            acknowledged.set(writers[index]!, [...(acknowledged.get(writers[index]!) ?? []), texts[index]!]);
          else if (isBusyRefusal(exit, 'remember')) busy++;
          else failures.push(`round ${round}: exit ${exit.code}: ${exit.stdout}${exit.stderr.trim()}`);
        });
        for (const user of new Set(writers)) {
          const stored = (await listMemories(env, user)).map((memory) => memory.text).sort();
          const expected = (acknowledged.get(user) ?? []).sort();
          if (JSON.stringify(stored) !== JSON.stringify(expected))
            failures.push(
              `round ${round}: ${user} has ${JSON.stringify(stored)}, acknowledged ${JSON.stringify(expected)}`,
            );
        }
        const check = checkFile(env.MNEMO_DB!);
        if (check.integrity !== 'ok' || check.torn !== 0)
          failures.push(`round ${round}: ${check.integrity}, ${check.torn} torn`);
      }
      for (const failure of failures) console.log(failure);
      const failed = reportFaults('first use of a new file by concurrent writers', [
        {
          fault: '3 remember processes open a new file at once',
          tried: rounds * writers.length,
          failed: failures.length,
          note: `${rounds - Math.floor(rounds / 2)} rounds as they came, ${Math.floor(rounds / 2)} met at the write lock; ${busy} refused as busy`,
        },
      ]);
      expect(failed).toEqual([]);
    },
    faultCount(120_000, 600_000),
  );
});
