import { Box, Text } from 'ink';
import Spinner from 'ink-spinner';
import TextInput from 'ink-text-input';
import { useRef, useState } from 'react';

/** Props of {@link InputLine}. */
export interface InputLineProps {
  /** Called with the submitted line (never blank); the field is cleared. */
  onSubmit: (line: string) => void;
  /** While work is in flight the field is replaced by a spinner and this label. */
  busyLabel: string | undefined;
}

/** The prompt: a text field, or a spinner while a reply or a command is in flight. */
export function InputLine({ onSubmit, busyLabel }: InputLineProps) {
  const [value, setValue] = useState('');
  // ink-text-input's key handler is re-attached in an effect after each render; an Enter arriving before that runs
  // the previous handler with the previous value. The latest text is what the user sees, so submit that.
  const latest = useRef('');
  if (busyLabel !== undefined) {
    return (
      <Box>
        <Text color="yellow">
          <Spinner type="dots" />
        </Text>
        <Text dimColor> {busyLabel}</Text>
      </Box>
    );
  }
  return (
    <Box>
      <Text color="cyan">{'> '}</Text>
      <TextInput
        value={value}
        onChange={(text) => {
          latest.current = text;
          setValue(text);
        }}
        placeholder="message, or /help"
        onSubmit={() => {
          const line = latest.current;
          if (line.trim() === '') return;
          latest.current = '';
          setValue('');
          onSubmit(line);
        }}
      />
    </Box>
  );
}
