import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

/** What loading a package's exported entry points pulls in, found by following the built JavaScript. */
export interface ModuleGraph {
  /** Each `exports` subpath that names a JavaScript file (`"."`, `"./testing"`, ...) and that file. */
  entries: Map<string, string>;
  /** Every file the walk reached, relative to the package root. */
  files: string[];
  /** Every bare specifier reached (`ink`, `react/jsx-runtime`, `node:fs`), with the chain of files that leads to it. */
  externals: Map<string, string[]>;
}

/**
 * Walks the files a package's `exports` point at, following relative static imports, re-exports, `import()` and
 * `require()` calls, and collects the bare specifiers they reach. Reads a real parse of the emitted JavaScript rather
 * than a pattern over it, so comments, strings and JSDoc examples are never taken for imports. Throws on a relative
 * specifier that names no file and on a dynamic import whose specifier is computed, since either would hide part of
 * the graph.
 *
 * @example
 * const { externals } = packageModuleGraph('/path/to/package'); // run `npm run build` first
 */
export function packageModuleGraph(packageRoot: string): ModuleGraph {
  const manifest = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { exports?: unknown };
  const entries = new Map<string, string>();
  for (const [subpath, target] of Object.entries(exportsMap(manifest.exports))) {
    const file = javaScriptTarget(target);
    if (file !== undefined) entries.set(subpath, resolve(packageRoot, file));
  }

  // Breadth-first, so the chain kept for each file is a shortest one.
  const parent = new Map<string, string | undefined>();
  const externals = new Map<string, string[]>();
  const chain = (file: string | undefined): string[] =>
    file === undefined ? [] : [...chain(parent.get(file)), relative(packageRoot, file)];
  const queue: string[] = [];
  for (const file of entries.values()) {
    if (!existsSync(file))
      throw new Error(`${relative(packageRoot, file)} does not exist; run \`npm run build\` first`);
    if (parent.has(file)) continue;
    parent.set(file, undefined);
    queue.push(file);
  }
  for (let index = 0; index < queue.length; index++) {
    const file = queue[index]!;
    if (!/\.[cm]?js$/.test(extname(file))) continue; // e.g. an imported JSON file: reached, but imports nothing
    for (const { specifier, line } of moduleSpecifiers(file, relative(packageRoot, file))) {
      if (!specifier.startsWith('.') && !specifier.startsWith('/')) {
        if (!externals.has(specifier)) externals.set(specifier, chain(file));
        continue;
      }
      const target = resolve(dirname(file), specifier);
      if (!existsSync(target) || !statSync(target).isFile())
        throw new Error(`${relative(packageRoot, file)}:${line} imports '${specifier}', which names no file`);
      if (parent.has(target)) continue;
      parent.set(target, file);
      queue.push(target);
    }
  }
  return { entries, files: queue.map((file) => relative(packageRoot, file)), externals };
}

/** The package a bare specifier belongs to: `react` for `react/jsx-runtime`, `@slack/bolt` for `@slack/bolt/dist/x`. */
export function packageName(specifier: string): string {
  return specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');
}

/** `exports` as subpath → target; a bare string or a top-level conditions object is the `"."` entry. */
function exportsMap(exports: unknown): Record<string, unknown> {
  if (exports === undefined) throw new Error('package.json declares no "exports"');
  if (typeof exports === 'string' || Array.isArray(exports)) return { '.': exports };
  const record = exports as Record<string, unknown>;
  return Object.keys(record).every((key) => key.startsWith('.')) ? record : { '.': record };
}

/** The JavaScript file a Node `import` of this target loads; type declarations are not loaded. */
function javaScriptTarget(target: unknown): string | undefined {
  if (typeof target === 'string') {
    if (target.includes('*')) throw new Error(`subpath patterns are not walked: ${target}`);
    return /\.[cm]?js$/.test(target) ? target : undefined;
  }
  if (Array.isArray(target)) return target.map(javaScriptTarget).find((file) => file !== undefined);
  if (target !== null && typeof target === 'object') {
    // Node tries conditions in the object's order and takes the first it matches.
    for (const [condition, value] of Object.entries(target)) {
      if (['node', 'import', 'default'].includes(condition)) {
        const file = javaScriptTarget(value);
        if (file !== undefined) return file;
      }
    }
  }
  return undefined;
}

function moduleSpecifiers(file: string, shown: string): { specifier: string; line: number }[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false, ts.ScriptKind.JS);
  const found: { specifier: string; line: number }[] = [];
  const add = (node: ts.Node, specifier: ts.Node | undefined): void => {
    const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
    if (specifier === undefined || !ts.isStringLiteralLike(specifier)) {
      throw new Error(`${shown}:${line} loads a module whose name is computed, so the walk cannot follow it`);
    }
    found.push({ specifier: specifier.text, line });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) add(node, node.moduleSpecifier);
    else if (ts.isExportDeclaration(node) && node.moduleSpecifier !== undefined) add(node, node.moduleSpecifier);
    else if (ts.isCallExpression(node) && isModuleLoad(node.expression)) add(node, node.arguments[0]);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function isModuleLoad(callee: ts.Expression): boolean {
  return callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === 'require');
}
