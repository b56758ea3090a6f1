import type { AnyMiddlewareArgs, Middleware } from '@slack/bolt';
import type Database from 'better-sqlite3';
import type pg from 'pg';
import type { SlackLogger } from './types.js';

/**
 * How long a claimed delivery is remembered: a day. Slack retries an event three times within about five minutes
 * (at once, after a minute, after five), so a day is ample, and the table holds at most a day of deliveries.
 */
export const DELIVERY_TTL_MS = 24 * 60 * 60 * 1000;

/** Least time between two prunings of expired claims, so a claim is one indexed insert almost always. */
const PRUNE_INTERVAL_MS = 60 * 1000;

/** Options of {@link DeliveryLedger}. */
export interface DeliveryLedgerOptions {
  /** How long a claim is kept. @default DELIVERY_TTL_MS */
  readonly ttlMs?: number;
  /** The clock, in ms since the epoch (tests move it). @default Date.now */
  readonly now?: () => number;
}

/**
 * The Slack deliveries already taken, in the table `slack_deliveries` of a SQLite database (mnemo's own file in
 * `mnemo slack`). Claiming is `INSERT OR IGNORE` of the delivery's key, one atomic statement, so among any number of
 * processes sharing the file exactly one claim of a key succeeds. Only keys and times are kept, nothing a person
 * wrote.
 *
 * @example
 * const ledger = new DeliveryLedger(db);
 * if (ledger.claim('event:Ev123')) answer();
 */
export class DeliveryLedger implements DeliveryClaims {
  readonly #insert: Database.Statement<[string, number]>;
  readonly #prune: Database.Statement<[number]>;
  readonly #ttlMs: number;
  readonly #now: () => number;
  #prunedAt = Number.NEGATIVE_INFINITY;

  constructor(db: Database.Database, options: DeliveryLedgerOptions = {}) {
    this.#ttlMs = options.ttlMs ?? DELIVERY_TTL_MS;
    this.#now = options.now ?? Date.now;
    db.exec(`
      CREATE TABLE IF NOT EXISTS slack_deliveries (key TEXT PRIMARY KEY, claimed_at INTEGER NOT NULL) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS slack_deliveries_by_time ON slack_deliveries (claimed_at);
    `);
    this.#insert = db.prepare('INSERT OR IGNORE INTO slack_deliveries (key, claimed_at) VALUES (?, ?)');
    this.#prune = db.prepare('DELETE FROM slack_deliveries WHERE claimed_at < ?');
  }

  /** Claims a delivery: `true` for the first claim of `key` (in any process on the file), `false` after that. */
  claim(key: string): boolean {
    const now = this.#now();
    if (now - this.#prunedAt >= PRUNE_INTERVAL_MS) {
      this.#prune.run(now - this.#ttlMs);
      this.#prunedAt = now;
    }
    return this.#insert.run(key, now).changes === 1;
  }
}

/** Where deliveries are claimed: any number of processes sharing it answer each delivery once. */
export interface DeliveryClaims {
  /** `true` for the first claim of `key` (in any process sharing the ledger), `false` after that. */
  claim(key: string): boolean | Promise<boolean>;
}

/**
 * The same ledger in a PostgreSQL database (mnemo's own in `mnemo slack` on Postgres), for replicas that share it:
 * `INSERT … ON CONFLICT DO NOTHING` lets exactly one claim of a key succeed.
 */
export class PostgresDeliveryLedger implements DeliveryClaims {
  #prunedAt = Number.NEGATIVE_INFINITY;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  /** Creates the table if needed (under a lock: replicas starting at once would collide) and returns the ledger. */
  static async create(pool: pg.Pool, options: DeliveryLedgerOptions = {}): Promise<PostgresDeliveryLedger> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query("SELECT pg_advisory_xact_lock(hashtext('mnemo slack_deliveries'))");
      await client.query(`CREATE TABLE IF NOT EXISTS slack_deliveries (key text PRIMARY KEY, claimed_at bigint NOT NULL);
        CREATE INDEX IF NOT EXISTS slack_deliveries_by_time ON slack_deliveries (claimed_at)`);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
    return new PostgresDeliveryLedger(pool, options.ttlMs ?? DELIVERY_TTL_MS, options.now ?? Date.now);
  }

  async claim(key: string): Promise<boolean> {
    const now = this.now();
    if (now - this.#prunedAt >= PRUNE_INTERVAL_MS) {
      this.#prunedAt = now;
      await this.pool.query('DELETE FROM slack_deliveries WHERE claimed_at < $1', [now - this.ttlMs]);
    }
    const inserted = await this.pool.query(
      'INSERT INTO slack_deliveries (key, claimed_at) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING',
      [key, now],
    );
    return inserted.rowCount === 1;
  }
}

/**
 * What identifies one delivery of a request body, the same on every retry: an Events API envelope's `event_id`
 * (globally unique, repeated on retries), else a slash command's or an interaction's `trigger_id`. `undefined` for
 * a body with neither.
 */
export function deliveryKey(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const { event_id: eventId, trigger_id: triggerId } = body as { event_id?: unknown; trigger_id?: unknown };
  if (typeof eventId === 'string' && eventId !== '') return `event:${eventId}`;
  if (typeof triggerId === 'string' && triggerId !== '') return `trigger:${triggerId}`;
  return undefined;
}

/**
 * Bolt global middleware that lets only the first delivery of a request reach the listeners. A repeat (Slack's
 * retry, a replay, or the copy another replica already took) is acknowledged, so Slack stops retrying, and dropped.
 * Bolt acknowledges events before middleware runs; commands and actions are acknowledged here. Should the ledger
 * fail, the request is answered anyway: a reply twice beats none.
 */
export function firstDeliveryOnly(ledger: DeliveryClaims): Middleware<AnyMiddlewareArgs> {
  return async (args) => {
    const key = deliveryKey(args.body);
    if (key === undefined || (await claimed(ledger, key, args.logger))) {
      await args.next();
      return;
    }
    args.logger.debug(`mnemo slack: ignored a repeated delivery (${key})`);
    if ('ack' in args && typeof args.ack === 'function') await (args.ack as () => Promise<void>)();
  };
}

async function claimed(ledger: DeliveryClaims, key: string, logger: SlackLogger): Promise<boolean> {
  try {
    return await ledger.claim(key);
  } catch (error) {
    logger.error(`mnemo slack: could not record the delivery ${key}; answering it anyway`, error);
    return true;
  }
}
