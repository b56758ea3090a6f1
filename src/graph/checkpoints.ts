import type Database from 'better-sqlite3';

/** State channels that earlier versions of mnemo checkpointed and that are now untracked (see state.ts). */
const TURN_CHANNELS = ['recalled', 'profile', 'persona', 'toolRounds', 'failed'] as const;

/** What a thread keeps of a result that quoted stored memory: that the call was answered, and nothing of the text. */
export function memoryQuoteNote(tool: string, failed: boolean): string {
  return `(${tool} ${failed ? 'failed' : 'answered'}; its result quoted memory, which threads do not keep)`;
}

/**
 * Strips what earlier versions wrote into LangGraph's checkpoint tables and this one never does: the per-turn
 * context (recalled memories, profile, persona, counters) in every checkpoint and pending write, and the text of
 * results of tools that quote memory. Threads stay usable (their messages and every tool call's answer remain).
 * Idempotent and cheap when there is nothing to do; returns how many rows it rewrote or deleted.
 */
export function scrubTurnContext(db: Database.Database, memoryQuotingTools: ReadonlySet<string>): number {
  const exists = (table: string) =>
    db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) !== undefined;
  if (!exists('checkpoints')) return 0;
  const scrub = db.transaction(() => {
    let changed = 0;
    const rows = db
      .prepare(`SELECT rowid, checkpoint FROM checkpoints WHERE type = 'json' AND instr(checkpoint, '"recalled"') > 0`)
      .all() as Array<{ rowid: number; checkpoint: Buffer }>;
    const update = db.prepare('UPDATE checkpoints SET checkpoint = ? WHERE rowid = ?');
    for (const row of rows) {
      const checkpoint = JSON.parse(row.checkpoint.toString('utf8')) as { channel_values?: Record<string, unknown> };
      const values = checkpoint.channel_values ?? {};
      for (const channel of TURN_CHANNELS) delete values[channel];
      values.messages = withoutQuotes(values.messages, memoryQuotingTools);
      update.run(Buffer.from(JSON.stringify(checkpoint)), row.rowid);
      changed += 1;
    }
    if (exists('writes')) {
      const placeholders = TURN_CHANNELS.map(() => '?').join(', ');
      changed += db.prepare(`DELETE FROM writes WHERE channel IN (${placeholders})`).run(...TURN_CHANNELS).changes;
      const messages = db
        .prepare(`SELECT rowid, value FROM writes WHERE channel = 'messages' AND type = 'json'`)
        .all() as Array<{ rowid: number; value: Buffer }>;
      const rewrite = db.prepare('UPDATE writes SET value = ? WHERE rowid = ?');
      for (const row of messages) {
        const before = row.value.toString('utf8');
        const after = JSON.stringify(withoutQuotes(JSON.parse(before), memoryQuotingTools));
        if (after === before) continue;
        rewrite.run(Buffer.from(after), row.rowid);
        changed += 1;
      }
    }
    return changed;
  });
  const changed = scrub.immediate();
  // The old bytes are zeroed in the main file (secure_delete); the WAL copy goes with the checkpoint.
  if (changed > 0) db.pragma('wal_checkpoint(TRUNCATE)');
  return changed;
}

/** Serialized LangChain messages (or one), with the content of memory-quoting tool results replaced by a note. */
function withoutQuotes(value: unknown, tools: ReadonlySet<string>): unknown {
  if (Array.isArray(value)) return value.map((item) => withoutQuotes(item, tools));
  const message = value as { id?: unknown; kwargs?: { name?: unknown; content?: unknown; status?: unknown } } | null;
  const isToolMessage = Array.isArray(message?.id) && message.id.at(-1) === 'ToolMessage';
  const name = message?.kwargs?.name;
  if (!isToolMessage || typeof name !== 'string' || !tools.has(name)) return value;
  return {
    ...message,
    kwargs: { ...message.kwargs, content: memoryQuoteNote(name, message.kwargs?.status === 'error') },
  };
}
