import pg from 'pg';
import { StoreError } from '../errors.js';

/**
 * Type parsers of the store's pool: bigint ids, millisecond times and counts as numbers (all stay below 2^53), not
 * the strings `pg` gives by default. Set per pool, so other users of `pg` in the process are not affected.
 */
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === pg.types.builtins.INT8 || oid === pg.types.builtins.NUMERIC
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/** A pool for the store at `url`. */
export function createPool(url: string, size: number): pg.Pool {
  return new pg.Pool({ connectionString: url, max: size, types });
}

/** `url` without its password, for messages and {@link Backend.location}. */
export function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '';
    return parsed.toString();
  } catch {
    return url.replace(/:[^:@/]*@/, '@');
  }
}

/** SQLSTATEs after which a transaction is retried: serialization failure and deadlock. */
const RETRIED = new Set(['40001', '40P01']);
const ATTEMPTS = 5;

/**
 * Runs `work` in one READ COMMITTED transaction on one pooled client, retrying it (from the start) after a
 * serialization failure or a deadlock. Every statement of `work` must go through `client`: a second pooled client
 * waiting on the first one's locks would deadlock the pool.
 */
export async function transaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollback: Error) => {
        broken = rollback;
      });
      const code = (error as { code?: unknown }).code;
      if (attempt < ATTEMPTS && typeof code === 'string' && RETRIED.has(code)) {
        await new Promise((resolve) => setTimeout(resolve, 10 * attempt * Math.random()));
        continue;
      }
      throw error;
    } finally {
      // A client whose rollback failed is in an unknown state: the pool drops it instead of handing it out again.
      client.release(broken);
    }
  }
}

/** Runs `work` on one pooled client outside any transaction. */
export async function withClient<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    return await work(client);
  } finally {
    client.release();
  }
}

/** A StoreError for a failed database call, keeping the driver's error as the cause. */
export function storeFailed(what: string, error: unknown): StoreError {
  return new StoreError('store_failed', `${what}: ${(error as Error).message}`, { cause: error });
}

/** Quotes an SQL identifier. */
export const identifier = (name: string): string => `"${name.replaceAll('"', '""')}"`;
