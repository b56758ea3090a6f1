import type { Embedder, EpisodeInput, SearchHit } from '../../memory/index.js';
import { InputError, shippedRanker, userScope } from '../../memory/index.js';
import { openStore } from '../storage.js';
import { BM25_ONLY, usesLearnedRanker } from './baselines.js';
import { type FillerMessage, loadPrefeval } from './prefeval-data.js';
import { answerBySimilarity, answerMcq, pickPreference } from './prefeval-mcq.js';
import { latencySummary, mean, seededRandom, shuffled, stringSeed } from './stats.js';

/** Filler turns (a user message and the assistant's reply) after the preference: PrefEval's longest setting. */
export const DEFAULT_FILLER_TURNS = 300;
/** How many of the top hits the multiple-choice answerer reads: a handful, as a chat's recall shows the model. */
const MCQ_MEMORIES = 5;
const K = 10;
/** The source id of the turn that states the preference: what recall looks for. */
export const GOLD = 'gold';
/** Every user's history starts here; turns are a minute apart, so no two share a time. */
const START = Date.UTC(2024, 0, 1);

/** Share of questions whose gold turn is in the top 1, 5 and 10. */
export interface PrefevalRecall {
  recallAt1: number;
  recallAt5: number;
  recallAt10: number;
}

/** Multiple-choice accuracy (4 options, shuffled per item with a fixed seed). */
export interface PrefevalMcq {
  items: number;
  /** How many top hits the answerer picks its memory from. */
  fromTop: number;
  /** Answered from the memory picked among mnemo's top hits. */
  retrieved: number;
  /** Answered from the memory picked among BM25's top hits, same run. */
  bm25Retrieved: number;
  /** Answered from the gold preference itself: the answerer's upper bound. */
  gold: number;
  /** The gold preference with plain similarity, polarity ignored (the ablation of the answerer). */
  goldSimilarityOnly: number;
  chance: number;
}

/** The figures of one preference form (explicit, or implicit choice-based). */
export interface PrefevalSetReport {
  items: number;
  /** Stored turns per user: the preference's own turns plus the filler. */
  turnsPerUser: number;
  mnemo: PrefevalRecall;
  /** Plain BM25 over the same users and questions. */
  bm25: PrefevalRecall;
  mcq: PrefevalMcq;
  byTopic: Record<string, TopicFigures>;
  /**
   * When the learned ranker ranks: the figures on the topics it was never trained on (the ones to report) and on
   * the topics it was trained on (in-sample), from `byTopic`.
   */
  learnedRanker?: { heldOut: TopicFigures & { topics: number }; inSample: TopicFigures & { topics: number } };
}

/** Recall and multiple-choice accuracy over a set of items. */
export interface TopicFigures {
  items: number;
  mnemo: PrefevalRecall;
  bm25: PrefevalRecall;
  mcqRetrieved: number;
}

export interface PrefevalReport {
  embedder: string;
  topics: number;
  fillerTurns: number;
  explicit: PrefevalSetReport;
  /** Absent when the data has no implicit choice-based items or they were not asked for. */
  implicit?: PrefevalSetReport;
  /** mnemo's search, including query embedding. */
  searchLatencyMs: { p50: number; p95: number };
  seconds: number;
}

/** Options of {@link runPrefevalBench}. */
export interface PrefevalBenchOptions {
  /** The PrefEval data directory (explicit_preference/, mcq_options/, filtered_inter_turns.json, ...). */
  dataPath: string;
  embedder: Embedder;
  /** Only the first n items of each topic (for quick runs). @default all */
  limit?: number | undefined;
  /** Filler turns stored after each preference: the first n of PrefEval's filler, in file order. @default 300 */
  fillerTurns?: number | undefined;
  /** Also run the implicit choice-based items when the data has them. @default true */
  implicit?: boolean | undefined;
  /**
   * Rank with the shipped learned ranker, as search does by default (the report then splits its figures into the
   * topics it was trained on and the held-out ones); `false` ranks with the hand-weighted sum.
   * @default true when the build ships a ranker
   */
  learned?: boolean | undefined;
  onProgress?: (progress: { phase: string; done: number; total: number }) => void;
}

/** One item to run: what the user said before, the later question, and the multiple choice. */
export interface PrefevalCase {
  set: 'explicit' | 'implicit';
  topic: string;
  /** The preference's own turns; the one with sourceId GOLD is what recall looks for. */
  stated: EpisodeInput[];
  question: string;
  /** The options in their shuffled order, and where the aligned one landed. */
  options: string[];
  correct: number;
}

interface CaseResult {
  set: PrefevalCase['set'];
  topic: string;
  mnemoRank: number | undefined;
  bm25Rank: number | undefined;
  retrieved: boolean;
  bm25Retrieved: boolean;
  gold: boolean;
  goldSimilarityOnly: boolean;
}

