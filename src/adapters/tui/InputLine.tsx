import { Box, type Key, Text, useInput, useStdout } from 'ink';
import Spinner from 'ink-spinner';
import { useCallback, useEffect, useRef, useState } from 'react';
import { applyKeypress, type EditorState, EMPTY_EDITOR, fieldSegments } from './line-editor.js';

/** Props of {@link InputLine}. */
export interface InputLineProps {
  /**
   * Called with the text (trimmed, never blank) when Enter is pressed. Returns whether it was taken: the field is
   * cleared if so, and otherwise keeps the text (work is still in flight) and says why.
   */
  onSubmit: (text: string) => boolean;
  /** While work is in flight a spinner and this label show above the field; typing goes on meanwhile. */
  busyLabel: string | undefined;
}

const PROMPT = '> ';
const PLACEHOLDER = 'message, or /help';

/**
 * The prompt: an editable field, and a spinner above it while a reply or a command is in flight.
 *
 * The text lives in a ref that every keypress updates the moment it arrives; the state copy only draws it. Ink
 * re-attaches input handlers after each render, so a field that edits its last rendered value (as ink-text-input
 * does) loses keys typed or pasted faster than a frame.
 */
export function InputLine({ onSubmit, busyLabel }: InputLineProps) {
  const editor = useRef<EditorState>(EMPTY_EDITOR);
  const [shown, setShown] = useState<EditorState>(EMPTY_EDITOR);
  const [held, setHeld] = useState(false);
  const submit = useRef(onSubmit);
  submit.current = onSubmit;
  const { stdout } = useStdout();

  useEffect(() => {
    if (busyLabel === undefined) setHeld(false);
  }, [busyLabel]);

  const handle = useCallback((input: string, key: Key) => {
    const outcome = applyKeypress(editor.current, input, key);
    let next = outcome.state;
    if (outcome.submit) {
      const text = next.value.trim();
      if (text === '') return;
      if (submit.current(text)) next = EMPTY_EDITOR;
      else setHeld(true);
    }
    if (next === editor.current) return;
    editor.current = next;
    setShown(next);
  }, []);
  useInput(handle);

  // At most three rows of text (with the `…` marks and the cursor): the live area has to stay shorter than the
  // terminal, or Ink cannot redraw it in place.
  const maxChars = Math.max(20, ((stdout.columns || 80) - PROMPT.length) * 3 - 3);
  return (
    <Box flexDirection="column">
      {busyLabel === undefined ? null : (
        <Box>
          <Text color="yellow">
            <Spinner type="dots" />
          </Text>
          <Text dimColor>
            {' '}
            {busyLabel}
            {held ? ' · your message waits here: Enter sends it once this is done' : ''}
          </Text>
        </Box>
      )}
      <Box>
        <Box width={PROMPT.length} flexShrink={0}>
          <Text color="cyan">{PROMPT}</Text>
        </Box>
        {shown.value === '' ? (
          <Text>
            <Text inverse>{PLACEHOLDER[0]}</Text>
            <Text color="gray">{PLACEHOLDER.slice(1)}</Text>
          </Text>
        ) : (
          <Text>
            {fieldSegments(shown, { maxChars }).map((segment, index) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: segments are positions in the line, rebuilt on every key
              <Text key={index} inverse={segment.cursor ?? false} dimColor={segment.lineBreak ?? false}>
                {segment.text}
              </Text>
            ))}
          </Text>
        )}
      </Box>
    </Box>
  );
}
