import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importCycles, type SourceImport, sourceModuleGraph } from './helpers/module-graph.js';

// The layers, from the bottom: memory and prompts stand alone; the recommender reads memory through its entry; tools
// use both entries; src/ is the agent and its surfaces; bin/ starts them. CONTRIBUTING.md draws the same picture.
const graph = sourceModuleGraph(join(import.meta.dirname, '..'), [
  'bin',
  'memory',
  'prompts',
  'recommender',
  'tools',
  'src',
]);

const within = (directory: string) => (file: string) => file.startsWith(`${directory}/`);
const shown = ({ from, line, to }: SourceImport): string => `${from}:${line} -> ${to}`;

/** The imports from files under `directory` to anything outside it that `allowed` does not accept. */
function leaving(directory: string, allowed: (target: string) => boolean): string[] {
  const inside = within(directory);
  return graph.imports.filter(({ from, to }) => inside(from) && !inside(to) && !allowed(to)).map(shown);
}

/** Imports from outside `directory` that reach past its public entry. */
function bypassing(directory: string): string[] {
  const inside = within(directory);
  const entry = `${directory}/index.ts`;
  return graph.imports.filter(({ from, to }) => !inside(from) && inside(to) && to !== entry).map(shown);
}

describe('the source tree', () => {
  it('is read whole: every layer has files and imports', () => {
    for (const layer of ['bin/', 'memory/', 'prompts/', 'recommender/', 'tools/', 'src/adapters/'])
      expect(graph.files.some((file) => file.startsWith(layer))).toBe(true);
    expect(graph.imports.length).toBeGreaterThan(200);
  });

  it('has no import cycles, type-only imports included', () => {
    expect(importCycles(graph)).toEqual([]);
  });

  it('memory/ and prompts/ import nothing of ours', () => {
    expect(leaving('memory', () => false)).toEqual([]);
    expect(leaving('prompts', () => false)).toEqual([]);
  });

  it('recommender/ imports only the memory entry', () => {
    expect(leaving('recommender', (to) => to === 'memory/index.ts')).toEqual([]);
  });

  it('tools/ imports only the memory and recommender entries', () => {
    expect(leaving('tools', (to) => to === 'memory/index.ts' || to === 'recommender/index.ts')).toEqual([]);
  });

  it('adapters import only the agent, events, chat, config and errors', () => {
    const allowed = (to: string) =>
      ['src/agent.ts', 'src/events.ts', 'src/config.ts', 'src/errors.ts'].includes(to) || to.startsWith('src/chat/');
    for (const adapter of ['src/adapters/tui', 'src/adapters/slack', 'src/adapters/line'])
      expect(leaving(adapter, allowed)).toEqual([]);
  });

  it('memory/, recommender/ and tools/ are reached only through their index.ts', () => {
    expect(bypassing('memory')).toEqual([]);
    expect(bypassing('recommender')).toEqual([]);
    expect(bypassing('tools')).toEqual([]);
  });

  it('the lower layers never import the agent, the CLI or the surfaces above them', () => {
    const upward = (to: string) => to.startsWith('src/') || to.startsWith('bin/');
    for (const layer of ['memory', 'prompts', 'recommender', 'tools'])
      expect(leaving(layer, (to) => !upward(to))).toEqual([]);
    // Inside src/: the agent, its graph and the chat core sit below the CLI and the surfaces.
    const core = (from: string) => !from.startsWith('src/cli/') && !from.startsWith('src/adapters/');
    const reachingUp = graph.imports.filter(
      ({ from, to }) =>
        from.startsWith('src/') && core(from) && (to.startsWith('src/cli/') || to.startsWith('src/adapters/')),
    );
    expect(reachingUp.map(shown)).toEqual([]);
  });
});
