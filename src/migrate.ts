import type { BaseCheckpointSaver, CheckpointTuple } from '@langchain/langgraph';
import { describeScope, InputError, type MemoryStore, type Scope } from '../memory/index.js';
import { recommenderStorage } from '../recommender/index.js';
import { checkpointerFor } from './graph/threads.js';

/** Progress of a migration: which part, and how far. */
export type MigrationProgress = (progress: { phase: string; done: number; total: number }) => void;

/** What a migration found in the source and the target once it was done; equal when nothing was lost. */
export interface MigrationCounts {
  /** Memories with history (episodes, current and closed facts), every scope. */
  memories: number;
  scopes: number;
  personaMembers: number;
  items: number;
  ratings: number;
  demographics: number;
  models: number;
  checkpoints: number;
}

/** The result of {@link migrateStore}. */
export interface MigrationReport {
  readonly source: MigrationCounts;
  /** Equal to the source's when the target was empty; more when it held other users before. */
  readonly target: MigrationCounts;
  /** Scopes already complete in the target (a resumed migration), left as they were. */
  readonly skippedScopes: number;
  /** Every scope holds as many memories in the target as in the source, and no total is smaller. */
  readonly verified: boolean;
}

/**
 * Copies everything from one store to another (SQLite to PostgreSQL or back): every scope's memories with their
 * history, supersede links and provenance, persona membership, the recommender's catalog (with its vectors),
 * ratings, demographics and trained model, and every conversation thread. Each scope is copied in one transaction,
 * and a scope the target already holds completely is skipped, so an interrupted migration is resumed by running it
 * again; the counts of both sides are compared at the end. Both stores must use the same embedder (vectors are
 * rebuilt with it in the target).
 */
export async function migrateStore(
  source: MemoryStore,
  target: MemoryStore,
  options: { onProgress?: MigrationProgress | undefined } = {},
): Promise<MigrationReport> {
  const progress = options.onProgress ?? (() => undefined);
  const sourceIndex = await source.vectorIndex();
  if (sourceIndex && sourceIndex.embedderId !== target.embedder.id)
    throw new InputError(
      `the source was indexed with embedder ${sourceIndex.embedderId}, the target is opened with ${target.embedder.id}; configure the source's embedder (MNEMO_EMBEDDER) to migrate`,
    );

  const scopes = await source.scopes();
  let skippedScopes = 0;
  for (const [index, scope] of scopes.entries()) {
    progress({ phase: 'memories', done: index, total: scopes.length });
    const { memories } = await source.export(scope);
    const present = (await target.export(scope)).memories.length;
    if (present === memories.length && present > 0) {
      skippedScopes++;
    } else if (present > 0) {
      throw new InputError(
        `the target already holds ${present} memories of ${describeScope(scope)} and the source ${memories.length}; forget that scope in the target (mnemo forget) and run the migration again`,
      );
    } else if (memories.length > 0) {
      await target.restore(scope, memories);
    }
    if (scope.kind === 'user') {
      const persona = await source.personaOf(scope);
      if (persona) await target.setPersona(scope, persona.persona, persona.assignedBy);
    }
  }
  progress({ phase: 'memories', done: scopes.length, total: scopes.length });

  await copyRecommender(source, target, progress);
  await copyThreads(source, target, scopes, progress);

  // Each scope must hold exactly what the source's does; the target may hold more than the source in total only
  // when it held other users before.
  let verified = true;
  for (const scope of scopes)
    if ((await source.export(scope)).memories.length !== (await target.export(scope)).memories.length) verified = false;
  const [before, after] = [await countAll(source), await countAll(target)];
  for (const key of Object.keys(before) as Array<keyof MigrationCounts>) if (after[key] < before[key]) verified = false;
  return { source: before, target: after, skippedScopes, verified };
}

/** The catalog with its vectors, ratings, demographics and the trained model; every write is an upsert. */
async function copyRecommender(source: MemoryStore, target: MemoryStore, progress: MigrationProgress): Promise<void> {
  const from = recommenderStorage(source.backend);
  const to = recommenderStorage(target.backend);
  const items = await from.items();
  const vectors = await from.embeddings(target.embedder.id);
  progress({ phase: 'catalog', done: 0, total: items.length });
  const embedded = items.filter((item) => vectors.has(item.id));
  const plain = items.filter((item) => !vectors.has(item.id));
  if (embedded.length > 0)
    await to.upsertItems(embedded, {
      embedder: target.embedder.id,
      vectors: embedded.map((item) => vectors.get(item.id)!),
    });
  if (plain.length > 0) await to.upsertItems(plain);
  progress({ phase: 'catalog', done: items.length, total: items.length });
  const ratings = await from.allRatings();
  progress({ phase: 'ratings', done: 0, total: ratings.length });
  await to.addRatings(ratings);
  progress({ phase: 'ratings', done: ratings.length, total: ratings.length });
  const demographics = await from.demographics();
  await to.setDemographics([...demographics].map(([userId, values]) => ({ userId, demographics: values })));
  const model = await from.latestModel();
  if (model) await to.saveModel(model.model, model.metadata);
}

