import { type Embedder, type LateInteractionEmbedder, supportsLateInteraction } from '../embedders/types.js';
import type { SearchDepth } from '../port.js';
import type { MemoryKind, ScoreParts } from '../types.js';
import {
  isFirstPerson,
  learnedScore,
  type RankingInput,
  rankingFeatures,
  rankingRecorder,
  shippedRanker,
  USER_ROLE,
} from './learned.js';
import type { QueryPlan } from './query.js';
import { type Candidate, DEFAULT_WEIGHTS, type RankWeights, RECENCY_HALF_LIFE_MS, scoreCandidates } from './rank.js';

/**
 * How many candidates each stage keeps. Full text is cheap and recalls most evidence, so it contributes the most;
 * vector KNN contributes the paraphrases BM25 misses; only the best of both, and for a question about the asker
 * their own turns, are re-ranked word by word.
 */
export const searchDepth = (k: number): SearchDepth => ({
  text: Math.max(60, 2 * k),
  vector: Math.max(25, k),
  rerank: Math.max(60, 2 * k),
  own: 40,
  ownVector: Math.max(100, k),
});

/** What the ranking reads of a memory row; each backend's row has at least this. */
export interface RankedRow {
  id: number;
  kind: MemoryKind;
  text: string;
  role: string | null;
  at: number;
  valid_to: number | null;
  provenance: string | null;
  /** The session an episode belongs to (read by the learned ranker's session features). */
  session?: string | null;
  /** The id the memory had where it came from (an imported turn's id). */
  source_id?: string | null;
  /** The embedder's word ids (Int32 LE), see {@link wordIdBytes}. */
  word_ids?: Uint8Array | null;
}

/**
 * One namespace's data, as a backend reads it: the ranking below is the same for every backend, only these
 * loaders differ.
 */
export interface NamespaceSource<Row extends RankedRow> {
  /** The best full-text matches of the plan's terms, best first, with FTS5-style BM25 (negative: lower is better). */
  textHits(limit: number): Promise<Array<{ id: number; bm25: number }>>;
  /**
   * The nearest vectors to the query, nearest first, as cosine similarities. A backend that searches partitions of
   * the vectors (SQLite's clustered index) may take only `perPartition` from each.
   */
  vectorHits(limit: number, perPartition: number): Promise<Array<{ id: number; cosine: number }>>;
  /** The rows of these ids that belong to the namespace (provenance may be left null). */
  rows(ids: readonly number[]): Promise<Row[]>;
  /** Cosine of the query with the stored vector of each id, for candidates only full text found. */
  cosines(ids: readonly number[]): Promise<Map<number, number>>;
  /** The previous and next episode of each given episode in its session. */
  sessionNeighbours(ids: readonly number[]): Promise<Map<number, number[]>>;
  /** Each fact's provenance as a comma list of episode row ids. */
  provenance(ids: readonly number[]): Promise<Map<number, string | null>>;
}

/** What one namespace's search ranks with. */
export interface RankedSearch {
  readonly embedder: Embedder;
  readonly plan: QueryPlan;
  readonly queryVector: Float32Array;
  readonly k: number;
  readonly now: Date;
  readonly kinds: readonly MemoryKind[] | undefined;
  readonly history: boolean;
  readonly weights: Partial<RankWeights> | undefined;
  readonly depth: Partial<SearchDepth> | undefined;
}

/**
 * A cosine to the precision every backend agrees on: vectors are stored as float32, and each backend sums the
 * products in its own order, so cosines differ in the eighth digit. Rounded, equal vectors tie everywhere, and the
 * learned ranker's splits see the same values on SQLite and Postgres.
 */
const agreedCosine = (cosine: number): number => Math.round(cosine * 1e6) / 1e6;

/**
 * The 1-based rank of each hit of a list ordered best first, tied values sharing the first one's rank: the order a
 * backend returns ties in is its own, and the learned ranker reads ranks.
 */
function sharedRanks(values: readonly number[]): number[] {
  const ranks: number[] = [];
  for (const [index, value] of values.entries())
    ranks.push(index > 0 && value === values[index - 1] ? ranks[index - 1]! : index + 1);
  return ranks;
}

/** How many of the best candidates bring their session neighbours in. */
const CONTEXT_ANCHORS = 15;

type Entry<Row extends RankedRow> = Candidate & { row: Row };

