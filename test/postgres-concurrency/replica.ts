// One mnemo replica of replicas.e2e.test.ts, run as its own OS process (`node --import tsx replica.ts PLAN`, PLAN a
// JSON ReplicaPlan). It opens the shared PostgreSQL database as production does, builds the real agent on a scripted
// model, and talks to its users while claiming Slack deliveries through the shared ledger.
//
// stdio protocol, one JSON object or word per line:
//   stdout {"type":"ready"}                 store, agent and ledger open; waits for `go` on stdin (both start at once)
//   stdout {"type":"holding"}               (the replica with `hold`) the held turn has begun and now waits
//   stdin  holding                          (the replica with `forget`) the other replica holds a turn: forget now
//   stdout {"type":"forgot", ...}           (the replica with `forget`) its forget returned
//   stdin  forgot                           (the other replica) that forget returned: the held turn goes on
//   stdout {"type":"report", ...}           the last line: everything it did, for the test to check
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { AIMessage, type BaseMessage } from '@langchain/core/messages';
import { fakeModel } from '@langchain/core/testing';
import type { Embedder } from '../../memory/embedders/types.js';
import type { MemoryStore } from '../../memory/port.js';
import { userScope } from '../../memory/types.js';
import { PostgresDeliveryLedger } from '../../src/adapters/slack/dedupe.js';
import { createAgent } from '../../src/agent.js';
import type { FactWrite } from '../../src/events.js';
import { openStore } from '../../src/storage.js';
import { openReplica, replicaEmbedder } from './open.js';

/** A user and the word only their messages contain, so any copy of it elsewhere is a leak. */
export interface ReplicaUser {
  readonly id: string;
  readonly word: string;
}

/** What one replica does, as the test hands it over. */
export interface ReplicaPlan {
  /** `A` or `B`: prefixes its thread ids and turn tags. */
  readonly name: string;
  readonly url: string;
  /** `double`: the concurrency server (openReplica, plain-array vectors); `pgvector`: openStore as production. */
  readonly vectors: 'double' | 'pgvector';
  /** The users this replica talks to. */
  readonly users: readonly ReplicaUser[];
  /** Every user of the run (both replicas'), for the leak check of what reaches the model. */
  readonly everyone: readonly ReplicaUser[];
  /** Turns per user (one per round, rounds in order, users interleaved within a round). */
  readonly rounds: number;
  /** Threads per user, used in turn: `<name>-<user>-t<round % threads>`. */
  readonly threadsPerUser: number;
  /** Turns in flight at once. */
  readonly concurrency: number;
  /** Slack delivery keys to claim, in this order, through PostgresDeliveryLedger, while the turns run. */
  readonly keys: readonly string[];
  /**
   * Forget `user` once the turns of the rounds before `beforeRound` are handed out (and, with `afterHolding`, once
   * told on stdin that the other replica holds a turn of theirs); no turns of theirs after.
   */
  readonly forget?: { readonly user: string; readonly beforeRound: number; readonly afterHolding: boolean };
  /**
   * Hold the turn of `user` in `round` in flight across the other replica's forget: it begins, then its first
   * embedding (recall's) waits for `forgot` on stdin. It began before the forget, so it must store nothing.
   */
  readonly hold?: { readonly user: string; readonly round: number };
  /** After its rounds, wait for `forgot` on stdin, then talk to `user` `turns` more times, one after another. */
  readonly afterForget?: { readonly user: string; readonly turns: number };
}

/** One turn as the replica made it. Times are `Date.now()` on this machine, shared by both processes. */
export interface TurnRecord {
  readonly user: string;
  readonly threadId: string;
  /** Unique to the turn across both replicas (`A3`, `Bz1`): both episodes and the fact carry it. */
  readonly tag: string;
  readonly userText: string;
  readonly replyText: string;
  readonly reply: string;
  readonly startedAt: number;
  readonly endedAt: number;
  /** Texts of the memories recall put before the model. */
  readonly recalled: readonly string[];
  readonly facts: readonly FactWrite[];
  readonly errors: ReadonlyArray<{ stage: string; message: string }>;
  /** The error `chat` threw, if it did. */
  readonly failed?: string;
}

/** The forget a replica ran. */
export interface ForgetRecord {
  readonly user: string;
  /** The user's namespace id before the forget: their thread keys started with `<namespace>/`. */
  readonly namespace: number | null;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly deleted: number;
  readonly alsoDeleted: Record<string, number>;
}

/** The replica's last line on stdout. */
export interface ReplicaReport {
  readonly type: 'report';
  readonly name: string;
  readonly turns: readonly TurnRecord[];
  /** Keys whose claim this replica won. */
  readonly won: readonly string[];
  readonly forget: ForgetRecord | null;
  /** Another user's word seen in anything sent to the model (prompt, recalled memories, existing facts). */
  readonly leaks: readonly string[];
  readonly modelCalls: number;
}

