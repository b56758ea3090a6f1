import { tokenizeWords } from '../text/nlp.js';

/**
 * FTS5 has no partitions, so mnemo makes its own: every indexed word is written as `n<namespace>x<word>`. A user's
 * query then walks only that user's postings however many other users share the file, and BM25's document
 * frequencies are the user's own (its row count and average length stay file-wide: FTS5 keeps no others). The prefix holds no vowel, so FTS5's Porter stemmer treats `n7xrunning` exactly
 * like `running` (its rules look only at suffixes and at the vowels of the stem).
 */
const prefix = (namespaceId: number): string => `n${namespaceId}x`;

/** Alphanumeric pieces of a wink-normalised word ("t-shirt" → "t", "shirt"), as unicode61 would split them. */
const pieces = (word: string): string[] => word.split(/[^\p{L}\p{N}]+/u).filter((piece) => piece !== '');

/** The indexed form of a memory's text. */
export function indexedTerms(namespaceId: number, text: string): string {
  const head = prefix(namespaceId);
  const words: string[] = [];
  for (const token of tokenizeWords(text)) for (const piece of pieces(token.normal)) words.push(head + piece);
  return words.join(' ');
}

/** FTS5 MATCH expression for any of `terms` in one namespace; every term is quoted, so text can't inject syntax. */
export function matchExpression(namespaceId: number, terms: readonly string[]): string | undefined {
  const head = prefix(namespaceId);
  const quoted = [...new Set(terms.flatMap((term) => pieces(term.toLowerCase())))].map((piece) => `"${head}${piece}"`);
  return quoted.length > 0 ? quoted.join(' OR ') : undefined;
}
