import type { Embedder } from '../../memory/index.js';

// An offline multiple-choice answerer: no language model, only the embedder. A stated preference is cut into
// clauses, each with a sign (a liking is +1, an aversion -1), and so is each option (an offer of something's absence,
// "gluten-free", "without a car", is -1); an option's score is the mean over its clauses of the signed sum of
// cosines with the preference's clauses. Plain similarity would pick the wrong option whenever the preference is an
// aversion: "I avoid hotels with a bustling nightlife" is closest to the hotel famous for its nightclubs; and the
// aversion alone would reject the option that honours it: "a gluten-free trattoria" mentions gluten.

/** Words that turn a clause into an aversion. */
const NEGATIVE_CUE =
  /\b(?:not|no|never|nor|avoid\w*|dislike\w*|hate\w*|detest\w*|allerg\w*|intoleran\w*|against|averse|aversion|uncomfortable|afraid|fear\w*|refus\w*|tired of|sick of|stay away|steer clear|can't stand|cannot stand|too)\b|n't\b/i;
/** Markers after which the rest of a clause is the thing not wanted ("tea rather than coffee", "coffee without sugar"). */
const CONTRAST = /\b(?:rather than|instead of|as opposed to|without|but not)\b|\bover\b(?=.)/i;
/** "over" contrasts only after a verb of preference ("I prefer trains over planes"), not in "over the weekend". */
const PREFERENCE_VERB = /\b(?:prefer\w*|favou?r\w*|choos\w*|like\w*|lov\w*|enjoy\w*|rather)\b/i;
/** Words with which an option offers the absence of something: it honours an aversion to that thing. */
const ABSENCE = /\b[\w-]+-free\b|\bfree (?:of|from)\b|\bwithout\b|\bno\b|\bnon-?\w+|\bavoid\w*/i;
/** Clause boundaries that leave each side its own polarity. */
const BOUNDARY = /[.!?;]+|,?\s+\b(?:but|however|although|though|whereas|while)\b\s*/i;

/** One clause of a preference with its sign. */
export interface SignedClause {
  text: string;
  sign: 1 | -1;
}

/** Cuts a preference into signed clauses: "I love tea but avoid sugar" → [+"I love tea", -"avoid sugar"]. */
export function signedClauses(preference: string): SignedClause[] {
  const clauses: SignedClause[] = [];
  for (const part of preference.split(new RegExp(BOUNDARY.source, 'gi'))) {
    if (part === undefined || part.trim() === '') continue;
    const sign: 1 | -1 = NEGATIVE_CUE.test(part) ? -1 : 1;
    const contrast = CONTRAST.exec(part);
    const contrasts =
      contrast !== null &&
      (contrast[0].toLowerCase() !== 'over' || PREFERENCE_VERB.test(part.slice(0, contrast.index)));
    if (!contrasts || contrast === null) {
      clauses.push({ text: part.trim(), sign });
      continue;
    }
    const head = part.slice(0, contrast.index).trim();
    const tail = part.slice(contrast.index + contrast[0].length).trim();
    const headSign: 1 | -1 = NEGATIVE_CUE.test(head) ? -1 : 1;
    if (head !== '') clauses.push({ text: head, sign: headSign });
    if (tail !== '') clauses.push({ text: tail, sign: headSign === 1 ? -1 : 1 });
  }
  return clauses.length > 0 ? clauses : [{ text: preference, sign: 1 }];
}

const dot = (a: Float32Array, b: Float32Array): number => {
  let sum = 0;
  for (let index = 0; index < a.length; index += 1) sum += a[index]! * b[index]!;
  return sum;
};

/** What {@link answerMcq} chose and why. */
export interface McqAnswer {
  /** Index of the chosen option. */
  chosen: number;
  /** Each option's signed score. */
  scores: number[];
}

/** Picks the option that best follows `preference`: the highest signed sum of cosines with its clauses. */
export async function answerMcq(
  embedder: Embedder,
  preference: string,
  options: readonly string[],
): Promise<McqAnswer> {
  const clauses = signedClauses(preference);
  const offered = options.map((option) =>
    signedClauses(option).map((clause) => ({ text: clause.text, sign: ABSENCE.test(clause.text) ? -1 : 1 })),
  );
  const vectors = await embedder.embed([...clauses, ...offered.flat()].map((clause) => clause.text));
  let next = clauses.length;
  const scores = offered.map((parts) => {
    let sum = 0;
    for (const part of parts) {
      const vector = vectors[next++]!;
      for (const [index, clause] of clauses.entries()) sum += clause.sign * part.sign * dot(vector, vectors[index]!);
    }
    return sum / parts.length;
  });
  return { chosen: argmax(scores), scores };
}

/** The ablation: the option most similar to the whole preference, polarity ignored. */
export async function answerBySimilarity(
  embedder: Embedder,
  preference: string,
  options: readonly string[],
): Promise<McqAnswer> {
  const vectors = await embedder.embed([...options, preference]);
  const scores = options.map((_, option) => dot(vectors[option]!, vectors[options.length]!));
  return { chosen: argmax(scores), scores };
}

/**
 * The retrieved memory to answer from: among the user's own turns in `memories` (all of them if none is the
 * user's), the one closest to the question and its options together, i.e. the one about what is being asked.
 */
export async function pickPreference(
  embedder: Embedder,
  memories: ReadonlyArray<{ text: string; role: string | null }>,
  question: string,
  options: readonly string[],
): Promise<string | undefined> {
  const own = memories.filter((memory) => memory.role === 'user');
  const candidates = own.length > 0 ? own : memories;
  if (candidates.length === 0) return undefined;
  const vectors = await embedder.embed([question, ...options, ...candidates.map((memory) => memory.text)]);
  const about = new Float32Array(embedder.dims);
  for (const vector of vectors.slice(0, 1 + options.length))
    for (let index = 0; index < about.length; index += 1) about[index] = (about[index] ?? 0) + vector[index]!;
  const scores = candidates.map((_, index) => dot(about, vectors[1 + options.length + index]!));
  return candidates[argmax(scores)]!.text;
}

/** Index of the largest value; the first one on ties. */
function argmax(values: readonly number[]): number {
  let best = 0;
  for (let index = 1; index < values.length; index += 1) if (values[index]! > values[best]!) best = index;
  return best;
}
