import type { MemoryStore, QueryGenerator, QueryPlan } from '../../../memory/index.js';
import { FACT_KINDS, globalScope, personaScope, type SearchHit, userScope } from '../../../memory/index.js';
import { MnemoError } from '../../errors.js';
import { type AgentNode, emit, turnContext } from '../context.js';
import { eventMemory, promptMemory } from '../memories.js';
import { messageText } from '../messages.js';

/** Dependencies of the recall node. */
export interface RecallNodeOptions {
  memory: MemoryStore;
  /** φq: how the retrieval query is made from the message and the thread. @default the memory store's offline rules */
  queryGenerator?: QueryGenerator | undefined;
  /** Memories recalled per turn. @default 8 */
  k?: number | undefined;
  /** Most facts of the profile shown to the model (newest first). @default 40 */
  profileLimit?: number;
  clock?: () => Date;
}

/**
 * recall (φq + A): a retrieval query from the latest message and the thread, then retrieval across user → persona →
 * global with the user's own memory first, plus the user's current profile.
 */
export function createRecallNode(options: RecallNodeOptions): AgentNode {
  const { memory } = options;
  const clock = options.clock ?? (() => new Date());
  return async (state, config) => {
    const started = performance.now();
    const { userId, threadId } = turnContext(config);
    const user = userScope(userId);
    const latest = state.messages.findLast((message) => message.getType() === 'human');
    const text = latest ? messageText(latest) : '';
    const thread = state.messages
      .filter((message) => message !== latest && (message.getType() === 'human' || message.getType() === 'ai'))
      .map(messageText);
    const persona = (await memory.personaOf(user))?.persona ?? null;
    let hits: SearchHit[] = [];
    let plan: QueryPlan | undefined;
    try {
      if (text.trim() !== '') {
        const now = clock();
        plan = options.queryGenerator
          ? await options.queryGenerator({ text, history: thread.slice(-4), now })
          : undefined;
        hits = await memory.search([user, ...(persona ? [personaScope(persona)] : []), globalScope], text, {
          k: options.k ?? 8,
          conversation: thread.slice(-4),
          plan,
          signal: config.signal,
        });
        // Turns of this thread that are still in the message window would only repeat themselves.
        const inWindow = new Set(thread);
        hits = hits.filter(
          (hit) => !(hit.memory.kind === 'episode' && hit.memory.session === threadId && inWindow.has(hit.memory.text)),
        );
      }
    } catch (error) {
      // Recall failing must not cost the user their answer: answer without memories and say so.
      emit(config, {
        type: 'error',
        stage: 'recall',
        code: error instanceof MnemoError ? error.code : 'store_failed',
        message: `recall failed: ${(error as Error).message}`,
      });
    }
    const profile = await memory.list(user, { kinds: FACT_KINDS, limit: options.profileLimit ?? 40 });
    // The profile is always shown; recalled copies of its facts would only repeat it.
    const inProfile = new Set(profile.map((fact) => fact.id));
    hits = hits.filter((hit) => !(hit.memory.scope.kind === 'user' && inProfile.has(hit.memory.id)));
    emit(config, {
      type: 'memory-recalled',
      query: text,
      memories: hits.map((hit) => eventMemory(hit.memory, hit.score)),
      profile: profile.map((fact) => eventMemory(fact)),
    });
    emit(config, {
      type: 'stage',
      stage: 'recall',
      ms: performance.now() - started,
      ...(plan?.usage ? { usage: plan.usage } : {}),
    });
    return {
      recalled: hits.map((hit) => promptMemory(hit.memory)),
      profile: profile.map(promptMemory),
      persona,
      toolRounds: 0,
      failed: false,
    };
  };
}
