import { MessagesValue, StateSchema, UntrackedValue } from '@langchain/langgraph';
import type { PromptMemory } from '../../prompts/system.js';

/**
 * The agent's state. Only the thread's messages are checkpointed: what a turn recalls (memories, profile, persona)
 * and its counters are untracked, rebuilt by the recall node at the start of every turn, and never written to the
 * checkpoint tables, so forgetting a memory leaves no copy of it in a thread.
 */
export const AgentState = new StateSchema({
  messages: MessagesValue,
  /** Memories recalled for the current turn, best first. */
  recalled: new UntrackedValue<PromptMemory[]>(),
  /** The user's current facts, preferences and profile. */
  profile: new UntrackedValue<PromptMemory[]>(),
  /** The user's persona, if they belong to one. */
  persona: new UntrackedValue<string | null>(),
  /** Tool rounds taken this turn (bounded, so a confused model cannot loop). */
  toolRounds: new UntrackedValue<number>(),
  /** The model failed this turn; write-back still stores the user's message. */
  failed: new UntrackedValue<boolean>(),
});
