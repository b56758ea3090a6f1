import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageModuleGraph, packageName } from './helpers/module-graph.js';

/** Packages that only the terminal and Slack surfaces may load; an app embedding mnemo should never pay for them. */
const isSurfaceOnly = (name: string): boolean =>
  name === 'ink' || name.startsWith('ink-') || name === 'react' || name.startsWith('@slack/');

// Walks dist/, which `npm test` builds first (the `pretest` script): what a user's `import 'mnemo'` really loads,
// with type-only imports erased and dynamic `import()` included.
describe('the library entry points', () => {
  const graph = packageModuleGraph(join(import.meta.dirname, '..'));

  it('load nothing from ink, react or @slack/*, statically or through import()', () => {
    const reached = [...graph.externals].filter(([specifier]) => isSurfaceOnly(packageName(specifier)));
    expect(reached.map(([specifier, chain]) => `${chain.join(' -> ')} -> ${specifier}`)).toEqual([]);
  });

  it('include the root and testing exports, and the walk reaches the whole agent behind them', () => {
    expect([...graph.entries.keys()]).toEqual(expect.arrayContaining(['.', './testing']));
    expect(graph.files).toEqual(
      expect.arrayContaining(['dist/src/index.js', 'dist/src/testing.js', 'dist/src/agent.js']),
    );
    expect(graph.files.length).toBeGreaterThan(30);
    expect([...graph.externals.keys()]).toEqual(
      expect.arrayContaining(['@langchain/langgraph', 'better-sqlite3', 'zod']),
    );
  });
});
