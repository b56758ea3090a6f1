import { Box, Static, Text } from 'ink';
import type { TranscriptKind, TranscriptLine } from '../../chat/transcript.js';

/** A transcript line with the stable key `<Static>` needs. */
export interface TranscriptEntry extends TranscriptLine {
  readonly id: number;
}

const STYLE: Readonly<Record<TranscriptKind, { prefix: string; color?: string; dim?: boolean }>> = {
  user: { prefix: '> ', color: 'cyan' },
  assistant: { prefix: '' },
  info: { prefix: '', dim: true },
  memory: { prefix: '◆ ', color: 'green', dim: true },
  tool: { prefix: '⚙ ', color: 'magenta', dim: true },
  error: { prefix: '✗ ', color: 'red' },
};

/** One transcript line, styled by its kind. */
export function TranscriptLineView({ line }: { line: TranscriptLine }) {
  const style = STYLE[line.kind];
  return (
    <Text {...(style.color ? { color: style.color } : {})} dimColor={style.dim ?? false} bold={line.kind === 'user'}>
      {style.prefix}
      {line.text}
    </Text>
  );
}

/**
 * What was said, written once above the live area: `<Static>` prints each entry a single time, so a long
 * conversation costs nothing to re-render and stays in the terminal's scrollback after the chat exits.
 */
export function Transcript({ entries }: { entries: readonly TranscriptEntry[] }) {
  return (
    <Static items={[...entries]}>
      {(entry) => (
        <Box key={entry.id} paddingBottom={entry.kind === 'assistant' ? 1 : 0}>
          <TranscriptLineView line={entry} />
        </Box>
      )}
    </Static>
  );
}
