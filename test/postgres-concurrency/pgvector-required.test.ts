import { afterAll, expect, it } from 'vitest';
import { FakeEmbedder } from '../../memory/embedders/fake.js';
import { StoreError } from '../../memory/errors.js';
import { openStore } from '../../src/storage.js';
import { describeWithConcurrencyServer, dropFreshDatabases, freshDatabase } from '../helpers/postgres.js';

// The stock PostgreSQL 15 of the concurrency tests has no pgvector: the production opener must refuse it, in one
// line that says how to install it, instead of degrading; without an embedder (list, export, forget) it still opens.
describeWithConcurrencyServer('a PostgreSQL server without pgvector', (server) => {
  afterAll(async () => {
    await dropFreshDatabases(server);
  });

  it('is refused when a store needs vectors, with how to install pgvector, and opens for listing', async () => {
    const url = await freshDatabase(server);
    const refused = openStore(url, { embedder: new FakeEmbedder({ dims: 16 }) });
    await expect(refused).rejects.toThrow(StoreError);
    await expect(refused).rejects.toThrow(
      /mnemo needs pgvector 0\.8\.0 or newer on the PostgreSQL server .*install it/,
    );
    const listing = await openStore(url);
    expect(await listing.scopes()).toEqual([]);
    await listing.close();
  });
});
