import type { MnemoErrorCode } from './errors.js';

/** A memory as events report it. */
export interface EventMemory {
  readonly id: string;
  readonly kind: string;
  readonly text: string;
  readonly at?: string;
  readonly score?: number;
  /** `user`, `persona` or `global`: whose memory it is. */
  readonly scope?: string;
}

/** A change to semantic memory made by write-back. `invalidate` closes a fact the person retracted; history keeps it. */
export interface FactWrite {
  readonly op: 'add' | 'supersede' | 'invalidate';
  readonly id: string;
  readonly kind?: string;
  readonly text?: string;
  /** For `supersede`, the fact that was closed. */
  readonly replaces?: string;
}

/** The stages of a turn, in order; one vocabulary for latency, errors and progress. */
export type Stage = 'recall' | 'model' | 'tools' | 'writeBack';

/** Milliseconds spent in each stage of a turn, and in all. */
export type StageLatency = Record<Stage | 'total', number>;

/** Tokens the model read and wrote during a turn (as the provider reported them; 0 when it did not). */
export interface TokenUsage {
  input: number;
  output: number;
}

/**
 * Everything a turn reports, in order. Every surface (terminal chat, Slack, `mnemo ask`, an embedding app) renders
 * these events and nothing else.
 */
export type AgentEvent =
  | { readonly type: 'text-delta'; readonly text: string }
  | { readonly type: 'tool-call'; readonly id: string; readonly name: string; readonly args: Record<string, unknown> }
  | {
      readonly type: 'tool-result';
      readonly id: string;
      readonly name: string;
      readonly result: string;
      readonly isError: boolean;
    }
  | {
      readonly type: 'memory-recalled';
      readonly query: string;
      readonly memories: readonly EventMemory[];
      readonly profile: readonly EventMemory[];
    }
  | { readonly type: 'memory-written'; readonly episodes: readonly EventMemory[]; readonly facts: readonly FactWrite[] }
  | {
      readonly type: 'turn-end';
      readonly threadId: string;
      readonly reply: string;
      readonly latencyMs: StageLatency;
      readonly usage: TokenUsage;
      readonly counts: { readonly recalled: number; readonly written: number; readonly toolCalls: number };
    }
  | {
      readonly type: 'error';
      readonly stage: Stage;
      readonly code: MnemoErrorCode;
      readonly message: string;
    };

export type AgentEventType = AgentEvent['type'];
