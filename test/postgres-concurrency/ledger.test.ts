import pg from 'pg';
import { afterAll, afterEach, expect, it } from 'vitest';
import { PostgresDeliveryLedger } from '../../src/adapters/slack/dedupe.js';
import { describeWithConcurrencyServer, dropFreshDatabases, freshDatabase } from '../helpers/postgres.js';

// Slack delivers an event to whichever replica it reaches, and retries it: replicas sharing the ledger must answer
// each delivery once. Two pools on the real server, so claims really run at once on different backends.
describeWithConcurrencyServer('PostgresDeliveryLedger shared by two replicas', (server) => {
  let pools: pg.Pool[] = [];
  afterEach(async () => {
    await Promise.all(pools.map((pool) => pool.end()));
    pools = [];
  });
  afterAll(async () => {
    await dropFreshDatabases(server);
  });

  it('claims each key exactly once under 200 concurrent claims, the table created by both at once', async () => {
    const url = await freshDatabase(server);
    pools = [new pg.Pool({ connectionString: url, max: 8 }), new pg.Pool({ connectionString: url, max: 8 })];
    // An idle client closing as the database is dropped (WITH FORCE) reports it here instead of crashing the worker.
    for (const pool of pools) pool.on('error', () => undefined);
    const ledgers = await Promise.all(pools.map((pool) => PostgresDeliveryLedger.create(pool)));
    const keys = Array.from({ length: 50 }, (_, i) => `event:Ev${i}`);
    // Each key claimed four times, twice through each replica, in an interleaved order.
    const claims = keys.flatMap((key) => [0, 1, 2, 3].map((copy) => ({ key, ledger: ledgers[copy % 2]! })));
    expect(claims).toHaveLength(200);
    const results = await Promise.all(claims.map(async ({ key, ledger }) => ({ key, won: await ledger.claim(key) })));
    const wins = new Map<string, number>();
    for (const { key, won } of results) if (won) wins.set(key, (wins.get(key) ?? 0) + 1);
    expect([...wins.keys()].sort()).toEqual([...keys].sort());
    expect([...wins.values()].every((count) => count === 1)).toBe(true);
    // A retry long after is still refused, by either replica.
    expect(await ledgers[1]!.claim('event:Ev0')).toBe(false);
    expect(await ledgers[0]!.claim('event:Ev-new')).toBe(true);
  });
});
