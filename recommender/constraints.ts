import { type Token, tokenize } from '../memory/index.js';

/** What one memory says about the user's taste: things to avoid (hard) or things they like (soft). */
export interface TastePreference {
  readonly polarity: 'avoid' | 'like';
  /** Match keys of the words the preference is about (see {@link matchKey}). */
  readonly terms: readonly string[];
  readonly memoryId: string;
  readonly text: string;
}

type Polarity = TastePreference['polarity'];

// ---------------------------------------------------------------------------------------------------------------
// Matching statement words to item tags. Both sides go through matchKey, so "Sci-Fi", "sci fi", "scifi" and
// "science fiction" meet at one key.

/** Genre words spelt differently from the tag they mean, by match key. Kept to words that mean one genre only. */
const GENRE_ALIASES = new Map([
  ['sciencefiction', 'scifi'],
  ['noir', 'filmnoir'],
  ['animated', 'animation'],
  ['cartoon', 'animation'],
  ['romantic', 'romance'],
  ['scary', 'horror'],
]);

/** Genre keys of more than one word when written out ("science fiction", "sci fi", "film noir"). */
const COMPOUND_GENRES = new Set(['scifi', 'filmnoir']);

// Words that name no kind of film on their own ("I like movies", "a big fan"); they still count inside a longer
// name ("horror movies", "TV movie").
const GENERIC_WORDS = new Set([
  'movie',
  'film',
  'flick',
  'thing',
  'stuff',
  'one',
  'genre',
  'kind',
  'type',
  'user',
  'big',
  'huge',
  'real',
  'total',
]);

const singular = (word: string): string =>
  word.length > 3 && word.endsWith('s') && !word.endsWith('ss') ? word.slice(0, -1) : word;

/**
 * The key a tag or statement word is matched by: case, accents, hyphens and spaces folded, singular, common genre
 * spellings merged. `matchKey('Sci-Fi') === matchKey('science fiction') === 'scifi'`.
 */
export function matchKey(text: string): string {
  const folded = text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]/gu, '');
  const key = singular(folded);
  return GENRE_ALIASES.get(key) ?? key;
}

/** Match keys of an item tag: the whole tag, folded ("Film-Noir" → filmnoir). */
export function tagKeys(tag: string): string[] {
  const key = matchKey(tag);
  return key ? [key] : [];
}

// ---------------------------------------------------------------------------------------------------------------
// Reading statements. A memory is cut into clauses; each clause has at most one cue (a word or phrase saying
// like or avoid), a negation flag and the names it is about. A clause with neither cue nor verb continues the one
// before it: "I love comedies, thrillers and dramas".

/** What a clause's cue says before negation. `reject` is a verb that rejects only when negated: "can't stand". */
type Cue = 'like' | 'avoid' | 'reject';

const LIKE_WORDS = new Set(['love', 'like', 'enjoy', 'adore', 'prefer', 'fancy', 'favourite', 'favorite', 'fan']);
const AVOID_WORDS = new Set(['hate', 'dislike', 'detest', 'loathe', 'avoid', 'despise', 'abhor', 'refuse']);
const REJECT_WHEN_NEGATED = new Set([
  'stand',
  'bear',
  'tolerate',
  'watch',
  'see',
  'want',
  'show',
  'recommend',
  'suggest',
  'give',
  'play',
  'need',
  'do',
]);
const NEGATIONS = new Set(['not', 'never', 'neither', 'hardly']);
/**
 * Negations that, with no verb, avoid the name right after them ("No horror please", "nothing scary"), and nothing
 * else in their clause: "I watched a horror film with no sound" avoids no horror.
 */
