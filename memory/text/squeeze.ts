/**
 * A text as one line of at most `max` characters: runs of whitespace (newlines included) become one space, and a
 * longer text is cut with an ellipsis. What every log line, error message and one-line listing shows.
 *
 * @example
 * squeeze('likes\n  jazz and   blues', 12); // → 'likes jazz …'
 */
export function squeeze(text: string, max = Number.POSITIVE_INFINITY): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, Math.max(0, max - 1))}…` : flat;
}