/** The texts of a turn, the same in the replica that writes them and the test that looks for them. */
export const userTextOf = (word: string, tag: string): string =>
  `turn ${tag} of ${word}: I drink ${word} brew number ${tag}`;
export const replyTextOf = (word: string, tag: string): string => `Noted, ${word}: brew number ${tag}.`;
/** The fact extraction writes for a turn: one topic per user (what they drink), superseded turn after turn. */
export const factTextOf = (word: string, tag: string): string => `${word} drinks brew number ${tag}`;

/** The first line of the extraction prompt's system message (prompts/extraction.ts). */
const EXTRACTION = 'You maintain long-term memory about a person.';

/**
 * The model both the reply and the extraction call reach, answering from what it is sent rather than in queue
 * order, since turns run concurrently. Extraction keeps one current fact per user: it supersedes the user's fact it
 * is shown and invalidates any other (two replicas adding a user's first fact at once leave two), or adds one when
 * shown none. Every completion has its own id, as a provider's would.
 */
function scriptedModel(name: string, everyone: readonly ReplicaUser[], leaks: string[], calls: number) {
  let completions = 0;
  const ownerOf = (text: string): ReplicaUser => {
    const owner = everyone.find((user) => text.includes(user.word));
    if (!owner) throw new Error(`no user's word in ${JSON.stringify(text)}`);
    return owner;
  };
  const checkLeaks = (id: string, owner: ReplicaUser, messages: readonly BaseMessage[]) => {
    const sent = messages.map((message) => message.text).join('\n');
    for (const other of everyone)
      if (other !== owner && sent.includes(other.word)) leaks.push(`${id}: ${other.word} sent for ${owner.id}`);
  };
  const answer = (messages: BaseMessage[]): AIMessage => {
    completions += 1;
    const id = `chatcmpl-${name}-${completions}`;
    const last = messages.at(-1)?.text ?? '';
    if (messages[0]?.text.startsWith(EXTRACTION)) {
      const prompt = JSON.parse(last.slice(0, last.lastIndexOf('}') + 1)) as {
        existing_facts: Array<{ id: string; text: string }>;
        person_said: string;
      };
      const owner = ownerOf(prompt.person_said);
      checkLeaks(id, owner, messages);
      const tag = /brew number (\S+)$/.exec(prompt.person_said)?.[1] ?? '';
      const text = factTextOf(owner.word, tag);
      const [current, ...others] = prompt.existing_facts.filter((fact) =>
        fact.text.startsWith(`${owner.word} drinks brew`),
      );
      const changes = current
        ? [
            { op: 'supersede', id: current.id, kind: 'preference', text },
            ...others.map((fact) => ({ op: 'invalidate', id: fact.id })),
          ]
        : [{ op: 'add', kind: 'preference', text }];
      return new AIMessage({ content: JSON.stringify({ changes }), id });
    }
    const owner = ownerOf(last);
    checkLeaks(id, owner, messages);
    const tag = /brew number (\S+)$/.exec(last)?.[1] ?? '';
    return new AIMessage({ content: replyTextOf(owner.word, tag), id });
  };
  const model = fakeModel();
  for (let i = 0; i < calls; i++) model.respond(answer);
  return model;
}

/** Lines on stdin, awaited one at a time. */
function stdinLines(): (expected: string, timeoutMs: number) => Promise<void> {
  const seen: string[] = [];
  const waiting: Array<() => void> = [];
  createInterface({ input: process.stdin }).on('line', (line) => {
    seen.push(line.trim());
    for (const wake of waiting.splice(0)) wake();
  });
  return async (expected, timeoutMs) => {
    const deadline = Date.now() + timeoutMs;
    while (!seen.includes(expected)) {
      if (Date.now() > deadline) throw new Error(`replica: no ${expected} on stdin within ${timeoutMs} ms`);
      await Promise.race([new Promise<void>((resolve) => waiting.push(resolve)), sleep(100)]);
    }
  };
}

