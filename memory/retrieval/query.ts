import { analyze, isContentToken, tokenize } from '../text/nlp.js';
import { type TimeRange, timeRangeOf } from './time.js';

/**
 * What retrieval looks for, generated from the user's input (φq in the survey's terms). The offline rules below
 * make one; an agent can plug in an LLM rewrite that returns the same shape.
 */
export interface QueryPlan {
  /** The text as the user wrote it. */
  readonly text: string;
  /** Text to embed for vector search. */
  readonly embedText: string;
  /** Word forms for full-text search (surface forms and lemmas of the content words). */
  readonly terms: readonly string[];
  /** Names the query mentions (proper nouns): memories spoken by or about them rank higher. */
  readonly names: readonly string[];
  /** The period the query asks about ("last month", "in May 2023"), if any. */
  readonly time?: TimeRange;
  /** True when the query asks for recent things ("lately", "latest", "recently"). */
  readonly recent: boolean;
  /** Tokens a model spent making this plan (an LLM rewrite), for the caller's accounting. */
  readonly usage?: { readonly input: number; readonly output: number };
}

/** Input of a query generator: the latest message and, optionally, the conversation so far. */
export interface QueryInput {
  readonly text: string;
  /** Earlier messages of the thread, oldest first; short follow-ups ("and her sister?") borrow their words. */
  readonly history?: readonly string[];
  readonly now: Date;
}

/** A pluggable φq step: offline rules by default, an LLM rewrite in the agent. */
export type QueryGenerator = (input: QueryInput) => QueryPlan | Promise<QueryPlan>;

const RECENT_WORDS = new Set(['recent', 'recently', 'lately', 'latest', 'newest', 'currently', 'nowadays', 'now']);
// Words that shape a question but never identify the memory it is about.
const QUESTION_WORDS = new Set([
  'what',
  'when',
  'where',
  'who',
  'whom',
  'which',
  'why',
  'how',
  'whose',
  'kind',
  'type',
  'sort',
  'thing',
  'things',
  'something',
  'anything',
  'likely',
  'would',
  'might',
]);

/** Follow-ups shorter than this many content words borrow terms from the previous message. */
const SHORT_FOLLOW_UP = 3;

/** The offline φq: content words and lemmas for full-text search, names, and the time the query names. */
export const ruleQueryGenerator: QueryGenerator = ({ text, history, now }) => {
  const analysis = analyze(text);
  const tokens = analysis.tokens.filter(isContentToken);
  // A clitic ("'s" of "my mother's", "'re") is no search term: as a full-text term it matches every possessive.
  const content = tokens.filter(
    (token) => !token.stop && !QUESTION_WORDS.has(token.normal) && !/^['’]/.test(token.normal),
  );
  const terms = new Set<string>();
  for (const token of content) {
    terms.add(token.normal);
    if (token.lemma && token.lemma !== token.normal) terms.add(token.lemma);
  }
  // The question's form ("what ... do I ...?") would pull the query vector toward every other question.
  let embedText = content.map((token) => token.normal).join(' ') || text;
  const previous = history?.at(-1);
  if (content.length < SHORT_FOLLOW_UP && previous) {
    for (const token of tokenize(previous).filter(isContentToken)) if (!token.stop) terms.add(token.normal);
    embedText = `${previous}\n${text}`;
  }
  if (terms.size === 0) for (const token of tokens) terms.add(token.normal);
  const names = [
    ...new Set(
      tokens.filter((token) => token.pos === 'PROPN' && /^\p{Lu}/u.test(token.value)).map((token) => token.normal),
    ),
  ];
  const time = timeRangeOf(text, now, analysis.temporal);
  return {
    text,
    embedText,
    terms: [...terms],
    names,
    ...(time ? { time } : {}),
    recent: tokens.some((token) => RECENT_WORDS.has(token.normal)),
  };
};
