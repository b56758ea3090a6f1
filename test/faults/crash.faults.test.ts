import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnvironment } from '../helpers/cli.js';
import { faultCount, reportFaults } from '../helpers/faults.js';
import { sharedGloveEmbedder } from '../helpers/glove.js';
import {
  checkFile,
  type FileCheck,
  faultSeed,
  hasOpen,
  holdsWriteLock,
  LOCKS_VISIBLE,
  listMemories,
  type MnemoProcess,
  runMnemo,
  seededRandom,
  sleep,
  spawnMnemo,
  spinUntil,
} from '../helpers/mnemo-process.js';

// kill -9 as an operator's crash would deliver it: to the real `mnemo` binary, at a random moment, then a look at
// the file and a re-run. SQLite promises that a killed writer loses only its open transaction; these tests check
// that mnemo's writes are each one transaction (the whole ingest file, one fact with its vector and full-text entry).

const TURNS = 3000;
const seed = faultSeed();
const random = seededRandom(seed);
const homes: string[] = [];

/** A fresh data directory (its database not created yet) whose word-vector cache is the shared one. */
function environment(): NodeJS.ProcessEnv {
  const env = cliEnvironment();
  homes.push(env.HOME!);
  return env;
}

const sound = (check: FileCheck): boolean => check.integrity === 'ok' && check.torn === 0;

/** Polls until `victim` ends or `kill` says it is time; kills it with SIGKILL then. Returns whether it was killed. */
async function killWhen(victim: MnemoProcess, kill: () => boolean): Promise<boolean> {
  let ended = false;
  void victim.exited.then(() => (ended = true));
  while (!ended) {
    if (kill()) return victim.child.kill('SIGKILL');
    await sleep(2);
  }
  return false;
}

beforeAll(async () => {
  await sharedGloveEmbedder(); // the CLI's word-vector cache, built once for the run
}, 120_000);

afterAll(() => {
  for (const home of homes) rmSync(home, { recursive: true, force: true });
});

