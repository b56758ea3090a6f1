import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
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

function moduleSpecifiers(file: string, shown: string, kind = ts.ScriptKind.JS): { specifier: string; line: number }[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false, kind);
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

/** One import between two of the package's own source files. */
export interface SourceImport {
  /** The importing file, relative to the package root. */
  from: string;
  /** The imported file, relative to the package root. */
  to: string;
  line: number;
}

/** The package's own TypeScript sources and the imports between them, type-only imports included. */
export interface SourceGraph {
  files: string[];
  imports: SourceImport[];
}

/**
 * Reads every `.ts`/`.tsx` file under the given directories and resolves their relative imports (`./x.js` names
 * `./x.ts` or `./x.tsx`), keeping type-only imports: a cycle of types is still a cycle for the reader. Throws on a
 * relative specifier that names no source file.
 *
 * @example
 * const { imports } = sourceModuleGraph('/path/to/package', ['src', 'memory']);
 */
export function sourceModuleGraph(packageRoot: string, directories: readonly string[]): SourceGraph {
  const files = directories.flatMap((directory) => sourceFiles(join(packageRoot, directory)));
  const imports: SourceImport[] = [];
  for (const file of files) {
    const from = relative(packageRoot, file);
    const kind = file.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS;
    for (const { specifier, line } of moduleSpecifiers(file, from, kind)) {
      if (!specifier.startsWith('.')) continue;
      const target = resolve(dirname(file), specifier);
      const candidates = [target, target.replace(/\.js$/, '.ts'), target.replace(/\.js$/, '.tsx')];
      const found = candidates.find((candidate) => existsSync(candidate) && statSync(candidate).isFile());
      if (!found) throw new Error(`${from}:${line} imports '${specifier}', which names no source file`);
      imports.push({ from, to: relative(packageRoot, found), line });
    }
  }
  return { files: files.map((file) => relative(packageRoot, file)), imports };
}

/** Every cycle's files, each cycle once, as `a.ts -> b.ts -> a.ts` (Tarjan's strongly connected components). */
export function importCycles(graph: SourceGraph): string[] {
  const next = new Map<string, string[]>();
  for (const { from, to } of graph.imports) next.set(from, [...(next.get(from) ?? []), to]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[] = [];
  let counter = 0;
  const visit = (file: string): void => {
    index.set(file, counter);
    low.set(file, counter++);
    stack.push(file);
    onStack.add(file);
    for (const target of next.get(file) ?? []) {
      if (!index.has(target)) {
        visit(target);
        low.set(file, Math.min(low.get(file)!, low.get(target)!));
      } else if (onStack.has(target)) low.set(file, Math.min(low.get(file)!, index.get(target)!));
    }
    if (low.get(file) !== index.get(file)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== file);
    const selfImport = (next.get(file) ?? []).includes(file);
    if (component.length > 1 || selfImport) cycles.push(cyclePath(component, next));
  };
  for (const file of graph.files) if (!index.has(file)) visit(file);
  return cycles;
}

/** One closed path through a strongly connected component, for the failure message. */
function cyclePath(component: string[], next: Map<string, string[]>): string {
  const members = new Set(component);
  const start = [...members].sort()[0]!;
  const path = [start];
  const seen = new Set([start]);
  let current = start;
  for (;;) {
    const targets = (next.get(current) ?? []).filter((target) => members.has(target));
    const onward = targets.find((target) => !seen.has(target)) ?? targets.find((target) => target === start);
    if (onward === undefined || onward === start) return [...path, start].join(' -> ');
    path.push(onward);
    seen.add(onward);
    current = onward;
  }
}

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts'))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}
