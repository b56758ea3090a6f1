import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend, Embedder } from '../../memory/index.js';
import { type EpisodeInput, userScope } from '../../memory/index.js';
import { openStore } from '../storage.js';
import { usesLearnedRanker } from './baselines.js';
import { latencySummary, seededRandom } from './stats.js';

export interface ScaleReport {
  embedder: string;
  episodes: number;
  userEpisodes: number;
  ingestSeconds: number;
  ingestPerSecond: number;
  queries: number;
  searchLatencyMs: { p50: number; p95: number };
  databaseMegabytes: number;
  /** Forgetting one of the user's memories, with the file rewrite (SQLite) or the touched tables' (Postgres). */
  forgetSeconds: number;
}

/** Options of {@link runScaleBench}. */
export interface ScaleBenchOptions {
  embedder: Embedder;
  /** Episodes in the file. @default 1_000_000 */
  episodes?: number;
  /** Episodes of the measured user; the rest are spread over other users, 1,000 each. @default 100_000 */
  userEpisodes?: number;
  /** Searches to time. @default 500 */
  queries?: number;
  /** Words the synthetic turns are made of, most frequent first. @default a built-in English list */
  vocabulary?: readonly string[];
  /**
   * Keep the database here (a file, or a `postgres://` URL whose bench users are replaced) instead of a temporary
   * file that is deleted afterwards.
   */
  path?: string | undefined;
  /** Search with the shipped learned ranker, as search does by default; `false`: the hand-weighted sum. @default true when the build ships a ranker */
  learned?: boolean | undefined;
  onProgress?: (progress: { phase: string; done: number; total: number }) => void;
}

/** The size of the database: its file, or the Postgres database it is in. */
async function databaseBytes(backend: Backend): Promise<number> {
  if (backend.kind === 'sqlite') return statSync(backend.location).size;
  const { rows } = await backend.pool.query<{ bytes: string }>('SELECT pg_database_size(current_database()) AS bytes');
  return Number(rows[0]?.bytes ?? 0);
}

/**
 * Forgets the bench's users of a kept database, so a run replaces the last one's. A SQLite file is not rewritten per
 * user: the rewrite stays marked, and the timed forget at the end of the run does it once.
 */
async function forgetUsers(path: string, embedder: Embedder, users: Iterable<string>): Promise<void> {
  const store = await openStore(path, { embedder, rewriteOnForget: false });
  try {
    for (const user of users) await store.forget(userScope(user));
  } finally {
    await store.close();
  }
}

/** Turns written per transaction, as a chat or an importer would batch them. */
const BATCH = 1000;

const FALLBACK_VOCABULARY = (
  'time year people way day man thing woman life child world school state family student group country problem hand part place case week ' +
  'company system program question work government number night point home water room mother area money story fact month lot right study book ' +
  'eye job word business issue side kind head house service friend father power hour game line end member law car city community name president ' +
  'team minute idea kid body information back parent face others level office door health person art war history party result change morning ' +
  'reason research girl guy moment air teacher force education foot boy age policy music garden paint hike dog cat movie coffee trip beach'
).split(' ');

/** A turn of 6-25 words drawn with a Zipf-like bias toward frequent words, like chat text. */
function sentence(next: () => number, vocabulary: readonly string[]): string {
  const length = 6 + Math.floor(next() * 20);
  const words: string[] = [];
  for (let i = 0; i < length; i++) words.push(vocabulary[Math.floor(next() ** 2.2 * vocabulary.length)]!);
  return words.join(' ');
}

/**
 * Synthetic scale test: one file with `episodes` turns, `userEpisodes` of them one user's, the rest spread over
 * other users; reports ingest throughput with the given embedder, the user's search latency (query embedding
 * included) and the time to forget one memory.
 */
export async function runScaleBench(options: ScaleBenchOptions): Promise<ScaleReport> {
  const total = options.episodes ?? 1_000_000;
  const userEpisodes = Math.min(total, options.userEpisodes ?? 100_000);
  const queries = options.queries ?? 500;
  const vocabulary = options.vocabulary && options.vocabulary.length > 100 ? options.vocabulary : FALLBACK_VOCABULARY;
  const directory = options.path ? undefined : mkdtempSync(join(tmpdir(), 'mnemo-scale-'));
  const path = options.path ?? join(directory!, 'scale.db');
  const learned = usesLearnedRanker(options.learned);
  const next = seededRandom(42);
  const start = Date.parse('2024-01-01T00:00:00Z');
  // Interleave the measured user's batches with everyone else's, as a shared file fills up in practice.
  const plan: Array<{ user: string; count: number }> = [];
  let remainingUser = userEpisodes;
  let remainingOthers = total - userEpisodes;
  let other = 0;
  while (remainingUser > 0 || remainingOthers > 0) {
    const takeUser = remainingUser > 0 && (remainingOthers === 0 || next() < userEpisodes / total);
    const count = Math.min(BATCH, takeUser ? remainingUser : remainingOthers);
    plan.push({
      user: takeUser ? 'measured-user' : `user-${other++ % Math.max(1, Math.ceil((total - userEpisodes) / 1000))}`,
      count,
    });
    if (takeUser) remainingUser -= count;
    else remainingOthers -= count;
  }
  if (options.path) await forgetUsers(options.path, options.embedder, new Set(plan.map((batch) => batch.user)));
  const store = await openStore(path, { embedder: options.embedder });
  try {
    let done = 0;
    const began = performance.now();
    for (const batch of plan) {
      const turns: EpisodeInput[] = [];
      for (let i = 0; i < batch.count; i++) {
        turns.push({
          text: sentence(next, vocabulary),
          role: i % 2 === 0 ? 'user' : 'assistant',
          session: `s${Math.floor(done / 50)}`,
          at: new Date(start + done * 60_000),
        });
        done++;
      }
      await store.addEpisodes(userScope(batch.user), turns);
      options.onProgress?.({ phase: 'ingest', done, total });
    }
    const ingestSeconds = (performance.now() - began) / 1000;
    if (store.backend.kind === 'sqlite') store.backend.db.pragma('wal_checkpoint(TRUNCATE)');

    const latencies: number[] = [];
    for (let i = 0; i < queries; i++) {
      const words = Array.from(
        { length: 2 + Math.floor(next() * 5) },
        () => vocabulary[Math.floor(next() ** 1.5 * vocabulary.length)]!,
      );
      const query = `what did I say about ${words.join(' ')}?`;
      const began = performance.now();
      await store.search([userScope('measured-user')], query, {
        k: 10,
        weights: { learned: learned ? 1 : 0 },
      });
      latencies.push(performance.now() - began);
      options.onProgress?.({ phase: 'search', done: i + 1, total: queries });
    }
    const databaseMegabytes = Math.round((await databaseBytes(store.backend)) / 1e6);
    const [memory] = await store.list(userScope('measured-user'), { limit: 1 });
    const forgetBegan = performance.now();
    await store.forget(userScope('measured-user'), memory!.id);
    const forgetSeconds = (performance.now() - forgetBegan) / 1000;
    return {
      embedder: options.embedder.id,
      episodes: total,
      userEpisodes,
      ingestSeconds: Math.round(ingestSeconds * 10) / 10,
      ingestPerSecond: Math.round(total / ingestSeconds),
      queries,
      searchLatencyMs: latencySummary(latencies),
      databaseMegabytes,
      forgetSeconds: Math.round(forgetSeconds * 100) / 100,
    };
  } finally {
    await store.close();
    if (directory) rmSync(directory, { recursive: true, force: true });
  }
}
