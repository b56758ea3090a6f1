import type pg from 'pg';
import type { ForgetTarget, StorageModule, Turn } from '../port.js';
import type { UserScope } from '../types.js';
import { transaction } from './database.js';
import { forgetInModules, rewriteTables, threadNamespace, touchedTables } from './forget.js';

/** A conversation turn: its user's namespace (in the thread key) is what a forget deletes. */
export class PostgresTurn implements Turn {
  constructor(
    private readonly pool: pg.Pool,
    private readonly modules: readonly StorageModule[],
    readonly user: UserScope,
    readonly threadKey: string,
  ) {}

  async forgotten(): Promise<boolean> {
    // A locking read waits for a forget in flight (it holds the row FOR UPDATE) and then finds the row gone. A plain
    // read would see the row and let end() keep a checkpoint that committed after the forget's delete had run.
    const { rowCount } = await this.pool.query('SELECT 1 FROM namespaces WHERE id = $1 FOR KEY SHARE', [
      threadNamespace(this.threadKey),
    ]);
    return rowCount === 0;
  }

  async end(): Promise<void> {
    if (!(await this.forgotten())) return;
    // Only what this turn left under its own thread key: the user's id may already belong to someone new (a user
    // who came back), whose rows keyed by id must survive.
    const target: ForgetTarget = { userId: undefined, threadPrefix: this.threadKey };
    const tables = await transaction(this.pool, async (client) => {
      await forgetInModules(client, this.modules, target);
      return touchedTables(client);
    });
    await rewriteTables(this.pool, tables);
  }
}
