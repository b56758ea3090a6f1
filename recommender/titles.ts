/**
 * Finding catalog items by what a person types: accents and case folded on both sides, a typo or two tolerated,
 * candidates ranked by how close they are.
 */

/** Lower case, accents stripped ("Amélie" → "amelie"), every run of other than letters and digits one space. */
export function foldText(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** Ways a title may be typed: as is, without its "(1995)", and MovieLens' "Shining, The" as "The Shining". */
function titleForms(title: string): string[] {
  const bare = title.replace(/\s*\(\d{4}\)\s*$/, '');
  const article = /^(.*), (the|a|an)$/i.exec(bare);
  return [...new Set([title, bare, ...(article ? [`${article[2]} ${article[1]}`] : [])].map(foldText))];
}

/**
 * Numbers, years and roman numerals tell sequels and remakes apart ("Jaws 2", "Rocky IV"), so they are never a typo
 * and never a word the query may miss. A lone "i" counts too: as a pronoun it is in the title anyway ("I, Robot").
 */
const ROMAN_NUMERAL = /^(?=.)m{0,3}(cm|cd|d?c{0,3})(xc|xl|l?x{0,3})(ix|iv|v?i{0,3})$/;
const isNumeral = (word: string): boolean => /\p{N}/u.test(word) || ROMAN_NUMERAL.test(word);
/** The numbers and numerals of a text, in order; digits count wherever they are written ("jaws2"). */
const numeralsOf = (text: string): string =>
  text
    .split(' ')
    .flatMap((word) => (ROMAN_NUMERAL.test(word) ? [word] : (word.match(/\p{N}+/gu) ?? [])))
    .join(' ');

/**
 * Typos tolerated between a typed text and a title text, by the letters of the shorter: none below five, where one
 * edit makes another word ("beat", "heat"), one up to seven, two from eight.
 */
function allowedTypos(typed: string, title: string): number {
  const letters = Math.min(typed.replace(/ /g, '').length, title.replace(/ /g, '').length);
  return letters < 5 ? 0 : letters < 8 ? 1 : 2;
}

/** Edit distance with adjacent transpositions counted as one edit ("stra" → "star"); `limit + 1` once beyond limit. */
export function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let previousRow: number[] = [];
  let row = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const before = previousRow;
    previousRow = row;
    row = [i];
    let smallest = i;
    for (let j = 1; j <= b.length; j++) {
      let cost = Math.min(previousRow[j]! + 1, row[j - 1]! + 1, previousRow[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) cost = Math.min(cost, before[j - 2]! + 1);
      row[j] = cost;
      smallest = Math.min(smallest, cost);
    }
    if (smallest > limit) return limit + 1;
  }
  return row[b.length]!;
}

/**
 * How well a typed query matches a title: `tier` 0 exact, 1 the title starts with it, 2 more than half of its words
 * are title words (typos allowed) or the whole query is a typo or two away. Within a tier a lower `distance` is a
 * closer match (words missed and typos); `typos` says whether reaching the title took any; `extra` only orders a
 * listing (how much of the title the query left out).
 */
interface TitleMatch {
  readonly tier: 0 | 1 | 2;
  readonly distance: number;
  readonly typos: number;
  readonly extra: number;
}

/** A missed query word weighs more than any number of typos in the others. */
const MISSED_WORD = 100;

function compareMatches(a: TitleMatch, b: TitleMatch): number {
  return a.tier - b.tier || a.distance - b.distance || a.extra - b.extra;
}

/** Typos between a query word and the closest title word; undefined when none is within the allowance. */
function closestWord(word: string, titleWords: readonly string[]): number | undefined {
  if (isNumeral(word)) return titleWords.includes(word) ? 0 : undefined;
  let closest: number | undefined;
  for (const titleWord of titleWords) {
    const allowed = isNumeral(titleWord) ? 0 : allowedTypos(word, titleWord);
    const distance = editDistance(word, titleWord, allowed);
    if (distance <= allowed && (closest === undefined || distance < closest)) closest = distance;
  }
  return closest;
}

/** How well `query` (folded) matches the closest form of `title`; undefined when it does not. */
function matchTitle(query: string, title: string): TitleMatch | undefined {
  const words = query.split(' ');
  const lastWord = words.at(-1)!;
  let best: TitleMatch | undefined;
  const consider = (match: TitleMatch): void => {
    if (!best || compareMatches(match, best) < 0) best = match;
  };
  for (const form of titleForms(title)) {
    if (form === query) return { tier: 0, distance: 0, typos: 0, extra: 0 };
    // "Jaws 3" begins "Jaws 3-D", not "Jaws 30".
    const wholeLastWord = !isNumeral(lastWord) || [undefined, ' '].includes(form[query.length]);
    if (form.startsWith(query) && wholeLastWord)
      consider({ tier: 1, distance: 0, typos: 0, extra: form.length - query.length });
    const titleWords = form.split(' ');
    const closest = words.map((word) => closestWord(word, titleWords));
    const missed = closest.filter((distance) => distance === undefined).length;
    const typos = closest.reduce<number>((sum, distance) => sum + (distance ?? 0), 0);
    const numeralMissed = words.some((word, index) => isNumeral(word) && closest[index] === undefined);
    if (!numeralMissed && 2 * missed < words.length) {
      consider({
        tier: 2,
        distance: missed * MISSED_WORD + typos,
        typos,
        extra: titleWords.length - (words.length - missed),
      });
    }
    if (numeralsOf(query) === numeralsOf(form)) {
      const allowed = allowedTypos(query, form);
      const whole = editDistance(query, form, allowed);
      if (whole <= allowed) consider({ tier: 2, distance: whole, typos: whole, extra: 0 });
    }
  }
  return best;
}

/**
 * The items whose titles match `query`, closest first (catalog order among equals), with `tied`: how many of them
 * the caller should offer. One is the answer; more are an ambiguity to report. A title reached only through a typo
 * is a guess, so it is the answer only when no other title matches at all ("shinning" → "The Shining").
 */
export function rankTitles<T extends { title: string }>(
  query: string,
  items: readonly T[],
): { ranked: T[]; tied: number } {
  const wanted = foldText(query);
  const scored = items
    .map((item) => ({ item, match: wanted ? matchTitle(wanted, item.title) : undefined }))
    .filter((entry): entry is { item: T; match: TitleMatch } => entry.match !== undefined)
    .sort((a, b) => compareMatches(a.match, b.match));
  const first = scored[0]?.match;
  const tied =
    first && first.typos > 0
      ? scored.length
      : scored.filter((entry) => entry.match.tier === first?.tier && entry.match.distance === first.distance).length;
  return { ranked: scored.map((entry) => entry.item), tied };
}
