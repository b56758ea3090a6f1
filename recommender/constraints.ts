import { tokenize, type Token } from '../memory/text/nlp.js';

/** What one memory says about the user's taste: things to avoid (hard) or things they like (soft). */
export interface TastePreference {
  readonly polarity: 'avoid' | 'like';
  /** Match keys of the words the preference is about (see {@link tagKeys}). */
  readonly terms: readonly string[];
  readonly memoryId: string;
  readonly text: string;
}

const NEGATIONS = new Set(['not', 'never', 'no', 'nothing', 'hardly']);
const AVOID_VERBS = new Set(['hate', 'dislike', 'detest', 'loathe', 'avoid', 'despise', 'abhor']);
const LIKE_VERBS = new Set(['love', 'like', 'enjoy', 'adore', 'prefer', 'fancy', 'favourite', 'favorite', 'fan']);
// Verbs that mean rejection only when negated: "can't stand", "never watch", "don't want".
const NEGATABLE_VERBS = new Set(['stand', 'bear', 'tolerate', 'watch', 'want', 'see', 'do']);
const CLAUSE_BREAKS = new Set(['but', 'although', 'though', 'except', 'however', 'unless']);

const singular = (word: string): string => (word.length > 3 && word.endsWith('s') && !word.endsWith('ss') ? word.slice(0, -1) : word);

/** Keys a word or tag is matched by: lower-case letters only, singular ("Westerns" → "western", "Sci-Fi" → "scifi"). */
export function matchKey(text: string): string {
  return singular(text.toLowerCase().replace(/[^a-z0-9]/g, ''));
}

/** Match keys of an item tag: the whole tag and its words ("Film-Noir" → filmnoir). */
export function tagKeys(tag: string): string[] {
  return [matchKey(tag)];
}

function negatedBefore(tokens: readonly Token[], index: number): boolean {
  for (let back = index - 1; back >= Math.max(0, index - 3); back--) {
    const token = tokens[back]!;
    if (NEGATIONS.has(token.lemma) || NEGATIONS.has(token.normal)) return true;
    if (token.type === 'punctuation') return false;
  }
  return false;
}

/**
 * Reads likes and hard dislikes from memory texts with wink-nlp's tokens and a small rule: a negative verb ("hate",
 * "can't stand", "don't like", "no ...") opens an avoid clause, a positive one a like clause; the nouns and
 * adjectives up to the next clause break are what the clause is about. "I don't hate horror" says nothing.
 */
export function readPreferences(memories: ReadonlyArray<{ id: string; text: string }>): TastePreference[] {
  const preferences: TastePreference[] = [];
  for (const memory of memories) {
    const tokens = tokenize(memory.text);
    let polarity: 'avoid' | 'like' | null = null;
    let terms: string[] = [];
    let previousWord: string | null = null;
    const close = (): void => {
      if (polarity && terms.length > 0) preferences.push({ polarity, terms: [...new Set(terms)], memoryId: memory.id, text: memory.text });
      polarity = null;
      terms = [];
      previousWord = null;
    };
    tokens.forEach((token, index) => {
      const lemma = token.lemma.toLowerCase();
      if (CLAUSE_BREAKS.has(lemma) || (token.type === 'punctuation' && token.normal !== '-')) {
        if (token.normal !== ',' || CLAUSE_BREAKS.has(lemma)) close();
        if (token.normal !== '-') previousWord = null;
        return;
      }
      const negated = negatedBefore(tokens, index);
      if (AVOID_VERBS.has(lemma)) {
        close();
        polarity = negated ? null : 'avoid';
        return;
      }
      if (LIKE_VERBS.has(lemma) && token.pos !== 'ADP') {
        close();
        polarity = negated ? 'avoid' : 'like';
        return;
      }
      if (NEGATABLE_VERBS.has(lemma) && negated) {
        close();
        polarity = 'avoid';
        return;
      }
      if (lemma === 'no' && token.pos === 'DET') {
        close();
        polarity = 'avoid';
        return;
      }
      if (!polarity || token.stop || token.type !== 'word' || !['NOUN', 'PROPN', 'ADJ', 'X'].includes(token.pos)) {
        previousWord = null;
        return;
      }
      terms.push(matchKey(token.lemma), matchKey(token.normal));
      // Hyphenated and two-word genres ("sci-fi", "film noir") match their joined form.
      if (previousWord) terms.push(matchKey(previousWord + token.normal));
      previousWord = token.normal;
    });
    close();
  }
  return preferences;
}

/** The avoid preferences an item's tags violate (empty: the item is allowed). */
export function violations(tags: readonly string[], preferences: readonly TastePreference[]): TastePreference[] {
  const keys = new Set(tags.flatMap(tagKeys));
  return preferences.filter((preference) => preference.polarity === 'avoid' && preference.terms.some((term) => keys.has(term)));
}

/** The like preferences an item's tags match. */
export function matchingLikes(tags: readonly string[], preferences: readonly TastePreference[]): TastePreference[] {
  const keys = new Set(tags.flatMap(tagKeys));
  return preferences.filter((preference) => preference.polarity === 'like' && preference.terms.some((term) => keys.has(term)));
}
