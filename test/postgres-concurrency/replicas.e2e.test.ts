import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, expect, it } from 'vitest';
import type { MemoryStore } from '../../memory/port.js';
import { type Memory, userScope } from '../../memory/types.js';
import { openStore } from '../../src/storage.js';
import {
  describeUnless,
  describeWithConcurrencyServer,
  dropFreshDatabases,
  freshDatabase,
  PGVECTOR_URL,
} from '../helpers/postgres.js';
import { openReplica, replicaEmbedder } from './open.js';
import type { ReplicaPlan, ReplicaReport, ReplicaUser, TurnRecord } from './replica.js';

// Two mnemo replicas, each its own OS process with its own pool, share one database as they would behind a load
// balancer: both talk to users u5..u9 at once (on their own threads), both see every Slack delivery, and one
// forgets u7 while the other goes on talking to u7. Checked afterwards from a third connection.

const REPLICA = join(import.meta.dirname, 'replica.ts');

// Each user's messages carry a word no one else's do, so any copy of it under another user is a leak.
const WORDS = [
  'amberfinch',
  'basaltwren',
  'cinderlark',
  'duskmoth',
  'emberquill',
  'fenwillow',
  'gorsehawk',
  'hollyrook',
  'irisvole',
  'junipertoad',
  'kelpheron',
  'lichenmole',
  'marshotter',
  'nettlewasp',
  'oakenswift',
];
const USERS: readonly ReplicaUser[] = WORDS.map((word, i) => ({ id: `u${i}`, word }));
const KEYS = Array.from({ length: 100 }, (_, i) => `event:EvReplica${i}`);
/** B claims the same keys in another order (37 is prime to 100), so the two meet on keys all through the run. */
const KEYS_OF_B = KEYS.map((_, i) => KEYS[(i * 37) % KEYS.length]!);
/**
 * Forgotten by B before its round FORGET_ROUND, while A holds its turn of them in round HELD_ROUND in flight; A goes on
 * talking to them, and twice more once told the forget happened.
 */
const FORGOTTEN = 'u7';
const FORGET_ROUND = 3;
const HELD_ROUND = 1;

const plans = (url: string, vectors: ReplicaPlan['vectors']): [ReplicaPlan, ReplicaPlan] => {
  const common = { url, vectors, everyone: USERS, rounds: 6, threadsPerUser: 2, concurrency: 4, keys: KEYS };
  return [
    {
      ...common,
      name: 'A',
      users: USERS.slice(0, 10),
      hold: { user: FORGOTTEN, round: HELD_ROUND },
      afterForget: { user: FORGOTTEN, turns: 2 },
    },
    {
      ...common,
      name: 'B',
      users: USERS.slice(5, 15),
      forget: { user: FORGOTTEN, beforeRound: FORGET_ROUND, afterHolding: true },
      keys: KEYS_OF_B,
    },
  ];
};

interface Replica {
  readonly child: ChildProcessWithoutNullStreams;
  /** Resolves with the first stdout line of this type, parsed. */
  line(type: string): Promise<Record<string, unknown>>;
  readonly exit: Promise<{ code: number | null; stderr: string }>;
}

function startReplica(plan: ReplicaPlan): Replica {
  const child = spawn(process.execPath, ['--import', 'tsx', REPLICA, JSON.stringify(plan)], { stdio: 'pipe' });
  const lines: Array<Record<string, unknown>> = [];
  const waiting: Array<() => void> = [];
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  createInterface({ input: child.stdout }).on('line', (text) => {
    try {
      lines.push(JSON.parse(text) as Record<string, unknown>);
    } catch {
      stderr += `(stdout) ${text}\n`;
    }
    for (const wake of waiting.splice(0)) wake();
  });
  const exit = new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      resolve({ code, stderr });
      for (const wake of waiting.splice(0)) wake();
    });
  });
  let closed = false;
  void exit.then(() => (closed = true));
  return {
    child,
    exit,
    async line(type) {
      for (;;) {
        const found = lines.find((line) => line.type === type);
        if (found) return found;
        if (closed || child.exitCode !== null)
          throw new Error(`replica ${plan.name} exited (${child.exitCode}) before saying ${type}:\n${stderr}`);
        await new Promise<void>((resolve) => waiting.push(resolve));
      }
    },
  };
}

/** Runs both replicas on `url` and returns their reports. */
async function runReplicas(url: string, vectors: ReplicaPlan['vectors']): Promise<[ReplicaReport, ReplicaReport]> {
  const [a, b] = plans(url, vectors).map(startReplica) as [Replica, Replica];
  try {
    // Both open (migrations, checkpointer setup) before either starts, so their turns overlap from the first.
    await Promise.all([a.line('ready'), b.line('ready')]);
    a.child.stdin.write('go\n');
    b.child.stdin.write('go\n');
    const relayed = Promise.all([
      a.line('holding').then(() => b.child.stdin.write('holding\n')),
      b.line('forgot').then(() => a.child.stdin.write('forgot\n')),
    ]);
    const [reportA, reportB] = await Promise.all([a.line('report'), b.line('report'), relayed]);
    for (const [name, replica] of [
      ['A', a],
      ['B', b],
    ] as const) {
      const { code, stderr } = await replica.exit;
      expect(code, `replica ${name}: ${stderr}`).toBe(0);
    }
    return [reportA as unknown as ReplicaReport, reportB as unknown as ReplicaReport];
  } finally {
    for (const replica of [a, b]) if (replica.child.exitCode === null) replica.child.kill('SIGKILL');
  }
}

