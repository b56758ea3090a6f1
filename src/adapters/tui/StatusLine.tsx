import { Box, Text } from 'ink';
import { formatTurnSummary, type TurnSummary } from '../../chat/transcript.js';

/** Props of {@link StatusLine}. */
export interface StatusLineProps {
  userId: string;
  /** The chat model's name; undefined when none is configured. */
  modelName: string | undefined;
  /** Current facts (fact, preference, profile) and episodes stored for the user. */
  counts: { facts: number; episodes: number };
  /** How the last agent turn went; undefined before the first. */
  lastTurn: TurnSummary | undefined;
  /** A reply is streaming (Esc cancels it). @default false */
  busy?: boolean;
}

/** One dim line under the input: who, which model, how much is remembered, how the last turn went. */
export function StatusLine({ userId, modelName, counts, lastTurn, busy = false }: StatusLineProps) {
  const parts = [
    userId,
    modelName ?? 'no model: commands only',
    `${counts.facts} fact${counts.facts === 1 ? '' : 's'}, ${counts.episodes} episode${counts.episodes === 1 ? '' : 's'}`,
    ...(lastTurn ? [`last turn ${formatTurnSummary(lastTurn)}`] : []),
    busy ? 'Esc cancels' : '/help',
  ];
  return (
    <Box>
      <Text dimColor>{parts.join(' · ')}</Text>
    </Box>
  );
}