const REFUSALS = new Set(['no', 'nothing']);
/** Words a refusal reaches across to its name: "no more horror", "nothing too scary". */
const REFUSAL_GAP_TAGS = new Set(['DET', 'ADJ', 'ADV']);
const CONTRASTS = new Set(['but', 'although', 'though', 'however', 'whereas']);
const EXCEPTIONS = new Set(['except', 'excluding']);
const SENTENCE_ENDS = new Set(['.', '!', '?', ';']);
/** Punctuation inside a clause: hyphens join words, quotes and colons ("Horror: no thanks") cut nothing. */
const QUIET_PUNCTUATION = new Set(['-', ':', '"', "'", '“', '”', '‘', '’', '`']);

/**
 * What a phrase does besides cueing: `exception` opens the opposite of the clause before ("apart from"); `exclusion`
 * does that too and avoids what follows on its own ("anything but"); `refusal` is a negation that avoids what
 * follows on its own ("just not"); `idiom` says nothing, and keeps its "no" from refusing ("no problem with").
 */
type Role = Cue | 'exception' | 'exclusion' | 'refusal' | 'idiom';
/** Several-word cues and markers, by lower-case surface form or lemma ("beats" → beat). */
const PHRASES: ReadonlyArray<{ readonly words: readonly string[]; readonly role: Role }> = [
  { words: ['no', 'thanks'], role: 'avoid' },
  { words: ['no', 'thank'], role: 'avoid' },
  { words: ['just', 'not'], role: 'refusal' },
  { words: ['anything', 'but'], role: 'exclusion' },
  { words: ['anything', 'except'], role: 'exclusion' },
  { words: ['anything', 'other', 'than'], role: 'exclusion' },
  { words: ['everything', 'but'], role: 'exclusion' },
  { words: ['everything', 'except'], role: 'exclusion' },
  { words: ['everything', 'other', 'than'], role: 'exclusion' },
  { words: ['not', 'get', 'enough'], role: 'like' }, // "can't get enough of horror"
  { words: ['never', 'get', 'enough'], role: 'like' },
  { words: ['nothing', 'beat'], role: 'like' },
  { words: ['nothing', 'better', 'than'], role: 'like' },
  { words: ['nothing', 'like', 'a'], role: 'like' }, // "nothing like a good western"
  { words: ['nothing', 'like', 'an'], role: 'like' },
  { words: ['nothing', 'like'], role: 'idiom' }, // "it's nothing like Alien"
  { words: ['no', 'problem'], role: 'idiom' },
  { words: ['no', 'issue'], role: 'idiom' },
  { words: ['no', 'objection'], role: 'idiom' },
  { words: ['nothing', 'against'], role: 'idiom' },
  { words: ['no', 'doubt'], role: 'idiom' },
  { words: ['no', 'matter'], role: 'idiom' },
  { words: ['no', 'wonder'], role: 'idiom' },
  { words: ['tired', 'of'], role: 'avoid' },
  { words: ['sick', 'of'], role: 'avoid' },
  { words: ['fed', 'up'], role: 'avoid' },
  { words: ['for', 'me'], role: 'like' }, // "horror is not for me"
  { words: ['my', 'thing'], role: 'like' }, // "westerns aren't my thing"
  { words: ['my', 'cup', 'of', 'tea'], role: 'like' },
  { words: ['apart', 'from'], role: 'exception' },
  { words: ['aside', 'from'], role: 'exception' },
  { words: ['other', 'than'], role: 'exception' },
];

/** A word of a name, as lemma and as written; a hyphenated word is one word ("sci-fi"). */
interface Word {
  lemma: string;
  normal: string;
}

interface Clause {
  cue: Cue | null;
  negated: boolean;
  /** Opened by "just not" or "anything but": avoids its names when nothing else in the clause or before says. */
  excluding: boolean;
  /** Runs of adjacent content words: the names the clause is about. */
  names: Word[][];
  /** The runs of `names` right after a refusal ("no horror"), avoided whatever the rest of the clause says. */
  refused: Word[][];
  /**
   * It has a verb of its own, so it does not continue the clause before: an auxiliary anywhere, or a verb before its
   * first name (after one, wink mistags nouns: "thrillers and gore" tags gore as a verb).
   */
  verb: boolean;
  /** "used to ...": about the past, no preference now. */
  past: boolean;
  /** "did not ...": about one occasion, so "didn't watch" rejects nothing. */
  occasion: boolean;
  /** Opened by "except" or "apart from": the opposite of the clause before. */
  exception: boolean;
  /** Nothing carries over from the sentence before. */
  sentenceStart: boolean;
}

