import type { Key } from 'ink';

/** The input field: its text (line breaks as `\n`) and the cursor, an offset into `value` from 0 to its length. */
export interface EditorState {
  readonly value: string;
  readonly cursor: number;
}

/** What one keypress did: the new state, and whether it asked to submit. */
export interface EditOutcome {
  readonly state: EditorState;
  /** Enter on its own: the caller decides whether to send `state.value` and clear it. */
  readonly submit: boolean;
}

export const EMPTY_EDITOR: EditorState = { value: '', cursor: 0 };

/** The keys the editor reads, as Ink's `useInput` reports them. */
export type EditorKey = Pick<
  Key,
  'return' | 'leftArrow' | 'rightArrow' | 'home' | 'end' | 'backspace' | 'delete' | 'ctrl' | 'meta'
>;

const isHighSurrogate = (code: number | undefined): boolean => code !== undefined && code >= 0xd800 && code <= 0xdbff;
const isLowSurrogate = (code: number | undefined): boolean => code !== undefined && code >= 0xdc00 && code <= 0xdfff;

/** Where the character before `cursor` starts (an emoji is two UTF-16 units; the cursor never splits one). */
function previousBoundary(value: string, cursor: number): number {
  if (cursor <= 0) return 0;
  return isLowSurrogate(value.charCodeAt(cursor - 1)) && isHighSurrogate(value.charCodeAt(cursor - 2))
    ? cursor - 2
    : cursor - 1;
}

function nextBoundary(value: string, cursor: number): number {
  if (cursor >= value.length) return value.length;
  return isHighSurrogate(value.charCodeAt(cursor)) && isLowSurrogate(value.charCodeAt(cursor + 1))
    ? cursor + 2
    : cursor + 1;
}

function insert(state: EditorState, text: string): EditorState {
  if (text === '') return state;
  return {
    value: state.value.slice(0, state.cursor) + text + state.value.slice(state.cursor),
    cursor: state.cursor + text.length,
  };
}

function deleteBackward(state: EditorState): EditorState {
  const start = previousBoundary(state.value, state.cursor);
  return { value: state.value.slice(0, start) + state.value.slice(state.cursor), cursor: start };
}

/**
 * Text as typed or pasted, applied in order. Keys that arrive faster than a frame, and every pasted line, come in
 * one chunk: a line break inside it (`\r`, `\r\n` or `\n`) is kept as `\n` rather than submitting, a backspace in
 * it deletes, and other control characters are dropped.
 */
function typeText(state: EditorState, text: string): EditorState {
  let next = state;
  for (const [index, part] of text.split(/[\x7f\b]/).entries()) {
    if (index > 0) next = deleteBackward(next);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this drops from pasted text
    next = insert(next, part.replace(/\r\n?/g, '\n').replace(/[\x00-\x08\x0b-\x1f]/g, ''));
  }
  return next;
}

/**
 * Applies one keypress from Ink's `useInput` to the field. Pure, so the caller can apply every key to the latest
 * state the moment it arrives, however many come before the next render.
 *
 * Enter submits; Alt+Enter and Ctrl+J add a line break; ←/→ move; Home/End and Ctrl+A/Ctrl+E jump to either end;
 * Backspace deletes before the cursor. Other control and Alt keys (↑, Tab, Esc, Ctrl+C) are left to the app.
 */
export function applyKeypress(state: EditorState, input: string, key: EditorKey): EditOutcome {
  const edit = (next: EditorState): EditOutcome => ({ state: next, submit: false });
  if (key.return) return key.meta ? edit(insert(state, '\n')) : { state, submit: true };
  if (key.leftArrow) return edit({ ...state, cursor: previousBoundary(state.value, state.cursor) });
  if (key.rightArrow) return edit({ ...state, cursor: nextBoundary(state.value, state.cursor) });
  if (key.home || (key.ctrl && input === 'a')) return edit({ ...state, cursor: 0 });
  if (key.end || (key.ctrl && input === 'e')) return edit({ ...state, cursor: state.value.length });
  // Terminals send DEL (0x7f) for Backspace, which Ink names `delete`; both delete backwards, as ink-text-input did.
  if (key.backspace || key.delete) return edit(deleteBackward(state));
  if (key.ctrl || key.meta) return edit(state);
  // Keys typed faster than a frame can bring their Enter along ("hi\r"): one line break, at the very end, is typing
  // then Enter. A paste of several lines keeps its line breaks.
  if (/^[^\r\n]+\r$/.test(input)) return { state: typeText(state, input.slice(0, -1)), submit: true };
  return edit(typeText(state, input));
}

/** A piece of the rendered field: text, a line break, or the character under the cursor. */
export interface FieldSegment {
  readonly text: string;
  /** A line break, drawn as a dim `⏎` so the one-line field stays legible. */
  readonly lineBreak?: boolean;
  /** The cursor is on this piece (drawn inverted; at the end of the text it is a space). */
  readonly cursor?: boolean;
}

/** Options of {@link fieldSegments}. */
export interface FieldSegmentsOptions {
  /** Most characters shown; a longer text is shown as a window around the cursor, cut with `…`. */
  maxChars: number;
}

/**
 * The field as segments to draw on one (wrapping) line: line breaks as `⏎`, tabs as spaces, and a text longer
 * than `maxChars` (a long paste) cut to a window around the cursor, so the live area never outgrows the terminal.
 */
export function fieldSegments(state: EditorState, { maxChars }: FieldSegmentsOptions): FieldSegment[] {
  const { value, cursor } = state;
  const end = nextBoundary(value, cursor);
  let from = 0;
  let to = value.length;
  if (value.length > maxChars) {
    const half = Math.floor(maxChars / 2);
    from = Math.max(0, Math.min(cursor - half, value.length - maxChars));
    to = Math.min(value.length, from + maxChars);
    if (isLowSurrogate(value.charCodeAt(from))) from += 1;
    if (isLowSurrogate(value.charCodeAt(to))) to += 1;
  }
  const segments: FieldSegment[] = [];
  if (from > 0) segments.push({ text: '…' });
  const push = (text: string): void => {
    for (const [index, line] of text.split('\n').entries()) {
      if (index > 0) segments.push({ text: '⏎', lineBreak: true });
      if (line !== '') segments.push({ text: line.replace(/\t/g, ' ') });
    }
  };
  push(value.slice(from, cursor));
  const under = value.slice(cursor, end);
  if (under === '\n') segments.push({ text: '⏎', lineBreak: true, cursor: true });
  else segments.push({ text: under === '' ? ' ' : under.replace('\t', ' '), cursor: true });
  push(value.slice(end, to));
  if (to < value.length) segments.push({ text: '…' });
  return segments;
}
