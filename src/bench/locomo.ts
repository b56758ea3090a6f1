import { readFileSync } from 'node:fs';
import type { Embedder } from '../../memory/index.js';
import {
  decodeUtf8,
  type EpisodeInput,
  InputError,
  isContentToken,
  shippedRanker,
  tokenize,
  userScope,
} from '../../memory/index.js';
import { openStore } from '../storage.js';
import { BM25_ONLY, usesLearnedRanker } from './baselines.js';
import { latencySummary, mean } from './stats.js';

/** LoCoMo's question categories, by the ids used in locomo10.json. */
export const LOCOMO_CATEGORIES: Record<number, string> = {
  1: 'multi-hop',
  2: 'temporal',
  3: 'open-domain',
  4: 'single-hop',
  5: 'adversarial',
};
const CUTOFFS = [5, 10, 25] as const;

interface LocomoTurn {
  speaker: string;
  dia_id: string;
  text: string;
  blip_caption?: string;
}
interface LocomoSample {
  sample_id: string;
  conversation: Record<string, unknown>;
  qa: Array<{ question: string; evidence?: string[]; category: number }>;
}

/** Recall at 5, 10 and 25 (fractions). */
export interface RecallFigures {
  recallAt5: number;
  recallAt10: number;
  recallAt25: number;
}

export interface LocomoReport extends RecallFigures {
  questions: number;
  turns: number;
  embedder: string;
  byCategory: Record<string, RecallFigures & { questions: number }>;
  searchLatencyMs: { p50: number; p95: number };
  meanTokensTop10: number;
  /** Plain BM25 over the same index and queries. */
  baseline: RecallFigures;
  /**
   * When the shipped learned ranker ranks (the default): it was trained on these very conversations, so the figures
   * above are in-sample. `handWeighted` is the same run without it; `heldOut` is what the model reached
   * leave-one-conversation-out when it was trained (scripts/train-ranker.ts), the figure to report.
   */
  learnedRanker?: {
    inSample: true;
    handWeighted: RecallFigures;
    heldOut: RecallFigures | null;
  };
}

/** The leave-one-conversation-out figures the shipped model's training recorded, if its file has them. */
function heldOutFigures(): RecallFigures | null {
  const protocol = shippedRanker()?.protocol as { heldOut?: { locomo?: { trees?: unknown } } } | undefined;
  const trees = protocol?.heldOut?.locomo?.trees;
  if (!Array.isArray(trees) || trees.length !== 3 || !trees.every((value) => typeof value === 'number')) return null;
  const [recallAt5, recallAt10, recallAt25] = trees as number[];
  return { recallAt5: recallAt5!, recallAt10: recallAt10!, recallAt25: recallAt25! };
}

/** "1:56 pm on 8 May, 2023" → Date (LoCoMo's session timestamps, read as UTC). */
export function parseLocomoDate(value: string): Date {
  const match = /^(.+?) on (.+)$/.exec(value.trim());
  const date = new Date(match ? `${match[2]} ${match[1]} UTC` : `${value} UTC`);
  if (Number.isNaN(date.getTime())) throw new InputError(`unrecognised LoCoMo session date: ${value}`);
  return date;
}

/** The turns of one conversation as episodes: speaker as role, session date as time, dia_id as source id. */
export function locomoEpisodes(sample: LocomoSample): EpisodeInput[] {
  const episodes: EpisodeInput[] = [];
  for (let session = 1; Array.isArray(sample.conversation[`session_${session}`]); session++) {
    const start = parseLocomoDate(String(sample.conversation[`session_${session}_date_time`])).getTime();
    (sample.conversation[`session_${session}`] as LocomoTurn[]).forEach((turn, index) => {
      // A shared photo is part of what was said: its caption is the only text it has.
      const text = turn.blip_caption ? `${turn.text} [shares a photo: ${turn.blip_caption}]` : turn.text;
      episodes.push({
        text,
        role: turn.speaker,
        // Turns of a session keep their order: one second apart from the session's start.
        at: new Date(start + index * 1000),
        session: `session_${session}`,
        sourceId: turn.dia_id,
      });
    });
  }
  return episodes;
}

/** Evidence ids of a question, with malformed strings ("D8:6; D9:17") split and unknown ids dropped. */
export function evidenceIds(evidence: readonly string[] | undefined, known: ReadonlySet<string>): string[] {
  const ids = (evidence ?? []).flatMap((entry) => entry.split(/[;,\s]+/)).filter((id) => known.has(id));
  return [...new Set(ids)];
}

const recall = (ranked: readonly (string | null)[], evidence: readonly string[], k: number): number => {
  const top = new Set(ranked.slice(0, k));
  return evidence.filter((id) => top.has(id)).length / evidence.length;
};