const newClause = (start: Partial<Clause> = {}): Clause => ({
  cue: null,
  negated: false,
  excluding: false,
  names: [],
  refused: [],
  verb: false,
  past: false,
  occasion: false,
  exception: false,
  sentenceStart: false,
  ...start,
});

/** The dictionary forms a cue word is looked up by; wink sometimes leaves "dislikes" unlemmatised. */
const cueForms = (token: Token): string[] => [token.lemma, token.normal, singular(token.normal)];

const isName = (token: Token): boolean =>
  token.type === 'word' &&
  !token.stop &&
  !token.normal.includes("'") &&
  ['NOUN', 'PROPN', 'ADJ', 'X'].includes(token.pos);

function phraseAt(tokens: readonly Token[], index: number): (typeof PHRASES)[number] | undefined {
  return PHRASES.find((phrase) =>
    phrase.words.every((word, offset) => {
      const token = tokens[index + offset];
      return token?.normal === word || token?.lemma === word;
    }),
  );
}

/** The cue a single token gives in its clause, if any. */
function cueOf(tokens: readonly Token[], index: number, clause: Clause): Cue | null {
  const token = tokens[index]!;
  const forms = cueForms(token);
  if (forms.some((form) => AVOID_WORDS.has(form))) return 'avoid';
  // "like" as a preposition ("films like Alien") says nothing.
  if (forms.some((form) => LIKE_WORDS.has(form)) && token.pos !== 'ADP' && token.pos !== 'SCONJ') return 'like';
  if (token.normal === 'into') {
    // "I'm (not) into westerns", not "ran into".
    const before = tokens[index - 1];
    if (
      before &&
      (before.lemma === 'be' ||
        before.normal.endsWith("'m") ||
        before.normal === 'im' ||
        NEGATIONS.has(before.normal) ||
        before.pos === 'ADV')
    )
      return 'like';
  }
  if (clause.negated && !clause.occasion && REJECT_WHEN_NEGATED.has(token.lemma)) {
    // "don't do horror", not the auxiliary of "don't like".
    const next = tokens[index + 1];
    if (token.lemma !== 'do' || (next && !['VERB', 'AUX', 'PART'].includes(next.pos))) return 'reject';
  }
  return null;
}

