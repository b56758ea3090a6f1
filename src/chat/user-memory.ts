import { type Scope, userScope } from '../../memory/index.js';
import type { Recommender } from '../../recommender/index.js';

/** What a surface needs to forget a person: deleting a scope's memories, threads and ratings. */
export interface ForgettingMemory {
  forget(scope: Scope): Promise<{ deleted: number }>;
}

/** What a surface needs to record a rating a person gave (a Slack button, a slash command). */
export type RatingRecorder = Pick<Recommender, 'rate'>;

/** Deletes everything stored about a user; how many memories went. */
export function forgetUser(memory: ForgettingMemory, userId: string): Promise<{ deleted: number }> {
  return memory.forget(userScope(userId));
}

/** A user's memory counts as the chat's status line shows them: durable facts and conversation turns. */
export async function memoryCounts(
  memory: { count(scope: Scope): Promise<Record<'fact' | 'preference' | 'profile' | 'episode', number>> },
  userId: string,
): Promise<{ facts: number; episodes: number }> {
  const count = await memory.count(userScope(userId));
  return { facts: count.fact + count.preference + count.profile, episodes: count.episode };
}
