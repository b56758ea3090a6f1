import type Database from 'better-sqlite3';
import { supportsLateInteraction, type Embedder, type TokenVectors } from '../embedders/types.js';
import { ftsMatchExpression, type QueryPlan } from '../retrieval/query.js';
import { DEFAULT_WEIGHTS, scoreCandidates, type Candidate, type RankWeights } from '../retrieval/rank.js';
import type { MemoryKind, ScoreParts } from '../types.js';
import { MEMORY_COLUMNS, type MemoryRow } from './rows.js';
import { vectorBytes } from './vectors.js';

/** Everything one namespace's search needs. */
export interface NamespaceSearch {
  readonly namespaceId: number;
  readonly vectorTable: string;
  readonly embedder: Embedder;
  readonly plan: QueryPlan;
  readonly queryVector: Float32Array;
  readonly k: number;
  readonly now: Date;
  readonly kinds: readonly MemoryKind[] | undefined;
  readonly history: boolean;
  readonly weights: Partial<RankWeights> | undefined;
}

/** Candidates each retriever contributes before fusion: enough for recall, few enough to re-rank quickly. */
const candidatePool = (k: number): number => Math.max(60, 4 * k);

type Prepare = (sql: string) => Database.Statement;

/** BM25 and KNN candidates of one namespace, fused, re-ranked and cut to k. */
export function searchNamespace(
  prepare: Prepare,
  search: NamespaceSearch,
): Array<{ row: MemoryRow; score: number; parts: ScoreParts }> {
  const pool = candidatePool(search.k);
  const candidates = new Map<number, Candidate & { row?: MemoryRow }>();
  const candidate = (id: number): Candidate & { row?: MemoryRow } => {
    let found = candidates.get(id);
    if (!found) {
      found = { id, text: '', role: null, at: 0 };
      candidates.set(id, found);
    }
    return found;
  };

  const match = ftsMatchExpression(`n${search.namespaceId}`, search.plan.terms);
  if (match) {
    const textHits = prepare(
      'SELECT rowid AS id, bm25(memories_fts, 0.0, 1.0) AS bm25 FROM memories_fts WHERE memories_fts MATCH ? ORDER BY bm25 LIMIT ?',
    ).all(match, pool) as Array<{ id: number; bm25: number }>;
    textHits.forEach((hit, index) => Object.assign(candidate(hit.id), { textRank: index + 1, bm25: hit.bm25 }));
  }

  const queryBytes = vectorBytes(search.queryVector);
  const vectorHits = prepare(
    `SELECT rowid AS id, distance FROM ${search.vectorTable} WHERE embedding MATCH ? AND k = ? AND namespace_id = CAST(? AS INTEGER)`,
  ).all(queryBytes, pool, search.namespaceId) as Array<{ id: number; distance: number }>;
  vectorHits.forEach((hit, index) => Object.assign(candidate(hit.id), { vectorRank: index + 1, cosine: 1 - hit.distance }));
  if (candidates.size === 0) return [];

  const kinds = search.kinds ? new Set(search.kinds) : undefined;
  const cosine = prepare(`SELECT 1 - vec_distance_cosine(embedding, ?) FROM ${search.vectorTable} WHERE rowid = ?`).pluck();
  const lateInteraction = supportsLateInteraction(search.embedder) ? search.embedder : undefined;
  const queryWords = lateInteraction?.tokenVectors(search.plan.text);
  const kept = new Map<number, Candidate & { row: MemoryRow }>();
  const load = (ids: readonly number[]): void => {
    const rows = prepare(
      `SELECT ${MEMORY_COLUMNS} FROM memories m WHERE m.id IN (SELECT value FROM json_each(?)) AND m.namespace_id = ?`,
    ).all(JSON.stringify(ids), search.namespaceId) as MemoryRow[];
    for (const row of rows) {
      if (kinds && !kinds.has(row.kind)) continue;
      if (!search.history && row.valid_to !== null) continue;
      const entry = Object.assign(candidate(row.id), { text: row.text, role: row.role, at: row.at, row });
      entry.cosine ??= (cosine.get(queryBytes, BigInt(row.id)) as number | undefined) ?? 0;
      if (queryWords && lateInteraction) entry.lateInteraction = maxSim(queryWords, lateInteraction.tokenVectors(row.text), lateInteraction.dims);
      kept.set(row.id, entry);
    }
  };
  load([...candidates.keys()]);

  const weights = { ...DEFAULT_WEIGHTS, ...search.weights };
  let scored = scoreCandidates([...kept.values()], search.plan, search.now, weights);
  if (weights.context > 0) {
    // A turn is often only meaningful with its neighbours ("Which one?" / "The blue one."): the best-scoring
    // turns pull their session neighbours in as candidates, and every turn gains a share of its best neighbour.
    const top = [...scored].sort((a, b) => b.score - a.score).slice(0, CONTEXT_ANCHORS);
    const neighbours = sessionNeighbours(prepare, search.namespaceId, top.map((entry) => entry.candidate.id));
    const missing = [...new Set([...neighbours.values()].flat())].filter((id) => !kept.has(id));
    if (missing.length > 0) {
      load(missing);
      scored = scoreCandidates([...kept.values()], search.plan, search.now, weights);
    }
    const own = new Map(scored.map((entry) => [entry.candidate.id, entry.score]));
    const allNeighbours = sessionNeighbours(prepare, search.namespaceId, [...own.keys()]);
    scored = scored.map((entry) => {
      const best = Math.max(0, ...(allNeighbours.get(entry.candidate.id) ?? []).map((id) => own.get(id) ?? 0));
      const context = weights.context * best;
      return context > 0 ? { ...entry, score: entry.score + context, parts: { ...entry.parts, context } } : entry;
    });
  }
  return scored
    .sort((a, b) => b.score - a.score)
    .slice(0, search.k)
    .map((entry) => ({ row: kept.get(entry.candidate.id)!.row, score: entry.score, parts: entry.parts }));
}

