import type { Agent } from '../../agent.js';
import type { ForgettingMemory, RatingRecorder } from '../../chat/user-memory.js';

/** What the Slack listeners act on. Narrow on purpose: tests pass fakes, the CLI passes `openServices()`. */
export interface SlackDependencies {
  /** The agent; `undefined` when no model is configured (messages are then answered with how to configure one). */
  readonly agent: Pick<Agent, 'stream'> | undefined;
  /** Where "forget me" deletes the speaker's memory, threads and ratings. */
  readonly memory: ForgettingMemory;
  /** Where rating buttons record their stars. */
  readonly recommender: RatingRecorder;
}

/** A Slack Block Kit block as the listeners build and read it (Slack's own types are too wide to construct). */
export type SlackBlock = Readonly<Record<string, unknown>> & { readonly type: string; readonly block_id?: string };

/** A message to post: the text is the notification and fallback, the blocks what Slack shows. */
export interface SlackMessage {
  readonly text: string;
  readonly blocks?: readonly SlackBlock[];
}

/** The part of Bolt's `WebClient` the listeners call. */
export interface SlackClient {
  readonly chat: {
    postMessage(message: {
      channel: string;
      text: string;
      thread_ts?: string;
      blocks?: SlackBlock[];
    }): Promise<unknown>;
    postEphemeral(message: { channel: string; user: string; text: string; thread_ts?: string }): Promise<unknown>;
    update(message: { channel: string; ts: string; text: string; blocks?: SlackBlock[] }): Promise<unknown>;
  };
}

/** The part of Bolt's logger the listeners use. */
export interface SlackLogger {
  error(...message: unknown[]): void;
  warn(...message: unknown[]): void;
}

/**
 * The mnemo user id of a Slack speaker: `team:user`, so in a shared channel every person has their own memory,
 * and the same Slack user id in two workspaces is two people.
 */
export const mnemoUserId = (team: string, user: string): string => `${team}:${user}`;