/** Cuts a statement into clauses at punctuation, contrasts, exceptions and a negation after a cue's names. */
function clausesOf(tokens: readonly Token[]): Clause[] {
  const clauses: Clause[] = [];
  let clause = newClause({ sentenceStart: true });
  // Whether the previous token was part of a name, and whether a hyphen joins the next word to it ("sci-fi").
  let inName = false;
  let joinNext = false;
  // A refusal ("no") waiting for the name it is about, with the clause's negation before it.
  let refusalPending: { wasNegated: boolean } | null = null;
  const close = (next: Partial<Clause> = {}): void => {
    clauses.push(clause);
    clause = newClause(next);
  };
  /** A negation: after a cue's names it opens a clause of its own ("I like comedies not horror"). */
  const negate = (excluding: boolean): void => {
    if (clause.cue && clause.names.length > 0) close({ negated: true, excluding });
    else {
      clause.negated = true;
      clause.excluding ||= excluding;
    }
  };
  for (let index = 0; index < tokens.length; index++) {
    const token = tokens[index]!;
    if (token.normal === "'s" && inName) continue; // "children's movies" is one name
    const continuesName: boolean = inName;
    const joins = joinNext;
    const refusing: { wasNegated: boolean } | null = refusalPending;
    inName = joinNext = false;
    refusalPending = null;
    const phrase = phraseAt(tokens, index);
    if (phrase) {
      if (phrase.role === 'exception' || phrase.role === 'exclusion')
        close({ exception: true, excluding: phrase.role === 'exclusion' });
      else if (phrase.role === 'refusal') negate(true);
      else if (phrase.role !== 'idiom') clause.cue ??= phrase.role;
      index += phrase.words.length - 1;
    } else if (token.type === 'punctuation') {
      if (SENTENCE_ENDS.has(token.normal)) close({ sentenceStart: true });
      else if (!QUIET_PUNCTUATION.has(token.normal)) close();
      else if (token.normal === '-') inName = joinNext = continuesName;
    } else if (CONTRASTS.has(token.normal)) close();
    else if (EXCEPTIONS.has(token.normal)) close({ exception: true });
    else if (token.normal === 'nothing') {
      // Only a refusal: "there's nothing I love more than westerns" negates no cue.
      refusalPending = { wasNegated: clause.negated };
    } else if (NEGATIONS.has(token.normal) || REFUSALS.has(token.normal)) {
      const wasNegated = clause.negated && !(clause.cue && clause.names.length > 0);
      negate(false);
      if (REFUSALS.has(token.normal)) refusalPending = { wasNegated };
    } else if (token.lemma === 'use' && tokens[index + 1]?.normal === 'to') {
      clause.past = true;
      index++;
    } else {
      const cue = cueOf(tokens, index, clause);
      const run = clause.names.at(-1);
      if (cue && continuesName && run && clause.refused.at(-1) === run) {
        // "I'm no big fan of musicals": the refusal was about the cue its words lead to.
        clause.refused.pop();
        clause.negated = true;
      }
      if (cue) clause.cue ??= cue;
      else if (isName(token)) {
        const last = run?.at(-1);
        if (joins && last) {
          last.lemma += token.lemma;
          last.normal += token.normal;
        } else if (continuesName && run) run.push({ lemma: token.lemma, normal: token.normal });
        else {
          const started = [{ lemma: token.lemma, normal: token.normal }];
          clause.names.push(started);
          if (refusing) {
            // Spent on its name, a refusal negates nothing else: "a western with no sound, and loved it".
            clause.refused.push(started);
            clause.negated = refusing.wasNegated;
          }
        }
        inName = true;
      } else if (refusing && token.stop && REFUSAL_GAP_TAGS.has(token.pos)) refusalPending = refusing;
      else if (token.pos === 'AUX' || (token.pos === 'VERB' && clause.names.length === 0)) {
        clause.verb = true;
        if (token.normal === 'did') clause.occasion = true;
      }
    }
  }
  clauses.push(clause);
  return clauses;
}

/**
 * Match keys of a clause's names: every word and run of up to three adjacent words, as lemmas and as written. The
 * words of a written-out genre count only together: "science fiction" is scifi, not science.
 */
function keysOf(names: readonly Word[][]): string[] {
  const keys = new Set<string>();
  for (const run of names) {
    const spans: Array<{ words: Word[]; keys: string[] }> = [];
    const inCompound = new Set<Word>();
    for (let start = 0; start < run.length; start++) {
      for (let end = start + 1; end <= Math.min(run.length, start + 3); end++) {
        const words = run.slice(start, end);
        const spanKeys = [words.map((word) => word.lemma).join(''), words.map((word) => word.normal).join('')].map(
          matchKey,
        );
        if (words.length > 1 && spanKeys.some((key) => COMPOUND_GENRES.has(key)))
          for (const word of words) inCompound.add(word);
        spans.push({ words, keys: spanKeys });
      }
    }
    for (const span of spans) {
      const [word] = span.words;
      if (span.words.length === 1 && word && inCompound.has(word)) continue;
      for (const key of span.keys) if (key && !(span.words.length === 1 && GENERIC_WORDS.has(key))) keys.add(key);
    }
  }
  return [...keys];
}