/**
 * Every thread of every user, re-keyed: a thread key names the user's namespace, which differs between the two
 * stores. A thread the target already holds completely is skipped; a partial one is copied again.
 */
async function copyThreads(
  source: MemoryStore,
  target: MemoryStore,
  scopes: readonly Scope[],
  progress: MigrationProgress,
): Promise<void> {
  const from = checkpointerFor(source.backend);
  const to = checkpointerFor(target.backend);
  await setUp(from);
  await setUp(to);
  const users = scopes.filter((scope): scope is Extract<Scope, { kind: 'user' }> => scope.kind === 'user');
  const byThread = new Map<string, CheckpointTuple[]>();
  for await (const tuple of from.list({})) {
    const key = tuple.config.configurable?.thread_id as string;
    byThread.set(key, [...(byThread.get(key) ?? []), tuple]);
  }
  let done = 0;
  progress({ phase: 'threads', done, total: byThread.size });
  for (const user of users) {
    // A thread key is `<namespace>/<thread id>`: the user's prefix in each store, from a turn begun in each.
    const sourcePrefix = prefixOf((await source.beginTurn(user, '-')).threadKey);
    const targetPrefix = prefixOf((await target.beginTurn(user, '-')).threadKey);
    for (const [key, tuples] of byThread) {
      if (!key.startsWith(sourcePrefix)) continue;
      const newKey = targetPrefix + key.slice(sourcePrefix.length);
      await copyThread(to, newKey, tuples);
      progress({ phase: 'threads', done: ++done, total: byThread.size });
    }
  }
}

const prefixOf = (threadKey: string): string => threadKey.slice(0, threadKey.indexOf('/') + 1);

/** Creates a saver's tables if it has a setup step (PostgresSaver; SqliteSaver sets up lazily). */
async function setUp(saver: BaseCheckpointSaver): Promise<void> {
  const withSetup = saver as BaseCheckpointSaver & { setup?: () => Promise<void> };
  if (typeof withSetup.setup === 'function') await withSetup.setup();
}

async function copyThread(to: BaseCheckpointSaver, threadKey: string, tuples: readonly CheckpointTuple[]) {
  let present = 0;
  for await (const _ of to.list({ configurable: { thread_id: threadKey } })) present++;
  if (present === tuples.length) return;
  if (present > 0) await to.deleteThread(threadKey);
  // Oldest first, so each checkpoint's parent is already there.
  for (const tuple of [...tuples].reverse()) {
    const namespace = (tuple.config.configurable?.checkpoint_ns as string | undefined) ?? '';
    const parent = tuple.parentConfig?.configurable?.checkpoint_id as string | undefined;
    const config = {
      configurable: { thread_id: threadKey, checkpoint_ns: namespace, ...(parent ? { checkpoint_id: parent } : {}) },
    };
    // Every channel is new to the target: savers that keep values apart from the checkpoint (Postgres) store them all.
    const saved = await to.put(config, tuple.checkpoint, tuple.metadata!, tuple.checkpoint.channel_versions);
    const writes = tuple.pendingWrites ?? [];
    for (const [taskId, channel, value] of writes) await to.putWrites(saved, [[channel, value]], taskId);
  }
}

/** What a store holds, counted the same way in both backends. */
async function countAll(store: MemoryStore): Promise<MigrationCounts> {
  const scopes = await store.scopes();
  let memories = 0;
  let personaMembers = 0;
  for (const scope of scopes) {
    memories += (await store.export(scope)).memories.length;
    if (scope.kind === 'user' && (await store.personaOf(scope))) personaMembers++;
  }
  const recommender = recommenderStorage(store.backend);
  const saver = checkpointerFor(store.backend);
  await setUp(saver);
  let checkpoints = 0;
  for await (const _ of saver.list({})) checkpoints++;
  return {
    memories,
    scopes: scopes.length,
    personaMembers,
    items: (await recommender.items()).length,
    ratings: (await recommender.allRatings()).length,
    demographics: (await recommender.demographics()).size,
    models: (await recommender.latestModel()) ? 1 : 0,
    checkpoints,
  };
}
