/**
 * How mnemo shows memories to people (one line each, for the CLI and the chat) and as JSON (`--json`, `export`).
 */
import { describeScope, type ForgetResult, type Memory, type Scope, type SearchHit, squeeze } from '../memory/index.js';

const day = (date: Date): string => date.toISOString().slice(0, 10);

/** Whose memory, in output lines: a user by their id (`ada`), others in words (`persona night-owls`). */
export const scopeLabel = (scope: Scope): string => (scope.kind === 'user' ? scope.id : describeScope(scope));

/** `f12 preference 2024-05-08 likes jazz` — one memory per line for humans. */
export function formatMemory(memory: Memory): string {
  const who = memory.kind === 'episode' ? `${memory.role ?? 'user'}: ` : `${memory.kind}: `;
  const closed = memory.validTo ? ` (until ${day(memory.validTo)})` : '';
  return `${memory.id.padEnd(8)} ${day(memory.at)} ${who}${squeeze(memory.text, 160)}${closed}`;
}

export function formatHit(hit: SearchHit, rank: number): string {
  return `${String(rank).padStart(2)}. ${hit.score.toFixed(3)} ${formatMemory(hit.memory)}`;
}

/** The `--json` shape of a search result. */
export function hitJson(hit: SearchHit): Record<string, unknown> {
  const { memory } = hit;
  return {
    id: memory.id,
    kind: memory.kind,
    text: memory.text,
    score: Math.round(hit.score * 10_000) / 10_000,
    at: memory.at.toISOString(),
    role: memory.role,
    session: memory.session,
    source: { id: memory.sourceId },
    parts: hit.parts,
    provenance: memory.provenance,
    ...(hit.context.length > 0 ? { context: hit.context.map(memoryJson) } : {}),
  };
}

/** The `--json` shape of a stored memory. */
export function memoryJson(memory: Memory): Record<string, unknown> {
  return {
    id: memory.id,
    kind: memory.kind,
    text: memory.text,
    at: memory.at.toISOString(),
    role: memory.role,
    session: memory.session,
    validTo: memory.validTo?.toISOString() ?? null,
    supersedes: memory.supersedes,
    source: { id: memory.sourceId },
    provenance: memory.provenance,
    createdAt: memory.createdAt.toISOString(),
  };
}

/** What forgetting a scope removed, in words: `3 memories, 15 ratings and 1 thread`. */
export function forgotten({ deleted, alsoDeleted }: Pick<ForgetResult, 'deleted' | 'alsoDeleted'>): string {
  const count = (n: number, plural: string) =>
    `${n} ${n === 1 ? plural.replace(/ies$/, 'y').replace(/s$/, '') : plural}`;
  const parts = [
    count(deleted, 'memories'),
    ...Object.entries(alsoDeleted)
      .filter(([, n]) => n > 0)
      .map(([what, n]) => count(n, what)),
  ];
  return parts.length === 1 ? parts[0]! : `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}`;
}