/** BM25 and KNN candidates of one namespace, fused, re-ranked with word-level similarity and context, cut to k. */
export async function rankNamespace<Row extends RankedRow>(
  source: NamespaceSource<Row>,
  search: RankedSearch,
): Promise<Array<{ row: Row; score: number; parts: ScoreParts }>> {
  const depth = { ...searchDepth(search.k), ...search.depth };
  const weights = { ...DEFAULT_WEIGHTS, ...search.weights };
  const found = new Map<number, Partial<Candidate>>();

  const textHits = await source.textHits(depth.text);
  const textRanks = sharedRanks(textHits.map((hit) => hit.bm25));
  for (const [index, hit] of textHits.entries()) found.set(hit.id, { textRank: textRanks[index]!, bm25: hit.bm25 });
  // A question about the asker ("what should I cook?") is about what the user said: their own turns get re-ranked
  // even when longer turns of others (an assistant's answers, a group chat) outscore them, and are looked for deeper
  // in the vector ranking, since what a person says of themselves is rarely worded like the question.
  const ownDepth = depth.own > 0 && isFirstPerson(search.plan) ? depth.own : 0;
  /** Vector hits only the user's own turns may come from. */
  const deep = new Set<number>();
  if (weights.vector > 0 || weights.lateInteraction > 0) {
    const vectorHits = await source.vectorHits(
      ownDepth > 0 ? Math.max(depth.vector, depth.ownVector) : depth.vector,
      depth.vector,
    );
    const cosines = vectorHits.map((hit) => agreedCosine(hit.cosine));
    const vectorRanks = sharedRanks(cosines);
    for (const [index, hit] of vectorHits.entries()) {
      if (index >= depth.vector && !found.has(hit.id)) deep.add(hit.id);
      found.set(hit.id, { ...found.get(hit.id), vectorRank: vectorRanks[index]!, cosine: cosines[index]! });
    }
  }
  if (found.size === 0) return [];

  const kinds = search.kinds ? new Set(search.kinds) : undefined;
  const lateInteraction = supportsLateInteraction(search.embedder) ? search.embedder : undefined;
  const queryWords =
    lateInteraction && weights.lateInteraction > 0 ? new QueryWords(lateInteraction, search.plan) : undefined;
  const entries = new Map<number, Entry<Row>>();
  // An embedder with word vectors rebuilds a memory's vector from its stored word ids faster than the database can
  // look one up.
  const cosineOf = (row: Row): number | undefined => {
    const vector =
      lateInteraction && row.word_ids ? lateInteraction.embedWordIds(readWordIds(row.word_ids)) : undefined;
    if (!vector) return undefined;
    let dot = 0;
    for (let i = 0; i < vector.length; i++) dot += vector[i]! * search.queryVector[i]!;
    return agreedCosine(dot);
  };
  const load = async (ids: readonly number[]): Promise<Array<Entry<Row>>> => {
    const loaded: Array<Entry<Row>> = [];
    for (const row of await source.rows(ids)) {
      if (kinds && !kinds.has(row.kind)) continue;
      if (!search.history && row.valid_to !== null) continue;
      const entry: Entry<Row> = { id: row.id, text: row.text, role: row.role, at: row.at, row, ...found.get(row.id) };
      const rebuilt = entry.cosine === undefined ? cosineOf(row) : undefined;
      if (rebuilt !== undefined) entry.cosine = rebuilt;
      entries.set(row.id, entry);
      loaded.push(entry);
    }
    const missing = loaded.filter((entry) => entry.cosine === undefined).map((entry) => entry.id);
    const cosines = missing.length > 0 ? await source.cosines(missing) : undefined;
    for (const entry of loaded) entry.cosine ??= agreedCosine(cosines?.get(entry.id) ?? 0);
    return loaded;
  };
  const rerank = (list: ReadonlyArray<Entry<Row>>): void => {
    if (queryWords)
      for (const entry of list)
        entry.lateInteraction ??= queryWords.maxSim(entry.row.word_ids ? readWordIds(entry.row.word_ids) : entry.text);
  };

  // Stage 1: BM25 + cosine (late interaction's weight on cosine) picks who gets re-ranked.
  const firstStage = scoreCandidates(await load([...found.keys()]), search.plan, search.now, {
    ...weights,
    lateInteraction: 0,
    vector: weights.vector + weights.lateInteraction,
  });
  const ranked = firstStage.sort((a, b) => b.score - a.score).map((scored) => scored.candidate as Entry<Row>);
  const shortlist = ranked.filter((entry) => !deep.has(entry.id)).slice(0, depth.rerank);
  if (ownDepth > 0) {
    const listed = new Set(shortlist);
    shortlist.push(
      ...ranked.filter((entry) => !listed.has(entry) && entry.role?.toLowerCase() === USER_ROLE).slice(0, ownDepth),
    );
  }
  rerank(shortlist);
  let scored = scoreCandidates(shortlist, search.plan, search.now, weights);
  // What the learned stage reads of the context stage: each turn's own score and its best neighbour's.
  const ownScore = new Map<number, number>();
  const bestNeighbour = new Map<number, number>();
  const previous = new Map<number, Entry<Row>>();
  const next = new Map<number, Entry<Row>>();
  if (weights.context > 0 && scored.length > 0) {
    // A turn is often only meaningful with its neighbours ("Which one?" / "The blue one."): the best turns pull
    // their session neighbours in, and every turn gains a share of its best neighbour's own score.
    const neighbours = await source.sessionNeighbours(shortlist.map((entry) => entry.id));
    const anchors = [...scored].sort((a, b) => b.score - a.score).slice(0, CONTEXT_ANCHORS);
    const missing = [...new Set(anchors.flatMap((entry) => neighbours.get(entry.candidate.id) ?? []))].filter(
      (id) => !entries.has(id),
    );
    const added = missing.length > 0 ? await load(missing) : [];
    rerank(added);
    // A pulled-in turn's only scored neighbours are the shortlisted turns that pulled it in.
    for (const entry of added) {
      neighbours.set(
        entry.id,
        shortlist.filter((anchor) => neighbours.get(anchor.id)?.includes(entry.id)).map((anchor) => anchor.id),
      );
    }
    scored = scoreCandidates([...shortlist, ...added], search.plan, search.now, weights);
    const own = new Map(scored.map((entry) => [entry.candidate.id, entry.score]));
    for (const entry of scored) {
      const candidate = entry.candidate as Entry<Row>;
      for (const id of neighbours.get(candidate.id) ?? []) {
        const neighbour = entries.get(id);
        // Turns stored at the same moment keep their order by id, as every backend assigns ids in insertion order.
        const before =
          neighbour && (neighbour.at < candidate.at || (neighbour.at === candidate.at && id < candidate.id));
        if (neighbour) (before ? previous : next).set(candidate.id, neighbour);
      }
    }
    scored = scored.map((entry) => {
      const around = neighbours.get(entry.candidate.id) ?? [];
      // A memory with no neighbours (a fact, a one-turn session) is its own context: without this, any turn of a
      // long conversation would outrank it on the boost alone.
      const best = around.length === 0 ? entry.score : Math.max(0, ...around.map((id) => own.get(id) ?? 0));
      ownScore.set(entry.candidate.id, entry.score);
      bestNeighbour.set(entry.candidate.id, around.length === 0 ? 0 : best);
      const context = weights.context * best;
      return context > 0 ? { ...entry, score: entry.score + context, parts: { ...entry.parts, context } } : entry;
    });
  }
  const record = rankingRecorder();
  const ranker = weights.learned > 0 ? shippedRanker() : undefined;
  if ((ranker || record) && scored.length > 0) {
    const ownOf = (neighbour: Entry<Row> | undefined): number =>
      neighbour === undefined ? 0 : (ownScore.get(neighbour.id) ?? 0);
    const words = new Map<number, Int32Array>();
    const wordsOf = (entry: Entry<Row> | undefined): Int32Array | undefined => {
      if (!entry?.row.word_ids) return undefined;
      let ids = words.get(entry.id);
      if (!ids) {
        ids = readWordIds(entry.row.word_ids);
        words.set(entry.id, ids);
      }
      return ids;
    };
    const pool: RankingInput[] = scored.map((entry) => {
      const candidate = entry.candidate as Entry<Row>;
      const inPeriod =
        search.plan.time !== undefined &&
        candidate.at >= search.plan.time.from.getTime() &&
        candidate.at < search.plan.time.to.getTime();
      const age = Math.max(0, search.now.getTime() - candidate.at);
      return {
        text: candidate.text,
        role: candidate.role,
        session: candidate.row.session,
        bm25: candidate.bm25,
        textRank: candidate.textRank,
        cosine: candidate.cosine,
        vectorRank: candidate.vectorRank,
        lateInteraction: candidate.lateInteraction,
        speaker: entry.parts.speaker ?? 0,
        time: inPeriod ? 1 : 0,
        recency: search.plan.recent ? 0.5 ** (age / RECENCY_HALF_LIFE_MS) : 0,
        fused: entry.parts.fused,
        own: ownScore.get(candidate.id) ?? entry.score,
        score: entry.score,
        bestNeighbour: bestNeighbour.get(candidate.id) ?? 0,
        previousOwn: ownOf(previous.get(candidate.id)),
        nextOwn: ownOf(next.get(candidate.id)),
        previousAsks: previous.get(candidate.id)?.text.includes('?') ?? false,
        words: wordsOf(candidate),
        previousWords: wordsOf(previous.get(candidate.id)),
        nextWords: wordsOf(next.get(candidate.id)),
      };
    });
    const features = rankingFeatures(
      pool,
      search.plan,
      lateInteraction && queryWords
        ? { wordWeight: (id) => lateInteraction.wordWeight(id), queryWords: queryWords.ids }
        : undefined,
    );
    record?.({
      query: search.plan.text,
      ids: scored.map((entry) => entry.candidate.id),
      sourceIds: scored.map((entry) => (entry.candidate as Entry<Row>).row.source_id ?? null),
      features,
      scores: scored.map((entry) => entry.score),
    });
    if (ranker)
      scored = scored.map((entry, index) => {
        // A probability, so scores stay positive for the scope weights that multiply them.
        const learned = 1 / (1 + Math.exp(-learnedScore(ranker, features[index]!)));
        return { ...entry, score: weights.learned * learned, parts: { ...entry.parts, learned } };
      });
  }
  const top = scored.sort((a, b) => b.score - a.score).slice(0, search.k);
  // Provenance only for what is returned: looking it up for every candidate would cost more than the rest.
  const rows = top.map((entry) => (entry.candidate as Entry<Row>).row);
  const facts = rows.filter((row) => row.kind !== 'episode').map((row) => row.id);
  const provenance = facts.length > 0 ? await source.provenance(facts) : undefined;
  return top.map((entry, index) => {
    const row = rows[index]!;
    if (row.kind !== 'episode') row.provenance = provenance?.get(row.id) ?? null;
    return { row, score: entry.score, parts: entry.parts };
  });
}