/** Not liking is avoiding; not avoiding ("I don't hate horror") says nothing. */
const opposite = (polarity: Polarity | null): Polarity | null => (polarity === 'like' ? 'avoid' : null);

/** What a clause says about its names, refusals aside. */
function polarityOf(clause: Clause, before: Polarity | null): Polarity | null {
  if (clause.past) return null;
  // "I like everything except horror"; "I hate everything but comedies" says nothing we can use.
  if (clause.exception) return before ? opposite(before) : clause.excluding ? 'avoid' : null;
  if (clause.cue === 'reject') return 'avoid';
  if (clause.cue) return clause.negated ? opposite(clause.cue) : clause.cue;
  // A clause with no verb continues the one before: "I can't stand horror, thrillers and gore", "..., just not horror".
  if (!clause.verb && before) return clause.negated ? opposite(before) : before;
  if (clause.excluding) return 'avoid'; // "just not horror please"
  return null;
}

/**
 * Reads likes and hard dislikes from memory texts with wink-nlp's tokens and a small rule set: like cues ("love",
 * "fan of", "into", "my thing"), avoid cues ("hate", "no thanks", "refuse") and verbs that avoid when negated
 * ("can't stand", "never recommend"); a negation flips a like to an avoid within its clause, a refusal avoids only
 * the name right after it ("no horror"), "just not" and "anything but" avoid on their own, and a clause with no verb
 * of its own continues the one before ("I like movies, thrillers"). "I don't hate horror" says nothing.
 */
export function readPreferences(memories: ReadonlyArray<{ id: string; text: string }>): TastePreference[] {
  const preferences: TastePreference[] = [];
  for (const memory of memories) {
    let before: Polarity | null = null;
    // Names said with no preference, which a following cue with no names of its own is about: "Horror? No thanks."
    let topic: string[] = [];
    for (const clause of clausesOf(tokenize(memory.text))) {
      if (clause.sentenceStart) before = null;
      let polarity = polarityOf(clause, before);
      const refused = clause.past ? [] : keysOf(clause.refused);
      let terms = keysOf(clause.names.filter((run) => !clause.refused.includes(run)));
      if (polarity && clause.cue && terms.length === 0 && refused.length === 0) terms = topic;
      // "no horror, thrillers or gore": a clause that only refuses is an avoid the next one may continue.
      if (refused.length > 0 && terms.length === 0) polarity = 'avoid';
      const avoided = [...new Set([...refused, ...(polarity === 'avoid' ? terms : [])])];
      if (avoided.length > 0)
        preferences.push({ polarity: 'avoid', terms: avoided, memoryId: memory.id, text: memory.text });
      if (polarity === 'like' && terms.length > 0)
        preferences.push({ polarity, terms, memoryId: memory.id, text: memory.text });
      topic = !polarity && (!clause.verb || clause.past) ? terms : [];
      if (clause.cue || clause.names.length > 0 || clause.past) before = polarity;
    }
  }
  return preferences;
}

/** The avoid preferences an item's tags violate (empty: the item is allowed). */
export function violations(tags: readonly string[], preferences: readonly TastePreference[]): TastePreference[] {
  return matching(tags, preferences, 'avoid');
}

/** The like preferences an item's tags match. */
export function matchingLikes(tags: readonly string[], preferences: readonly TastePreference[]): TastePreference[] {
  return matching(tags, preferences, 'like');
}

function matching(
  tags: readonly string[],
  preferences: readonly TastePreference[],
  polarity: Polarity,
): TastePreference[] {
  const keys = new Set(tags.flatMap(tagKeys));
  return preferences.filter(
    (preference) => preference.polarity === polarity && preference.terms.some((term) => keys.has(term)),
  );
}