const sorted = (texts: Iterable<string>): string[] => [...texts].sort();

/** What the third connection finds, checked against what the replicas report they did. */
async function checkRun(store: MemoryStore, [a, b]: [ReplicaReport, ReplicaReport]): Promise<void> {
  if (store.backend.kind !== 'postgres') throw new Error('not a PostgreSQL store');
  const { pool } = store.backend;
  const turns = [...a.turns, ...b.turns];
  expect(turns).toHaveLength(10 * 6 + 2 + 10 * 6 - 3); // B has no turns for u7 from round 3 on

  // Every turn ran to its end with the scripted reply. The only error allowed is extraction's supersede refused
  // because the other replica closed that fact first (one of two concurrent supersedes wins).
  for (const turn of turns) {
    expect(turn.failed, `${turn.tag} ${turn.user}`).toBeUndefined();
    expect(turn.reply, `${turn.tag} ${turn.user}`).toBe(turn.replyText);
    expect(turn.errors.filter((error) => !/is no longer current/.test(error.message))).toEqual([]);
  }
  // No other user's word reached the model for a user: not in recall, not in the facts shown to extraction.
  expect([...a.leaks, ...b.leaks]).toEqual([]);

  // Deliveries: both replicas claimed all 100 keys at once; each key was won by exactly one of them.
  const wonA = new Set(a.won);
  expect(b.won.filter((key) => wonA.has(key))).toEqual([]);
  expect(sorted([...a.won, ...b.won])).toEqual(sorted(KEYS));
  const deliveries = await pool.query<{ n: string }>('SELECT count(*) AS n FROM slack_deliveries');
  expect(Number(deliveries.rows[0]!.n)).toBe(KEYS.length);

  // The forget: u7's turns that ended before it began are gone; those begun after it returned are all kept; those
  // in flight are kept whole or not at all (a turn that began before the forget's commit stores nothing).
  const forget = b.forget;
  expect(forget).not.toBeNull();
  expect(forget!.user).toBe(FORGOTTEN);
  expect(forget!.deleted).toBeGreaterThan(0);
  expect(forget!.namespace).not.toBeNull();
  const u7 = turns.filter((turn) => turn.user === FORGOTTEN);
  const before = u7.filter((turn) => turn.endedAt < forget!.startedAt);
  const after = u7.filter((turn) => turn.startedAt > forget!.endedAt);
  expect(before.length).toBeGreaterThan(0);
  expect(after.length).toBeGreaterThanOrEqual(2);
  // A's held turn began before the forget and wrote after it returned: it is in flight, whatever the timing.
  const held = u7.find((turn) => turn.tag === `A${HELD_ROUND}`)!;
  expect(held.startedAt).toBeLessThan(forget!.startedAt);
  expect(held.endedAt).toBeGreaterThan(forget!.endedAt);

  const storedTurns: TurnRecord[] = [];
  for (const user of USERS) {
    const { memories } = await store.export(userScope(user.id));
    const label = (memory: Memory) => `${user.id} ${memory.id} ${memory.text}`;
    // Only this user's words in every row of theirs, episodes and facts, history included.
    for (const memory of memories) {
      expect(memory.text, label(memory)).toContain(user.word);
      for (const other of USERS) if (other !== user) expect(memory.text, label(memory)).not.toContain(other.word);
    }
    const episodes = memories.filter((memory) => memory.kind === 'episode');
    const texts = new Set(episodes.map((memory) => memory.text));
    const theirs = turns.filter((turn) => turn.user === user.id);
    let expected = theirs;
    if (user.id === FORGOTTEN) {
      for (const turn of before) expect(texts.has(turn.userText), `${turn.tag} was forgotten`).toBe(false);
      for (const turn of after) expect(texts.has(turn.userText), `${turn.tag} came after the forget`).toBe(true);
      expect(texts.has(held.userText), 'the turn in flight at the forget').toBe(false);
      for (const turn of theirs) expect(texts.has(turn.replyText), turn.tag).toBe(texts.has(turn.userText));
      expected = theirs.filter((turn) => texts.has(turn.userText));
      // Nothing of u7 is older than the forget: whatever survives was written after it began.
      for (const memory of memories)
        expect(memory.createdAt.getTime(), label(memory)).toBeGreaterThan(forget!.startedAt);
    }
    storedTurns.push(...expected);
    // Exactly the turns both replicas made for them: none lost, none stored twice.
    expect(episodes).toHaveLength(2 * expected.length);
    expect(sorted(episodes.map((memory) => memory.text))).toEqual(
      sorted(expected.flatMap((turn) => [turn.userText, turn.replyText])),
    );
    // One topic per user (what they drink): exactly one current fact, the rest closed. Concurrent supersedes of
    // one fact never both win: no fact is superseded twice.
    const facts = memories.filter((memory) => memory.kind !== 'episode');
    const current = facts.filter((fact) => fact.validTo === null);
    expect(
      current.map((fact) => fact.text),
      user.id,
    ).toHaveLength(1);
    const superseded = facts.flatMap((fact) => (fact.supersedes === null ? [] : [fact.supersedes]));
    expect(new Set(superseded).size, user.id).toBe(superseded.length);
    const tags = new Set(expected.map((turn) => turn.tag));
    for (const fact of facts) expect(tags.has(/brew number (\S+)$/.exec(fact.text)?.[1] ?? ''), label(fact)).toBe(true);
  }

  // What recall showed each turn was that user's own, and u7 after the forget was shown nothing from before it.
  const forgottenTexts = new Set(before.flatMap((turn) => [turn.userText, turn.replyText]));
  for (const turn of turns) {
    const word = USERS.find((user) => user.id === turn.user)!.word;
    for (const text of turn.recalled) expect(text, `${turn.tag} ${turn.user} recalled`).toContain(word);
    if (after.includes(turn)) expect(turn.recalled.filter((text) => forgottenTexts.has(text))).toEqual([]);
  }

  // Threads: exactly one per (user, thread id) that stored a turn, under the user's current namespace. None is left
  // under u7's namespace from before the forget, in any of the checkpointer's tables.
  const namespaces = await pool.query<{ id: string; key: string }>(
    "SELECT id, key FROM namespaces WHERE kind = 'user'",
  );
  const namespaceOf = new Map(namespaces.rows.map((row) => [row.key, row.id]));
  const threads = await pool.query<{ thread_id: string }>(
    `SELECT thread_id FROM checkpoints UNION SELECT thread_id FROM checkpoint_blobs
     UNION SELECT thread_id FROM checkpoint_writes`,
  );
  expect(sorted(threads.rows.map((row) => row.thread_id))).toEqual(
    sorted(new Set(storedTurns.map((turn) => `${namespaceOf.get(turn.user)}/${turn.threadId}`))),
  );
  expect(String(forget!.namespace)).not.toBe(String(namespaceOf.get(FORGOTTEN)));
  for (const table of ['checkpoints', 'checkpoint_blobs', 'checkpoint_writes']) {
    const left = await pool.query(`SELECT 1 FROM ${table} WHERE starts_with(thread_id, $1)`, [`${forget!.namespace}/`]);
    expect(left.rowCount, table).toBe(0);
  }

  // In flight and kept: a turn that began between the forget's commit and its return (its table rewrite).
  const inFlight = u7.length - before.length - after.length;
  const kept = storedTurns.filter((turn) => turn.user === FORGOTTEN).length - after.length;
  const refused = turns.reduce((sum, turn) => sum + turn.errors.length, 0);
  console.info(
    `replicas: ${turns.length} turns, deliveries won ${a.won.length} by A and ${b.won.length} by B; u7: ` +
      `${before.length} turns forgotten, ${inFlight} in flight at the forget (${kept} kept), ${after.length} after; ` +
      `${refused} concurrent supersedes refused`,
  );
}

