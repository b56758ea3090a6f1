import type pg from 'pg';
import { tokenizeWords } from '../text/nlp.js';

/** BM25 parameters, FTS5's. */
const K1 = 1.2;
const B = 0.75;

/**
 * Alphanumeric pieces of a word ("t-shirt" → "t", "shirt"), as FTS5's unicode61 splits them, with diacritics
 * removed as its `remove_diacritics 2` does: the words SQLite indexes, so both backends match and count alike.
 */
const pieces = (word: string): string[] =>
  word
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .split(/[^\p{L}\p{N}]+/u)
    .filter((piece) => piece !== '')
    .map((piece) => piece.toLowerCase());

/** The indexed words of a memory's text (SQLite's fts-terms.ts without the namespace prefix) and how many. */
export function indexedWords(text: string): { words: string; count: number } {
  const words: string[] = [];
  for (const token of tokenizeWords(text)) words.push(...pieces(token.normal));
  return { words: words.join(' '), count: words.length };
}

/** The distinct words of a query's terms, each one FTS5 phrase of SQLite's OR query. */
export const queryWords = (terms: readonly string[]): string[] => [...new Set(terms.flatMap(pieces))];

/**
 * The namespace's best full-text matches of `terms` (any of them), with the BM25 score FTS5's `bm25()` gives (negative,
 * lower is better). PostgreSQL has no BM25 (`ts_rank_cd` ignores document frequency), so it is computed here from
 * every match of the namespace: term frequencies and lengths from the rows, document frequencies from the matches
 * (the per-namespace figures SQLite's prefixed terms give), the row count and average length over the whole table
 * (which is what FTS5 uses), from the namespaces' counters.
 */
export async function textMatches(
  client: pg.Pool | pg.ClientBase,
  namespaceId: number,
  terms: readonly string[],
  limit: number,
): Promise<Array<{ id: number; bm25: number }>> {
  const phrases = queryWords(terms);
  if (phrases.length === 0) return [];
  // Each phrase's lexeme under the same configuration; then every match with the frequency of each lexeme.
  const { rows } = await client.query<{
    id: number;
    words: number;
    frequencies: Record<string, number> | null;
    lexemes: string[];
    total_rows: number;
    total_words: number;
  }>(
    `WITH phrases AS (
       SELECT ordinality, (tsvector_to_array(to_tsvector('mnemo', phrase)))[1] AS lexeme
       FROM unnest($2::text[]) WITH ORDINALITY AS phrase
     ),
     query AS (SELECT to_tsquery('mnemo', string_agg(quote_literal(lexeme), ' | ')) AS q FROM phrases WHERE lexeme IS NOT NULL)
     SELECT m.id, m.words,
       (SELECT jsonb_object_agg(u.lexeme, cardinality(u.positions)) FROM unnest(m.tsv) u
         WHERE u.lexeme IN (SELECT lexeme FROM phrases)) AS frequencies,
       (SELECT array_agg(coalesce(lexeme, '') ORDER BY ordinality) FROM phrases) AS lexemes,
       (SELECT sum(memories) FROM namespaces) AS total_rows,
       (SELECT sum(words) FROM namespaces) AS total_words
     FROM memories m, query
     WHERE m.namespace_id = $1 AND m.tsv @@ query.q`,
    [namespaceId, phrases],
  );
  const first = rows[0];
  if (!first) return [];
  const documents = Math.max(first.total_rows, rows.length);
  const averageLength = first.total_words / documents || 1;
  const hits = new Map<string, number>();
  for (const row of rows)
    for (const lexeme of Object.keys(row.frequencies ?? {})) hits.set(lexeme, (hits.get(lexeme) ?? 0) + 1);
  const scored = rows.map((row) => {
    let score = 0;
    for (const lexeme of first.lexemes) {
      const frequency = row.frequencies?.[lexeme] ?? 0;
      if (lexeme === '' || frequency === 0) continue;
      const found = hits.get(lexeme) ?? 0;
      let idf = Math.log((documents - found + 0.5) / (found + 0.5));
      if (idf <= 0) idf = 1e-6;
      score += (idf * (frequency * (K1 + 1))) / (frequency + K1 * (1 - B + (B * row.words) / averageLength));
    }
    return { id: row.id, bm25: -score };
  });
  return scored.sort((a, b) => a.bm25 - b.bm25 || a.id - b.id).slice(0, limit);
}