/** How many of the best candidates bring their neighbours into the candidate set. */
const CONTEXT_ANCHORS = 30;

/** The previous and next episode of each given episode in its session. */
function sessionNeighbours(prepare: Prepare, namespaceId: number, ids: readonly number[]): Map<number, number[]> {
  const rows = prepare(
    `SELECT a.id AS id,
       (SELECT p.id FROM memories p WHERE p.namespace_id = a.namespace_id AND p.session = a.session AND p.kind = 'episode'
          AND (p.at < a.at OR (p.at = a.at AND p.id < a.id)) ORDER BY p.at DESC, p.id DESC LIMIT 1) AS previous,
       (SELECT n.id FROM memories n WHERE n.namespace_id = a.namespace_id AND n.session = a.session AND n.kind = 'episode'
          AND (n.at > a.at OR (n.at = a.at AND n.id > a.id)) ORDER BY n.at, n.id LIMIT 1) AS next
     FROM memories a WHERE a.id IN (SELECT value FROM json_each(?)) AND a.namespace_id = ? AND a.kind = 'episode' AND a.session IS NOT NULL`,
  ).all(JSON.stringify(ids), namespaceId) as Array<{ id: number; previous: number | null; next: number | null }>;
  return new Map(rows.map((row) => [row.id, [row.previous, row.next].filter((id): id is number => id !== null)]));
}

/**
 * Word-level late interaction (ColBERT's MaxSim over word vectors): each query word finds its most similar word in
 * the memory; the weighted mean of those similarities rewards paraphrases that pooled vectors blur.
 */
export function maxSim(query: TokenVectors, document: TokenVectors, dims: number): number {
  let total = 0;
  let weightSum = 0;
  for (let q = 0; q < query.words.length; q++) {
    const weight = query.weights[q]!;
    let best = 0;
    for (let d = 0; d < document.words.length; d++) {
      let dot = 0;
      for (let i = 0; i < dims; i++) dot += query.vectors[q * dims + i]! * document.vectors[d * dims + i]!;
      if (dot > best) best = dot;
    }
    total += weight * best;
    weightSum += weight;
  }
  return weightSum > 0 ? total / weightSum : 0;
}
