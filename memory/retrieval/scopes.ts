import type { Embedder } from '../embedders/types.js';
import type { SearchOptions } from '../port.js';
import { type MemoryRow, toMemory } from '../sqlite/rows.js';
import type { Scope, ScoreParts, SearchHit } from '../types.js';
import { validateK, validateScope, validateText } from '../validate.js';
import type { RankedSearch } from './pipeline.js';
import type { QueryGenerator } from './query.js';

/** Relative weight of each scope when several are searched: the user's own memory takes precedence. */
export const SCOPE_WEIGHT: Record<Scope['kind'], number> = { user: 1, persona: 0.85, global: 0.7 };

/** One scope's ranked rows, and the turns around them when the search asked for context. */
export interface ScopeHits {
  readonly found: ReadonlyArray<{ row: MemoryRow; score: number; parts: ScoreParts }>;
  readonly context: ReadonlyMap<number, MemoryRow[]> | undefined;
}

/**
 * A search across `scopes` as every backend runs it: the query checked, planned and embedded once, each scope
 * ranked by the backend (`rankScope`, undefined for a scope that holds nothing), scores weighted by scope, best first.
 */
export async function searchScopes(
  search: {
    readonly scopes: readonly Scope[];
    readonly query: string;
    readonly options: SearchOptions;
    readonly embedder: Embedder;
    readonly queryGenerator: QueryGenerator;
    readonly now: Date;
  },
  rankScope: (scope: Scope, ranked: RankedSearch) => Promise<ScopeHits | undefined>,
): Promise<SearchHit[]> {
  const { scopes, query, options, embedder, now } = search;
  validateText(query, 'query');
  const k = validateK(options.k ?? 10);
  scopes.forEach(validateScope);
  const plan =
    options.plan ??
    (await search.queryGenerator({
      text: query,
      now,
      ...(options.conversation ? { history: options.conversation } : {}),
    }));
  const [queryVector] = await embedder.embed([plan.embedText], options.signal ? { signal: options.signal } : {});
  const ranked: RankedSearch = {
    embedder,
    plan,
    queryVector: queryVector!,
    k,
    now,
    kinds: options.kinds,
    history: options.history ?? false,
    weights: options.weights,
    depth: options.depth,
  };
  const hits: SearchHit[] = [];
  for (const scope of scopes) {
    const scoped = await rankScope(scope, ranked);
    if (!scoped) continue;
    const weight = SCOPE_WEIGHT[scope.kind];
    for (const hit of scoped.found) {
      hits.push({
        memory: toMemory(hit.row, scope),
        score: hit.score * weight,
        parts: hit.parts,
        context: (scoped.context?.get(hit.row.id) ?? []).map((row) => toMemory(row, scope)),
      });
    }
  }
  return hits.sort((a, b) => b.score - a.score).slice(0, k);
}