/** The PrefEval topics the shipped ranker was trained on, as its file records them. */
function learnedTrainingTopics(): Set<string> {
  const topics = (shippedRanker()?.protocol as { prefevalTrainingTopics?: unknown } | undefined)
    ?.prefevalTrainingTopics;
  if (!Array.isArray(topics) || !topics.every((topic) => typeof topic === 'string'))
    throw new InputError('the learned ranker does not record which PrefEval topics it was trained on');
  return new Set(topics);
}

/** PrefEval's items as cases to run: each explicit preference, then (unless turned off) each implicit choice. */
export function prefevalCases(
  data: ReturnType<typeof loadPrefeval>,
  options: { limit?: number | undefined; implicit?: boolean | undefined },
): PrefevalCase[] {
  const cases: PrefevalCase[] = [];
  for (const topic of data.topics) {
    const count = Math.min(options.limit ?? topic.explicit.length, topic.explicit.length);
    for (let index = 0; index < count; index += 1) {
      const item = topic.explicit[index]!;
      const mcq = topic.mcq[index]!;
      const [aligned] = mcq.classification_task_options;
      cases.push({
        set: 'explicit',
        topic: topic.name,
        // Said the way a person says it in a chat: one user turn.
        stated: [{ text: item.preference, role: 'user', sourceId: GOLD }],
        question: item.question,
        ...shuffledOptions(`explicit:${topic.name}:${index}`, mcq.classification_task_options, aligned!),
      });
    }
    if (options.implicit === false || !topic.implicit) continue;
    for (let index = 0; index < count; index += 1) {
      const item = topic.implicit[index]!;
      const { query, assistant_options, user_selection, assistant_acknowledgment } = item.conversation;
      cases.push({
        set: 'implicit',
        topic: topic.name,
        // The user never states the preference: the turn that shows it is the pick among the assistant's options.
        stated: [
          { text: query, role: 'user' },
          { text: assistant_options, role: 'assistant' },
          { text: user_selection, role: 'user', sourceId: GOLD },
          { text: assistant_acknowledgment, role: 'assistant' },
        ],
        question: item.question,
        ...shuffledOptions(`implicit:${topic.name}:${index}`, item.options, item.aligned_op),
      });
    }
  }

  return cases;
}

/** Options shuffled with a seed of their own item, so every run asks the same question the same way. */
function shuffledOptions(
  seed: string,
  options: readonly string[],
  correct: string,
): Pick<PrefevalCase, 'options' | 'correct'> {
  const order = shuffled(options, seededRandom(stringSeed(seed)));
  return { options: order, correct: order.indexOf(correct) };
}

/**
 * PrefEval as memory retrieval: each preference is a fresh user's turn followed by the filler conversations, the
 * later question is the query. Recall@1/5/10 of the preference turn with mnemo's search and with BM25 alone, then
 * the multiple-choice items answered offline from the retrieved memory (and from the gold one, as a bound).
 */
export async function runPrefevalBench(options: PrefevalBenchOptions): Promise<PrefevalReport> {
  const started = performance.now();
  const data = loadPrefeval(options.dataPath);
  const fillerTurns = options.fillerTurns ?? DEFAULT_FILLER_TURNS;
  const filler = prefevalFiller(data, fillerTurns);

  const cases = prefevalCases(data, options);
  // The topics the shipped ranker was trained on, whose figures are in-sample when it ranks.
  const learned = usesLearnedRanker(options.learned);
  const trainedOn = learned ? learnedTrainingTopics() : undefined;
  const results: CaseResult[] = [];
  const latencies: number[] = [];
  for (const [index, testCase] of cases.entries()) {
    options.onProgress?.({ phase: testCase.set, done: index, total: cases.length });
    results.push(await runCase(options.embedder, testCase, filler, latencies, learned));
  }
  options.onProgress?.({ phase: 'done', done: cases.length, total: cases.length });

  const report = (set: PrefevalCase['set']): PrefevalSetReport | undefined => {
    const rows = results.filter((row) => row.set === set);
    const first = cases.find((testCase) => testCase.set === set);
    if (rows.length === 0 || !first) return undefined;
    const figures = (own: readonly CaseResult[]): TopicFigures => ({
      items: own.length,
      mnemo: recall(own.map((row) => row.mnemoRank)),
      bm25: recall(own.map((row) => row.bm25Rank)),
      mcqRetrieved: share(own.map((row) => row.retrieved)),
    });
    const byTopic: PrefevalSetReport['byTopic'] = {};
    for (const topic of data.topics) {
      const own = rows.filter((row) => row.topic === topic.name);
      if (own.length > 0) byTopic[topic.name] = figures(own);
    }
    const split = (topics: ReadonlySet<string>) => ({
      topics: data.topics.filter((topic) => topics.has(topic.name)).length,
      ...figures(rows.filter((row) => topics.has(row.topic))),
    });
    return {
      items: rows.length,
      turnsPerUser: first.stated.length + filler.length,
      mnemo: recall(rows.map((row) => row.mnemoRank)),
      bm25: recall(rows.map((row) => row.bm25Rank)),
      mcq: {
        items: rows.length,
        fromTop: MCQ_MEMORIES,
        retrieved: share(rows.map((row) => row.retrieved)),
        bm25Retrieved: share(rows.map((row) => row.bm25Retrieved)),
        gold: share(rows.map((row) => row.gold)),
        goldSimilarityOnly: share(rows.map((row) => row.goldSimilarityOnly)),
        chance: 0.25,
      },
      byTopic,
      ...(trainedOn
        ? {
            learnedRanker: {
              heldOut: split(new Set(data.topics.map((topic) => topic.name).filter((name) => !trainedOn.has(name)))),
              inSample: split(trainedOn),
            },
          }
        : {}),
    };
  };
  const explicit = report('explicit');
  if (!explicit) throw new InputError(`${options.dataPath} holds no explicit preference items`);
  const implicit = report('implicit');
  return {
    embedder: options.embedder.id,
    topics: data.topics.length,
    fillerTurns,
    explicit,
    ...(implicit ? { implicit } : {}),
    searchLatencyMs: latencySummary(latencies),
    seconds: Math.round((performance.now() - started) / 100) / 10,
  };
}

