import { squeeze } from '../../memory/index.js';
import type { AgentEvent, EventMemory, FactWrite, Stage } from '../events.js';

/** What kind of line the chat shows; the UI picks a colour per kind. */
export type TranscriptKind = 'user' | 'assistant' | 'info' | 'memory' | 'tool' | 'error';

/** One line (or paragraph) of the chat transcript. Pure data: the terminal UI and tests render it. */
export interface TranscriptLine {
  readonly kind: TranscriptKind;
  readonly text: string;
}

/** How the last turn went, for the status line. */
export interface TurnSummary {
  /** Wall-clock milliseconds of the whole turn. */
  readonly latencyMs: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
}

const MAX_SHOWN = 3;

/** A stage as people read it in an error line. */
const STAGE_NAMES: Record<Stage, string> = { recall: 'recall', model: 'model', tools: 'tool', writeBack: 'write-back' };

const listed = (memories: readonly EventMemory[]): string => {
  const shown = memories.slice(0, MAX_SHOWN).map((memory) => squeeze(memory.text, 60));
  const more = memories.length - shown.length;
  return `${shown.join(' · ')}${more > 0 ? ` (+${more} more)` : ''}`;
};

function factLine(fact: FactWrite): TranscriptLine {
  const what = fact.text ? squeeze(fact.text, 80) : fact.id;
  switch (fact.op) {
    case 'add':
      return { kind: 'memory', text: `remembered: ${what}` };
    case 'supersede':
      return { kind: 'memory', text: `updated: ${what}${fact.replaces ? ` (replaces ${fact.replaces})` : ''}` };
    case 'invalidate':
      return { kind: 'memory', text: `no longer true: ${what}` };
  }
}

/**
 * The transcript lines an agent event adds, apart from the reply text itself (the UI streams `text-delta`s and
 * files the reply when the next event arrives). Memory shows as compact lines: `recalled: …`, `remembered: …`.
 */
export function eventLines(event: AgentEvent): TranscriptLine[] {
  switch (event.type) {
    case 'memory-recalled': {
      const memories = [
        ...event.memories,
        ...event.profile.filter((fact) => !event.memories.some((memory) => memory.id === fact.id)),
      ];
      return memories.length === 0
        ? []
        : [{ kind: 'memory', text: `recalled ${memories.length}: ${listed(memories)}` }];
    }
    case 'memory-written':
      // Every turn is stored as episodes; saying so each time would be noise. Fact changes are what a user wants to see.
      return event.facts.map(factLine);
    case 'tool-call':
      return [{ kind: 'tool', text: `${event.name} ${squeeze(JSON.stringify(event.args), 100)}` }];
    case 'tool-result':
      return event.isError
        ? [{ kind: 'error', text: `${event.name} failed: ${squeeze(event.result, 200)}` }]
        : [{ kind: 'tool', text: `${event.name} → ${squeeze(event.result, 100)}` }];
    case 'error':
      return [{ kind: 'error', text: `${STAGE_NAMES[event.stage]} error: ${squeeze(event.message, 300)}` }];
    case 'text-delta':
    case 'turn-end':
      return [];
  }
}

/** The status line's view of a finished turn. */
export function turnSummary(event: Extract<AgentEvent, { type: 'turn-end' }>): TurnSummary {
  return { latencyMs: event.latencyMs.total, inputTokens: event.usage.input, outputTokens: event.usage.output };
}

/** `1.4 s, 812→64 tokens` */
export function formatTurnSummary(summary: TurnSummary): string {
  const seconds =
    summary.latencyMs >= 10_000
      ? Math.round(summary.latencyMs / 1000).toString()
      : (summary.latencyMs / 1000).toFixed(1);
  return `${seconds} s, ${summary.inputTokens}→${summary.outputTokens} tokens`;
}
