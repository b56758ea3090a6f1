import { describe, expect, it } from 'vitest';
import {
  applyKeypress,
  type EditorKey,
  type EditorState,
  EMPTY_EDITOR,
  fieldSegments,
} from '../../src/adapters/tui/line-editor.js';

const NO_KEY: EditorKey = {
  return: false,
  leftArrow: false,
  rightArrow: false,
  home: false,
  end: false,
  backspace: false,
  delete: false,
  ctrl: false,
  meta: false,
};

/** Applies keypresses in order, as `useInput` reports them; returns the final state and what was submitted. */
function press(state: EditorState, ...keys: Array<string | Partial<EditorKey> | [string, Partial<EditorKey>]>) {
  const submitted: string[] = [];
  for (const entry of keys) {
    const [input, key] = typeof entry === 'string' ? [entry, {}] : Array.isArray(entry) ? entry : ['', entry];
    const outcome = applyKeypress(state, input, { ...NO_KEY, ...key });
    state = outcome.state;
    if (outcome.submit) submitted.push(state.value);
  }
  return { state, submitted };
}

const shown = (state: EditorState, maxChars = 200): string =>
  fieldSegments(state, { maxChars })
    .map((segment) => (segment.cursor ? `[${segment.text}]` : segment.text))
    .join('');

describe('applyKeypress', () => {
  it('inserts at the cursor, moves, jumps to either end and deletes backwards', () => {
    const { state } = press(EMPTY_EDITOR, 'abcd', 'Z', { leftArrow: true }, { leftArrow: true }, 'Q');
    expect(state).toEqual({ value: 'abcQdZ', cursor: 4 });
    expect(press(state, ['a', { ctrl: true }], 'X', { end: true }, 'Y').state.value).toBe('XabcQdZY');
    expect(
      press(state, { home: true }, { rightArrow: true }, { backspace: true }, ['e', { ctrl: true }], { delete: true })
        .state,
    ).toEqual({ value: 'bcQd', cursor: 4 });
    expect(press(EMPTY_EDITOR, { backspace: true }, { leftArrow: true }).state).toEqual(EMPTY_EDITOR);
  });

  it('applies backspaces and line breaks that arrive inside a chunk, and drops other control characters', () => {
    expect(press(EMPTY_EDITOR, 'hello world\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f').state.value).toBe('hel');
    expect(press(EMPTY_EDITOR, 'first\rsecond\r\nthird\nfourth\u0007').state.value).toBe(
      'first\nsecond\nthird\nfourth',
    );
  });

  it('submits on an Enter of its own or one that ends a single typed line; Alt+Enter adds a line break; Ctrl and Alt letters are not typed', () => {
    // Typed faster than a frame, "one" and its Enter arrive as one chunk; a paste of several lines stays unsent.
    expect(press(EMPTY_EDITOR, 'one\r').submitted).toEqual(['one']);
    expect(press(EMPTY_EDITOR, 'one\rtwo\r')).toMatchObject({ submitted: [], state: { value: 'one\ntwo\n' } });
    expect(press(EMPTY_EDITOR, 'one', { return: true }).submitted).toEqual(['one']);
    expect(press(EMPTY_EDITOR, 'one', { return: true, meta: true }, 'two').state.value).toBe('one\ntwo');
    expect(press(EMPTY_EDITOR, ['c', { ctrl: true }], ['b', { meta: true }]).state).toEqual(EMPTY_EDITOR);
  });

  it('moves over an emoji as one character', () => {
    const { state } = press(EMPTY_EDITOR, 'a🐕b', { leftArrow: true }, { leftArrow: true });
    expect(state.cursor).toBe(1);
    expect(press(state, { rightArrow: true }, { backspace: true }).state.value).toBe('ab');
  });
});

describe('fieldSegments', () => {
  it('draws line breaks as ⏎ and the cursor on the character under it', () => {
    expect(shown({ value: 'one\ntwo', cursor: 7 })).toBe('one⏎two[ ]');
    expect(shown({ value: 'one\ntwo', cursor: 3 })).toBe('one[⏎]two');
    expect(shown({ value: 'a\tb', cursor: 0 })).toBe('[a] b');
  });

  it('shows a long text as a window around the cursor', () => {
    const value = `${'x'.repeat(500)}END`;
    expect(shown({ value, cursor: value.length }, 40)).toBe(`…${'x'.repeat(37)}END[ ]`);
    expect(shown({ value: `START${value}`, cursor: 0 }, 40)).toBe(`[S]TART${'x'.repeat(35)}…`);
  });
});