describeWithConcurrencyServer('two replica processes sharing one PostgreSQL 15 database (vector double)', (server) => {
  afterAll(async () => {
    await dropFreshDatabases(server);
  });

  it('lose, duplicate and leak nothing; claim each delivery once; a forget holds against the other replica', async () => {
    const url = await freshDatabase(server);
    const reports = await runReplicas(url, 'double');
    const store = await openReplica(url);
    try {
      await checkRun(store, reports);
    } finally {
      await store.close();
    }
  }, 60_000);
});

describeUnless(
  PGVECTOR_URL === undefined ? 'MNEMO_TEST_PG_URL not set (a server with pgvector ≥ 0.8)' : undefined,
  'two replica processes sharing one PostgreSQL database with pgvector (MNEMO_TEST_PG_URL)',
  () => {
    afterAll(async () => {
      if (PGVECTOR_URL !== undefined) await dropFreshDatabases(PGVECTOR_URL);
    });

    it('lose, duplicate and leak nothing; claim each delivery once; a forget holds against the other replica', async () => {
      const url = await freshDatabase(PGVECTOR_URL!);
      const reports = await runReplicas(url, 'pgvector');
      const store = await openStore(url, { embedder: replicaEmbedder() });
      try {
        await checkRun(store, reports);
      } finally {
        await store.close();
      }
    }, 60_000);
  },
);