/** Options of {@link runLocomoBench}. */
export interface LocomoBenchOptions {
  /** Path of locomo10.json. */
  dataPath: string;
  embedder: Embedder;
  /** Only the first n conversations (for quick runs). @default all */
  limit?: number;
  /**
   * Rank with the shipped learned ranker (memory/retrieval/ranker.json), as search does by default; its figures are
   * then in-sample (it was trained on LoCoMo), and the report adds the hand-weighted run and the held-out figures.
   * `false` ranks with the hand-weighted sum. @default true when the build ships a ranker
   */
  learned?: boolean | undefined;
  /**
   * The database to run in (a file or a `postgres://` URL). Its `locomo:*` users are kept: turns it already holds
   * (by LoCoMo's dia_id) are not added again, so a migrated copy is measured as it is. @default in memory
   */
  db?: string | undefined;
  onProgress?: (progress: { phase: string; done: number; total: number }) => void;
}

/** Evidence recall@k of mnemo's hybrid search on LoCoMo, with a BM25-only baseline from the same run. */
export async function runLocomoBench(options: LocomoBenchOptions): Promise<LocomoReport> {
  let samples: LocomoSample[];
  try {
    samples = JSON.parse(decodeUtf8(readFileSync(options.dataPath), options.dataPath)) as LocomoSample[];
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(`cannot read LoCoMo data at ${options.dataPath}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (!Array.isArray(samples))
    throw new InputError(`${options.dataPath} is not LoCoMo's locomo10.json (expected a JSON array)`);
  samples = samples.slice(0, options.limit ?? samples.length);

  const learned = usesLearnedRanker(options.learned);
  // Relative dates in questions ("last month") are read from the end of each conversation, as its speakers would.
  let now = new Date();
  const store = await openStore(options.db ?? ':memory:', { embedder: options.embedder, clock: () => now });
  const hybrid: Array<{ category: number; recalls: number[] }> = [];
  const baseline: number[][] = [];
  const handWeighted: number[][] = [];
  const latencies: number[] = [];
  const tokensTop10: number[] = [];
  let turns = 0;
  try {
    for (const [index, sample] of samples.entries()) {
      options.onProgress?.({ phase: `conversation ${sample.sample_id}`, done: index, total: samples.length });
      const scope = userScope(`locomo:${sample.sample_id}`);
      const episodes = locomoEpisodes(sample);
      turns += episodes.length;
      // A conversation the database already holds (a rerun, or a migrated copy) is searched as it is.
      await store.addEpisodes(scope, episodes, { skipKnownSourceIds: true });
      const known = new Set(episodes.map((episode) => episode.sourceId!));
      now = new Date(Math.max(...episodes.map((episode) => new Date(episode.at!).getTime())));
      for (const qa of sample.qa) {
        const evidence = evidenceIds(qa.evidence, known);
        if (evidence.length === 0) continue;
        const started = performance.now();
        const hits = await store.search([scope], qa.question, { k: 25, weights: { learned: learned ? 1 : 0 } });
        latencies.push(performance.now() - started);
        const ranked = hits.map((hit) => hit.memory.sourceId);
        hybrid.push({ category: qa.category, recalls: CUTOFFS.map((k) => recall(ranked, evidence, k)) });
        tokensTop10.push(
          hits.slice(0, 10).reduce((sum, hit) => sum + tokenize(hit.memory.text).filter(isContentToken).length, 0),
        );
        if (learned) {
          const hand = await store.search([scope], qa.question, { k: 25, weights: { learned: 0 } });
          handWeighted.push(
            CUTOFFS.map((k) =>
              recall(
                hand.map((hit) => hit.memory.sourceId),
                evidence,
                k,
              ),
            ),
          );
        }
        const plain = await store.search([scope], qa.question, { k: 25, weights: BM25_ONLY });
        baseline.push(
          CUTOFFS.map((k) =>
            recall(
              plain.map((hit) => hit.memory.sourceId),
              evidence,
              k,
            ),
          ),
        );
      }
    }
  } finally {
    await store.close();
  }
  options.onProgress?.({ phase: 'done', done: samples.length, total: samples.length });

  const figures = (rows: readonly (readonly number[])[]): RecallFigures => ({
    recallAt5: round(mean(rows.map((row) => row[0]!))),
    recallAt10: round(mean(rows.map((row) => row[1]!))),
    recallAt25: round(mean(rows.map((row) => row[2]!))),
  });
  const byCategory: LocomoReport['byCategory'] = {};
  for (const [id, name] of Object.entries(LOCOMO_CATEGORIES)) {
    const rows = hybrid.filter((row) => row.category === Number(id)).map((row) => row.recalls);
    if (rows.length > 0)
      byCategory[id] = { ...figures(rows), questions: rows.length, ...({ name } as object) } as RecallFigures & {
        questions: number;
      };
  }
  return {
    ...figures(hybrid.map((row) => row.recalls)),
    questions: hybrid.length,
    turns,
    embedder: options.embedder.id,
    byCategory,
    searchLatencyMs: latencySummary(latencies),
    meanTokensTop10: Math.round(mean(tokensTop10) * 10) / 10,
    baseline: figures(baseline),
    ...(learned
      ? { learnedRanker: { inSample: true as const, handWeighted: figures(handWeighted), heldOut: heldOutFigures() } }
      : {}),
  };
}

const round = (value: number): number => Math.round(value * 1000) / 1000;