/** The embedder's word ids of `text` as stored with a memory, or null when it has no word vectors. */
export function wordIdBytes(embedder: Embedder, text: string): Buffer | null {
  if (!supportsLateInteraction(embedder)) return null;
  const ids = embedder.wordIds(text);
  return Buffer.from(ids.buffer, ids.byteOffset, ids.byteLength);
}

/** Inverse of {@link wordIdBytes}. */
export function readWordIds(bytes: Uint8Array): Int32Array {
  // Copy: a Buffer's offset into the driver's result memory need not be 4-byte aligned.
  const copy = new Uint8Array(bytes);
  return new Int32Array(copy.buffer, 0, copy.byteLength >> 2);
}

/**
 * Word-level late interaction (ColBERT's MaxSim over word vectors): each query word finds its most similar word in
 * the memory; the weighted mean of those similarities rewards paraphrases that pooled vectors blur. Similarities are
 * memoised per vocabulary word, since candidates share most of their words.
 */
export class QueryWords {
  /** The query's content words, once each. */
  readonly ids: Int32Array;
  private readonly weights: Float64Array;
  private readonly weightSum: number;
  /** The query words' unit vectors, one row of `dims` each. */
  private readonly vectors: Float32Array;
  private readonly similarities = new Map<number, Float64Array>();

