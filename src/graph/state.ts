import { Annotation, MessagesAnnotation } from '@langchain/langgraph';
import type { PromptMemory } from '../../prompts/system.js';

const replace = <T>(initial: () => T) => Annotation<T>({ reducer: (_, next) => next, default: initial });

/** The agent's state: the thread's messages (checkpointed) plus what this turn recalled. */
export const AgentState = Annotation.Root({
  ...MessagesAnnotation.spec,
  /** Memories recalled for the current turn, best first. */
  recalled: replace<PromptMemory[]>(() => []),
  /** The user's current facts, preferences and profile. */
  profile: replace<PromptMemory[]>(() => []),
  /** The user's persona, if they belong to one. */
  persona: replace<string | null>(() => null),
  /** Tool rounds taken this turn (bounded, so a confused model cannot loop). */
  toolRounds: replace<number>(() => 0),
  /** The model failed this turn; write-back still stores the user's message. */
  failed: replace<boolean>(() => false),
});

export type AgentStateType = typeof AgentState.State;
export type AgentStateUpdate = typeof AgentState.Update;