const say = (line: object): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`);
};

/** Runs `tasks` with at most `concurrency` at once, in order. */
async function runAll(tasks: ReadonlyArray<() => Promise<void>>, concurrency: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < tasks.length) await tasks[next++]!();
    }),
  );
}

/** The replicas' embedder, except that the first embedding of a text containing `held` waits for `release`. */
function holdingEmbedder(held: string | undefined, release: () => Promise<void>): Embedder {
  const embedder = replicaEmbedder();
  let holding = false;
  return {
    id: embedder.id,
    dims: embedder.dims,
    async embed(texts, options) {
      if (held !== undefined && !holding && texts.some((text) => text.includes(held))) {
        holding = true;
        say({ type: 'holding' });
        await release();
      }
      return embedder.embed(texts, options);
    },
  };
}

async function main(plan: ReplicaPlan): Promise<void> {
  const waitFor = stdinLines();
  const heldUser = plan.hold && plan.users.find((user) => user.id === plan.hold?.user);
  const embedder = holdingEmbedder(
    plan.hold && heldUser && userTextOf(heldUser.word, `${plan.name}${plan.hold.round}`),
    () => waitFor('forgot', 60_000),
  );
  const store: MemoryStore =
    plan.vectors === 'double'
      ? await openReplica(plan.url, { embedder })
      : await openStore(plan.url, { embedder, poolSize: 4 });
  try {
    if (store.backend.kind !== 'postgres') throw new Error('replica: not a PostgreSQL store');
    const { pool } = store.backend;
    const ledger = await PostgresDeliveryLedger.create(pool);
    const extra = plan.afterForget?.turns ?? 0;
    const leaks: string[] = [];
    // Two calls a turn (reply, extraction), with room for extraction's retry.
    const model = scriptedModel(plan.name, plan.everyone, leaks, 4 * (plan.users.length * plan.rounds + extra) + 16);
    const agent = createAgent({ store, model });
    const turns: TurnRecord[] = [];
    let forget: ForgetRecord | null = null;

    const turn = async (user: ReplicaUser, tag: string, threadId: string): Promise<void> => {
      const userText = userTextOf(user.word, tag);
      const startedAt = Date.now();
      const record = { user: user.id, threadId, tag, userText, replyText: replyTextOf(user.word, tag) };
      try {
        const result = await agent.chat(userText, { userId: user.id, threadId });
        turns.push({
          ...record,
          reply: result.reply,
          startedAt,
          endedAt: Date.now(),
          recalled: result.recalled.map((memory) => memory.text),
          facts: result.written.facts,
          errors: result.errors,
        });
      } catch (error) {
        const failed = error instanceof Error ? error.message : String(error);
        turns.push({
          ...record,
          reply: '',
          startedAt,
          endedAt: Date.now(),
          recalled: [],
          facts: [],
          errors: [],
          failed,
        });
      }
    };
    const forgetUser = async (id: string, afterHolding: boolean): Promise<void> => {
      if (afterHolding) await waitFor('holding', 60_000);
      const { rows } = await pool.query<{ id: string }>("SELECT id FROM namespaces WHERE kind = 'user' AND key = $1", [
        id,
      ]);
      const startedAt = Date.now();
      const result = await store.forget(userScope(id));
      const endedAt = Date.now();
      forget = {
        user: id,
        namespace: rows[0] ? Number(rows[0].id) : null,
        startedAt,
        endedAt,
        deleted: result.deleted,
        alsoDeleted: result.alsoDeleted,
      };
      say({ type: 'forgot', ...forget });
    };

    const tasks: Array<() => Promise<void>> = [];
    for (let round = 0; round < plan.rounds; round++) {
      if (plan.forget && round === plan.forget.beforeRound) {
        const { user, afterHolding } = plan.forget;
        tasks.push(() => forgetUser(user, afterHolding));
      }
      for (const user of plan.users) {
        if (plan.forget && user.id === plan.forget.user && round >= plan.forget.beforeRound) continue;
        const threadId = `${plan.name}-${user.id}-t${round % plan.threadsPerUser}`;
        tasks.push(() => turn(user, `${plan.name}${round}`, threadId));
      }
    }

    say({ type: 'ready' });
    await waitFor('go', 60_000);

    const won: string[] = [];
    const claiming = (async () => {
      // Two at a time, spread over the turns, so claims and turns share the pool and the server.
      for (let i = 0; i < plan.keys.length; i += 2) {
        await Promise.all(
          plan.keys.slice(i, i + 2).map(async (key) => {
            if (await ledger.claim(key)) won.push(key);
          }),
        );
        await sleep(10);
      }
    })();
    await runAll(tasks, plan.concurrency);
    if (plan.afterForget) {
      const { user: id, turns: count } = plan.afterForget;
      const user = plan.users.find((candidate) => candidate.id === id);
      if (!user) throw new Error(`replica: ${id} is not one of its users`);
      await waitFor('forgot', 60_000);
      for (let i = 0; i < count; i++)
        await turn(user, `${plan.name}z${i}`, `${plan.name}-${user.id}-t${i % plan.threadsPerUser}`);
    }
    await claiming;
    say({
      type: 'report',
      name: plan.name,
      turns,
      won,
      forget,
      leaks,
      modelCalls: model.callCount,
    } satisfies ReplicaReport);
  } finally {
    await store.close();
  }
  // stdin's reader would keep the process alive.
  process.exit(0);
}

// Only when run as a script: the test imports this file's types.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [planJson] = process.argv.slice(2);
  if (planJson === undefined) throw new Error('usage: replica.ts PLAN_JSON');
  await main(JSON.parse(planJson) as ReplicaPlan);
}