  constructor(
    private readonly embedder: LateInteractionEmbedder,
    plan: QueryPlan,
  ) {
    // Only the query's content words take part: "what", "do" and "have" would match every turn a little.
    const words = plan.terms.length > 0 ? plan.terms.join(' ') : plan.text;
    this.ids = Int32Array.from(new Set(embedder.wordIds(words)));
    this.weights = Float64Array.from(this.ids, (id) => embedder.wordWeight(id));
    this.weightSum = this.weights.reduce((sum, weight) => sum + weight, 0);
    this.vectors = new Float32Array(this.ids.length * embedder.dims);
    for (const [index, id] of this.ids.entries()) this.vectors.set(embedder.wordVector(id), index * embedder.dims);
  }

  /** MaxSim against a text, or against its stored word ids. */
  maxSim(text: string | Int32Array): number {
    if (this.weightSum === 0) return 0;
    const best = new Float64Array(this.ids.length);
    for (const id of typeof text === 'string' ? this.embedder.wordIds(text) : text) {
      const similarity = this.similarityTo(id);
      for (let q = 0; q < best.length; q++) if (similarity[q]! > best[q]!) best[q] = similarity[q]!;
    }
    let total = 0;
    for (let q = 0; q < best.length; q++) total += this.weights[q]! * best[q]!;
    return total / this.weightSum;
  }

  private similarityTo(id: number): Float64Array {
    let similarity = this.similarities.get(id);
    if (!similarity) {
      similarity = new Float64Array(this.ids.length);
      this.embedder.wordSimilarities(id, this.vectors, similarity);
      this.similarities.set(id, similarity);
    }
    return similarity;
  }
}
