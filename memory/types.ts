/**
 * Where a memory lives. Every row belongs to exactly one scope and every read names the scopes it may see:
 * a user (any non-empty id up to 200 characters without leading or trailing whitespace, e.g. `T012:U345` or an
 * e-mail), a persona (a group of similar users), or the global scope shared by everyone.
 */
export type Scope =
  | { readonly kind: 'user'; readonly id: string }
  | { readonly kind: 'persona'; readonly id: string }
  | { readonly kind: 'global' };

/** A user's scope. */
export type UserScope = Extract<Scope, { kind: 'user' }>;

export const userScope = (id: string): UserScope => ({ kind: 'user', id });
export const personaScope = (id: string): Scope => ({ kind: 'persona', id });
export const globalScope: Scope = { kind: 'global' };

/** A scope in words, for messages: `user ada`, `persona night-owls`, `global memory`. */
export const describeScope = (scope: Scope): string =>
  scope.kind === 'global' ? 'global memory' : `${scope.kind} ${scope.id}`;

/** Durable knowledge kinds of semantic memory. */
export type FactKind = 'fact' | 'preference' | 'profile';
/** Every kind of memory row: one conversation turn or event (`episode`), or semantic knowledge. */
export type MemoryKind = 'episode' | FactKind;

export const FACT_KINDS = ['fact', 'preference', 'profile'] as const satisfies readonly FactKind[];

/** One conversation turn or event to append to episodic memory. */
export interface EpisodeInput {
  /** What was said or happened. Required, non-empty. */
  text: string;
  /** `user`, `assistant`, or a speaker's name. @default 'user' */
  role?: string;
  /** When it happened. @default now */
  at?: Date | string;
  /** Session or thread the turn belongs to; neighbouring turns of a session give each other context. */
  session?: string;
  /** The caller's own id for this turn (a message id, a dataset id); returned as `source.id`. */
  sourceId?: string;
}

/** One durable fact or preference to write to semantic memory. */
export interface FactInput {
  text: string;
  /** @default 'fact' */
  kind?: FactKind;
  /** Ids of the episodes the fact was learned from. */
  provenance?: readonly string[];
  /** Since when the fact holds. @default now */
  validFrom?: Date | string;
}

/** A change to semantic memory. One write API serves the CLI and the agent's extractor. */
export type FactChange =
  | { readonly op: 'add'; readonly fact: FactInput }
  /** The new fact replaces `id`: the old one is closed (`validTo` = the new one's `validFrom`), never deleted. */
  | { readonly op: 'supersede'; readonly id: string; readonly fact: FactInput }
  /** The fact stopped being true without a replacement: it is closed and kept in history. */
  | { readonly op: 'invalidate'; readonly id: string; readonly at?: Date | string };

/** A stored memory row (episode or fact) as every read API returns it. */
export interface Memory {
  /** `e<number>` for episodes, `f<number>` for facts. */
  readonly id: string;
  readonly kind: MemoryKind;
  readonly scope: Scope;
  readonly text: string;
  /** Speaker of an episode; `null` for facts. */
  readonly role: string | null;
  readonly session: string | null;
  /** When the episode happened, or since when the fact holds. */
  readonly at: Date;
  /** When a fact stopped holding; `null` while it is current (always `null` for episodes). */
  readonly validTo: Date | null;
  /** Id of the fact this one replaced. */
  readonly supersedes: string | null;
  /** The caller's own id (episodes) — `null` when none was given. */
  readonly sourceId: string | null;
  /** Episode ids a fact was learned from. */
  readonly provenance: readonly string[];
  readonly createdAt: Date;
}

/** How a result's score was made; every part is reported so a ranking can be explained. */
export interface ScoreParts {
  /** Rank (1 = best; ties share one) in the full-text (BM25) list, if it was there. */
  readonly textRank?: number;
  readonly bm25?: number;
  /** Rank (ties share one) in the vector (KNN) list, if it was there. */
  readonly vectorRank?: number;
  /** Cosine similarity of the pooled vectors. */
  readonly cosine?: number;
  /** Word-level late-interaction similarity (MaxSim), when the embedder supports it. */
  readonly lateInteraction?: number;
  /** Fused relevance before the boosts below. */
  readonly fused: number;
  /** Added because the query names this memory's speaker. */
  readonly speaker?: number;
  /** Added because the memory falls in the time the query names, or for recency. */
  readonly time?: number;
  /** Added from the neighbouring turns of the same session. */
  readonly context?: number;
  /** The learned ranker's score, which replaced the hand-weighted sum (see `RankWeights.learned`). */
  readonly learned?: number;
}

/** One search result, best first. */
export interface SearchHit {
  readonly memory: Memory;
  readonly score: number;
  readonly parts: ScoreParts;
  /** The neighbouring turns of the same session, oldest first, when asked for. */
  readonly context: readonly Memory[];
}
