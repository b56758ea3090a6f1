import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENVIRONMENT } from '../../src/config.js';
import { mnemo } from '../helpers/cli.js';

const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');

/** The fenced blocks without a language (literal output) of one `## ` section of the README. */
function outputBlocks(section: string): string[] {
  const start = readme.indexOf(`\n## ${section}\n`);
  expect(start, `README has a ${section} section`).toBeGreaterThan(-1);
  const end = readme.indexOf('\n## ', start + 1);
  const blocks: string[] = [];
  let open: { language: string; lines: string[] } | undefined;
  for (const line of readme.slice(start, end === -1 ? undefined : end).split('\n')) {
    if (!line.startsWith('```')) open?.lines.push(line);
    else if (!open) open = { language: line.slice(3).trim(), lines: [] };
    else {
      if (open.language === '') blocks.push(`${open.lines.join('\n')}\n`);
      open = undefined;
    }
  }
  return blocks;
}

describe('README', () => {
  it('shows exactly what mnemo --help prints', async () => {
    const [block] = outputBlocks('Usage');
    const help = await mnemo({}, ['--help']);
    expect(help.code).toBe(0);
    expect(block).toBe(help.stdout);
  });

  it('names every environment variable of the configuration in its Configuration table', () => {
    const start = readme.indexOf('\n## Configuration\n');
    const table = readme.slice(start, readme.indexOf('\n\n', readme.indexOf('| ', start)));
    for (const name of Object.keys(ENVIRONMENT)) expect(table, name).toContain(`\`${name}\``);
  });
});
