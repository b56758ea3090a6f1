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

/** Typos tolerated in a word of this length: none in short words, where one edit makes another word. */
const allowedTypos = (length: number): number => (length < 4 ? 0 : length < 8 ? 1 : 2);

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
 * are title words (typos allowed) or the whole query is one or two typos away. Within a tier a lower `distance` is a
 * closer match (words missed and typos); `extra` only orders a listing (how much of the title the query left out).
 */
interface TitleMatch {
  readonly tier: 0 | 1 | 2;
  readonly distance: number;
  readonly extra: number;
}

/** A missed query word weighs more than any number of typos in the others. */
const MISSED_WORD = 100;

function compareMatches(a: TitleMatch, b: TitleMatch): number {
  return a.tier - b.tier || a.distance - b.distance || a.extra - b.extra;
}

/** How well `query` (folded) matches the closest form of `title`; undefined when it does not. */
function matchTitle(query: string, title: string): TitleMatch | undefined {
  const words = query.split(' ');
  let best: TitleMatch | undefined;
  const consider = (match: TitleMatch): void => {
    if (!best || compareMatches(match, best) < 0) best = match;
  };
  for (const form of titleForms(title)) {
    if (form === query) return { tier: 0, distance: 0, extra: 0 };
    if (form.startsWith(query)) consider({ tier: 1, distance: 0, extra: form.length - query.length });
    const titleWords = form.split(' ');
    let missed = 0;
    let typos = 0;
    for (const word of words) {
      const allowed = allowedTypos(word.length);
      const closest = Math.min(...titleWords.map((titleWord) => editDistance(word, titleWord, allowed)));
      if (closest > allowed) missed++;
      else typos += closest;
    }
    if (2 * missed < words.length) consider({ tier: 2, distance: missed * MISSED_WORD + typos, extra: titleWords.length - (words.length - missed) });
    const allowed = allowedTypos(query.length);
    const whole = editDistance(query, form, allowed);
    if (whole <= allowed) consider({ tier: 2, distance: whole, extra: 0 });
  }
  return best;
}

/**
 * The items whose titles match `query`, closest first (catalog order among equals), with `tied`: how many of them
 * are as close as the first. One tied item is the answer; more are an ambiguity for the caller to report.
 */
export function rankTitles<T extends { title: string }>(query: string, items: readonly T[]): { ranked: T[]; tied: number } {
  const wanted = foldText(query);
  const scored = items
    .map((item) => ({ item, match: wanted ? matchTitle(wanted, item.title) : undefined }))
    .filter((entry): entry is { item: T; match: TitleMatch } => entry.match !== undefined)
    .sort((a, b) => compareMatches(a.match, b.match));
  const first = scored[0]?.match;
  const tied = scored.filter((entry) => entry.match.tier === first?.tier && entry.match.distance === first.distance).length;
  return { ranked: scored.map((entry) => entry.item), tied };
}
