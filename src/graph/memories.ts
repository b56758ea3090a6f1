import type { Memory } from '../../memory/index.js';
import type { PromptMemory } from '../../prompts/system.js';
import type { EventMemory } from '../events.js';

/** A stored memory as the prompt quotes it. */
export function promptMemory(memory: Memory): PromptMemory {
  return {
    id: memory.id,
    text: memory.text,
    at: memory.at.toISOString(),
    kind: memory.kind,
    speaker: memory.kind === 'episode' ? memory.role : null,
    scope: memory.scope.kind,
  };
}

export function eventMemory(memory: Memory, score?: number): EventMemory {
  return {
    id: memory.id,
    kind: memory.kind,
    text: memory.text,
    at: memory.at.toISOString(),
    scope: memory.scope.kind,
    ...(score !== undefined ? { score: Math.round(score * 1000) / 1000 } : {}),
  };
}