/** PrefEval's own filler: its conversations concatenated, the first n user/assistant pairs. */
export function prefevalFiller(data: ReturnType<typeof loadPrefeval>, fillerTurns: number): FillerMessage[] {
  const filler = data.filler.slice(0, fillerTurns * 2);
  if (filler.length < fillerTurns * 2)
    throw new InputError(`the filler holds ${Math.floor(data.filler.length / 2)} turns, fewer than ${fillerTurns}`);
  return filler;
}

/** One case's history as a fresh user's turns (the preference, then the filler), and when the question is asked. */
export function prefevalHistory(
  testCase: PrefevalCase,
  filler: readonly FillerMessage[],
): { turns: EpisodeInput[]; now: Date } {
  const turns: EpisodeInput[] = [
    ...testCase.stated.map((turn) => ({ ...turn, session: 'preference' })),
    ...filler.map((message, index) => ({
      text: message.content,
      role: message.role,
      session: `filler:${message.conversationId}`,
      sourceId: `filler:${index}`,
    })),
  ].map((turn, index) => ({ ...turn, at: new Date(START + index * 60_000) }));
  return { turns, now: new Date(START + turns.length * 60_000) };
}

/** One fresh user in a fresh in-memory file, so no item's statistics leak into another's. */
async function runCase(
  embedder: Embedder,
  testCase: PrefevalCase,
  filler: readonly FillerMessage[],
  latencies: number[],
  learned: boolean,
): Promise<CaseResult> {
  const { turns, now } = prefevalHistory(testCase, filler);
  const store = await openStore(':memory:', { embedder, clock: () => now });
  const user = userScope(`prefeval:${testCase.set}:${testCase.topic}`);
  try {
    await store.addEpisodes(user, turns);
    const searchStarted = performance.now();
    const mnemo = await store.search([user], testCase.question, { k: K, weights: { learned: learned ? 1 : 0 } });
    latencies.push(performance.now() - searchStarted);
    const bm25 = await store.search([user], testCase.question, { k: K, weights: BM25_ONLY });
    const gold = testCase.stated.find((turn) => turn.sourceId === GOLD)!.text;
    const answers = async (memories: readonly SearchHit[]): Promise<boolean> => {
      const preference = await pickPreference(
        embedder,
        memories.slice(0, MCQ_MEMORIES).map((hit) => hit.memory),
        testCase.question,
        testCase.options,
      );
      if (preference === undefined) return false;
      return (await answerMcq(embedder, preference, testCase.options)).chosen === testCase.correct;
    };
    return {
      set: testCase.set,
      topic: testCase.topic,
      mnemoRank: rankOfGold(mnemo),
      bm25Rank: rankOfGold(bm25),
      retrieved: await answers(mnemo),
      bm25Retrieved: await answers(bm25),
      gold: (await answerMcq(embedder, gold, testCase.options)).chosen === testCase.correct,
      goldSimilarityOnly: (await answerBySimilarity(embedder, gold, testCase.options)).chosen === testCase.correct,
    };
  } finally {
    await store.close();
  }
}

const rankOfGold = (hits: readonly SearchHit[]): number | undefined => {
  const index = hits.findIndex((hit) => hit.memory.sourceId === GOLD);
  return index < 0 ? undefined : index + 1;
};

const round = (value: number): number => Math.round(value * 1000) / 1000;
const share = (values: readonly boolean[]): number => round(mean(values.map((value) => (value ? 1 : 0))));

function recall(ranks: ReadonlyArray<number | undefined>): PrefevalRecall {
  const within = (k: number): number => share(ranks.map((rank) => rank !== undefined && rank <= k));
  return { recallAt1: within(1), recallAt5: within(5), recallAt10: within(K) };
}