describe('kill -9', () => {
  it(
    'during mnemo ingest: the file stays sound, and a re-run stores every line exactly once',
    async () => {
      const env = environment();
      const db = env.MNEMO_DB!;
      const file = join(env.HOME!, 'turns.jsonl');
      const ids = Array.from({ length: TURNS }, (_, index) => `turn-${index}`);
      writeFileSync(
        file,
        ids
          .map((id, index) =>
            JSON.stringify({
              text: `turn ${index}: we talked about the greyhound, the beach in Lisbon and a film called number ${index}`,
              role: index % 2 === 0 ? 'user' : 'assistant',
              at: new Date(Date.UTC(2024, 0, 1) + index * 60_000).toISOString(),
              session: `s${Math.floor(index / 100)}`,
              id,
            }),
          )
          .join('\n'),
      );

      // A first, uninterrupted ingest: its turns must survive every later kill, and it times the write transaction
      // (the longest hold of the write lock; creating the schema holds it too, briefly).
      const first = spawnMnemo(env, ['ingest', '--user', 'kept', file]);
      let holdStart: number | undefined;
      let window = 0;
      await killWhen(first, () => {
        const holding = holdsWriteLock(first.child.pid!, db);
        if (holding && holdStart === undefined) holdStart = Date.now();
        if (holdStart !== undefined) window = Math.max(window, Date.now() - holdStart);
        if (!holding) holdStart = undefined;
        return false;
      });
      const firstExit = await first.exited;
      expect(firstExit, firstExit.stderr).toMatchObject({ code: 0, stdout: `ingested ${TURNS} episodes for kept\n` });

      const rounds = faultCount(3, 30);
      const failures = { corrupt: 0, rerun: 0, partial: 0, lines: 0 };
      const landed = { inTransaction: 0, otherwise: 0, finishedFirst: 0 };
      for (let round = 0; round < rounds; round++) {
        const user = `crash-${round}`;
        // Once the process holds the write lock (it is writing), a random part of a whole write later, or the moment it
        // lets go of the lock if its write ends first. Where locks cannot be seen, a random moment after it started.
        const delay = random() * (LOCKS_VISIBLE ? window : 3000);
        let writingSince = LOCKS_VISIBLE ? undefined : Date.now();
        let inTransaction = false;
        const victim = spawnMnemo(env, ['ingest', '--user', user, file]);
        const killed = await killWhen(victim, () => {
          inTransaction = holdsWriteLock(victim.child.pid!, db);
          if (writingSince === undefined && inTransaction) writingSince = Date.now();
          if (writingSince === undefined) return false;
          return (LOCKS_VISIBLE && !inTransaction) || Date.now() - writingSince >= delay;
        });
        const exit = await victim.exited;
        if (!killed || exit.signal !== 'SIGKILL') landed.finishedFirst++;
        else if (inTransaction) landed.inTransaction++;
        else landed.otherwise++;

        const check = checkFile(db);
        if (!sound(check)) {
          failures.corrupt++;
          console.log(`round ${round}: integrity ${check.integrity}, ${check.torn} torn rows`);
        }

        // The same command again, to the end: one transaction, so the killed run stored all of it or none.
        const rerun = await runMnemo(env, ['ingest', '--user', user, file]);
        const counts = /^ingested (\d+) episodes? for \S+(?: \((\d+) already stored, skipped\))?\n$/.exec(rerun.stdout);
        if (rerun.code !== 0 || counts === null) {
          failures.rerun++;
          console.log(`round ${round}: re-run exited ${rerun.code}: ${rerun.stdout}${rerun.stderr}`);
          continue;
        }
        const stored = Number(counts[1]);
        const skipped = Number(counts[2] ?? 0);
        if (stored + skipped !== TURNS || (stored !== 0 && stored !== TURNS)) {
          failures.partial++;
          console.log(`round ${round}: the killed ingest left ${skipped} of ${TURNS} turns: ${rerun.stdout}`);
        }
        const listed = await listMemories(env, user);
        const seen = new Map<string, number>();
        for (const memory of listed) seen.set(memory.source.id ?? '', (seen.get(memory.source.id ?? '') ?? 0) + 1);
        if (listed.length !== TURNS || ids.some((id) => seen.get(id) !== 1)) {
          failures.lines++;
          console.log(`round ${round}: ${listed.length} memories listed, ${seen.size} distinct ids, ${TURNS} expected`);
        }
      }
      const kept = await listMemories(env, 'kept');
      const finalCheck = checkFile(db);

      const failed = reportFaults('kill -9 during mnemo ingest', [
        {
          fault: 'kill -9 during ingest',
          tried: rounds,
          failed: failures.corrupt + failures.rerun + failures.partial + failures.lines,
          note:
            `${landed.inTransaction} killed holding the write lock, ${landed.otherwise} as it let go, ` +
            `${landed.finishedFirst} finished first; corrupt file ${failures.corrupt}, failed re-run ${failures.rerun}, ` +
            `partial ingest ${failures.partial}, duplicate or missing lines ${failures.lines} (seed ${seed})`,
        },
        {
          fault: 'turns committed before the kills',
          tried: TURNS,
          failed: TURNS - new Set(kept.map((memory) => memory.source.id)).size + Math.max(0, kept.length - TURNS),
        },
        {
          fault: 'integrity after every round',
          tried: 1,
          failed: sound(finalCheck) ? 0 : 1,
          note: finalCheck.integrity,
        },
      ]);
      expect(failed).toEqual([]);
      expect(landed.inTransaction + landed.otherwise, 'no kill landed before the ingest finished').toBeGreaterThan(0);
    },
    faultCount(120_000, 600_000),
  );

  it(
    'during mnemo remember: every acknowledged fact is kept, the killed one is whole or absent',
    async () => {
      const env = environment();
      const db = env.MNEMO_DB!;
      const user = 'ada';
      const rounds = faultCount(3, 30);
      const concurrent = 4;
      /** Facts whose `remember` exited 0 having printed its line: id → text. */
      const acknowledged = new Map<string, string>();
      const killedTexts: string[] = [];
      const failures = { lost: 0, corrupt: 0, unexpected: 0, stray: 0 };
      const landed = { inTransaction: 0, beforeWrite: 0, afterCommit: 0, afterAck: 0, finishedFirst: 0 };

      // The file exists before the first kill (a kill during its creation is the concurrency test's first moment).
      const seedFact = await runMnemo(env, ['remember', '--user', user, 'seed: likes the sea']);
      expect(seedFact, seedFact.stderr).toMatchObject({ code: 0 });
      acknowledged.set(/^remembered (f\d+)/.exec(seedFact.stdout)![1]!, 'seed: likes the sea');

      for (let round = 0; round < rounds; round++) {
        const texts = Array.from({ length: concurrent }, (_, index) => `fact ${round}-${index}: likes greyhounds`);
        const processes = texts.map((text) => spawnMnemo(env, ['remember', '--user', user, text]));
        // One of them is killed. Half the rounds, at a random point of its fact's write transaction (it holds the
        // write lock for a few milliseconds; the check of the vector index as it opens holds it for microseconds), or
        // the moment it lets go of the lock if the transaction ends first; the other rounds, at a random moment after
        // it opened the file: loading word vectors, embedding, writing, printing or exiting.
        const victim = Math.floor(random() * concurrent);
        const atWrite = LOCKS_VISIBLE && random() < 0.5;
        const delay = atWrite ? 0.1 + random() * 2 : random() * 600;
        const target = processes[victim]!;
        const pid = target.child.pid!;
        let inTransaction = false;
        let writingSince: number | undefined;
        let openedAt: number | undefined;
        const killed = await killWhen(target, () => {
          if (openedAt === undefined && (hasOpen(pid, db) || !LOCKS_VISIBLE)) openedAt = Date.now();
          if (openedAt === undefined) return false;
          if (!atWrite) return Date.now() - openedAt >= delay;
          // From here to the end of its write is under a second; a timer-paced poll would miss the transaction.
          return spinUntil(
            pid,
            () => {
              inTransaction = holdsWriteLock(pid, db);
              if (writingSince === undefined) {
                if (inTransaction) writingSince = performance.now();
                return false;
              }
              return !inTransaction || performance.now() - writingSince >= delay;
            },
            3000,
          );
        });
        const exits = await Promise.all(processes.map((running) => running.exited));
        exits.forEach((exit, index) => {
          const line = /^remembered (f\d+)\s+\S+ fact: (.*)\n$/.exec(exit.stdout);
          // An acknowledgement is exit 0 and the printed line; the victim, killed after printing it, acknowledged too.
          if (line !== null && line[2] === texts[index] && (exit.code === 0 || index === victim))
            acknowledged.set(line[1]!, line[2]!);
          else if (index !== victim || exit.signal !== 'SIGKILL') {
            failures.unexpected++;
            console.log(`round ${round}: remember exited ${exit.code} ${exit.signal}: ${exit.stdout}${exit.stderr}`);
          }
        });
        const victimExit = exits[victim]!;
        if (!killed || victimExit.signal !== 'SIGKILL') landed.finishedFirst++;
        else if (victimExit.stdout !== '') landed.afterAck++;
        else if (inTransaction) landed.inTransaction++;
        else if (writingSince !== undefined) landed.afterCommit++;
        else landed.beforeWrite++;
        if (killed && victimExit.stdout === '') killedTexts.push(texts[victim]!);

        const check = checkFile(db);
        if (!sound(check)) {
          failures.corrupt++;
          console.log(`round ${round}: integrity ${check.integrity}, ${check.torn} torn rows`);
        }
        const listed = await listMemories(env, user);
        const byId = new Map(listed.map((memory) => [memory.id, memory.text]));
        for (const [id, text] of acknowledged) {
          if (byId.get(id) !== text) {
            failures.lost++;
            console.log(`round ${round}: acknowledged ${id} "${text}" is missing`);
          }
        }
        const expected = new Set([...acknowledged.values(), ...killedTexts]);
        const listedTexts = listed.map((memory) => memory.text);
        // The killed fact is there once or not at all, and nothing else is there that was not acknowledged.
        if (listedTexts.length !== new Set(listedTexts).size || listedTexts.some((text) => !expected.has(text))) {
          failures.stray++;
          console.log(`round ${round}: unexpected or repeated facts: ${listedTexts.join(' | ')}`);
        }
      }

      const failed = reportFaults('kill -9 during mnemo remember', [
        {
          fault: 'kill -9 during remember',
          tried: rounds,
          failed: failures.lost + failures.corrupt + failures.stray,
          note:
            `${acknowledged.size} acknowledged; kills: ${landed.inTransaction} holding the write lock, ` +
            `${landed.beforeWrite} before writing, ${landed.afterCommit} after its commit, ` +
            `${landed.afterAck} after the acknowledgement, ` +
            `${landed.finishedFirst} finished first; lost acknowledged writes ${failures.lost}, corrupt ` +
            `${failures.corrupt}, killed fact repeated or stray ${failures.stray} (seed ${seed})`,
        },
        {
          fault: 'concurrent remember beside the kill',
          tried: rounds * (concurrent - 1),
          failed: failures.unexpected,
          note: 'exit 0 and its "remembered" line',
        },
      ]);
      expect(failed).toEqual([]);
    },
    faultCount(120_000, 600_000),
  );
});
