import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ENVIRONMENT, loadConfig } from '../src/config.js';
import { ConfigError } from '../src/errors.js';

const root = join(import.meta.dirname, '..');

/** Every `env.NAME`, `env[...]` and `process.env...` read in bin/ and src/, as `file: text`. */
function environmentReads(): string[] {
  const files = ['bin', 'src'].flatMap((directory) =>
    readdirSync(join(root, directory), { recursive: true, encoding: 'utf8' })
      .filter((file) => /\.tsx?$/.test(file))
      .map((file) => join(root, directory, file)),
  );
  const reads: string[] = [];
  for (const file of files) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      if ((ts.isPropertyAccessExpression(node) || ts.isElementAccessExpression(node)) && isEnv(node.expression))
        reads.push(`${relative(root, file)}: ${node.getText(source)}`);
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return reads.sort();
}

const isEnv = (node: ts.Expression): boolean =>
  (ts.isIdentifier(node) && node.text === 'env') || (ts.isPropertyAccessExpression(node) && node.name.text === 'env');

describe('configuration', () => {
  it('is the only reader of environment variables, through its declarations', () => {
    expect(environmentReads()).toEqual([
      // Ink's CI switch, removed for a real terminal: not configuration (see chat.ts).
      'src/cli/commands/chat.ts: process.env.CI',
      'src/cli/commands/chat.ts: process.env.CONTINUOUS_INTEGRATION',
      // readSetting: typed by the declared names.
      'src/config.ts: env[name]',
    ]);
  });

  it('declares every variable with a description', () => {
    for (const [name, variable] of Object.entries(ENVIRONMENT)) expect(variable.description, name).not.toBe('');
  });

  it('reports a bad value in one line, and a setting only one command uses stops only that command', () => {
    const model = { OPENAI_API_KEY: 'sk-test' };
    expect(() => loadConfig({ env: { ...model, MNEMO_MODEL_TIMEOUT_MS: 'soon' } })).toThrow(
      new ConfigError('MNEMO_MODEL_TIMEOUT_MS must be a non-negative integer, not "soon"'),
    );
    expect(loadConfig({ env: { MNEMO_MODEL_TIMEOUT_MS: 'soon' } }).model).toEqual({ kind: 'none' });
    const slack = { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's', PORT: 'eighty' };
    expect(loadConfig({ env: slack }).slack).toEqual({
      mode: 'unusable',
      problem: 'PORT must be a port number from 0 to 65535, not "eighty"',
    });
  });

  it('applies the declared defaults', () => {
    const config = loadConfig({ env: { OPENAI_BASE_URL: 'http://127.0.0.1:1/v1', XDG_DATA_HOME: '/data' } });
    expect(config.model).toMatchObject({ model: 'gpt-4o-mini', timeoutMs: 60_000, maxRetries: 2 });
    expect(config).toMatchObject({ db: '/data/mnemo/mnemo.db', dataDir: '/data/mnemo', debug: false });
    expect(config.embedder).toEqual({ kind: 'glove', cacheDir: '/data/mnemo/cache' });
    expect(loadConfig({ env: { MNEMO_USER: ' ada ', MNEMO_DEBUG: '1' } })).toMatchObject({ user: 'ada', debug: true });
  });
});
