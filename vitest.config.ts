import { configDefaults, defineConfig } from 'vitest/config';

const tests = ['test/**/*.test.ts', 'test/**/*.test.tsx'];

// Two projects: `npm run test:unit` runs `unit`, `npm run test:e2e` runs `e2e`, `npm test` runs both.
// A test file is end-to-end, and named `*.e2e.test.ts(x)`, when it spawns a process (the `mnemo` binary, a pty through
// `script`, a child killed with SIGKILL), loads the real GloVe word vectors or builds their cache (test/helpers/glove.ts,
// or a `mnemo` command through test/helpers/cli.ts that embeds), or reads dist/ (built by `pretest`/`pretest:e2e`).
// Every other file is a unit test: in-process, fake embedders, loopback servers at most, no build needed.
const e2e = ['test/**/*.e2e.test.ts', 'test/**/*.e2e.test.tsx'];
// The fault suite (kill -9, concurrent writers, randomized users, byte scans after forget, malformed inputs, hostile
// Slack requests): a short form runs with every `npm test`; `npm run test:faults` runs the full form
// (MNEMO_FAULTS=full) on its own.
const faults = ['test/faults/**/*.faults.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: tests, exclude: [...configDefaults.exclude, ...e2e, ...faults] },
      },
      { extends: true, test: { name: 'e2e', include: e2e } },
      { extends: true, test: { name: 'faults', include: faults } },
    ],
  },
});
