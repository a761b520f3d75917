// No import cycle in the source: the runtime import graph of every non-test .ts file under the
// source folders is acyclic. Type-only imports and exports (`import type`, `export type`) are
// erased before run time and do not count; every other static import, re-export and dynamic
// import() with a literal relative path does.
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';

const ROOT = resolve(import.meta.dirname, '..');
const FOLDERS = ['dns', 'protocol', 'machines', 'broker', 'actors', 'cli'];

/** The relative module specifiers a source text loads at run time. */
function runtimeImports(fileName: string, text: string): string[] {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const out: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      if (node.importClause?.isTypeOnly !== true && ts.isStringLiteral(node.moduleSpecifier)) out.push(node.moduleSpecifier.text);
      return;
    }
    if (ts.isExportDeclaration(node)) {
      if (!node.isTypeOnly && node.moduleSpecifier !== undefined && ts.isStringLiteral(node.moduleSpecifier)) out.push(node.moduleSpecifier.text);
      return;
    }
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const arg = node.arguments[0];
      if (arg !== undefined && ts.isStringLiteralLike(arg)) out.push(arg.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out.filter((s) => s.startsWith('.'));
}

/** Every file's runtime imports, as paths relative to ROOT, restricted to the files given. */
function importGraph(files: readonly string[], read: (file: string) => string): Map<string, string[]> {
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const targets = runtimeImports(file, read(file))
      .map((s) => relative(ROOT, resolve(ROOT, dirname(file), s)))
      .filter((t) => known.has(t));
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** Each cycle of the graph, one per strongly connected component (Tarjan), as a closed path. */
function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const connect = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    for (;;) {
      const w = stack.pop() as string;
      onStack.delete(w);
      component.push(w);
      if (w === v) break;
    }
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) components.push(component);
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) connect(v);
  return components.map((c) => cycleIn(graph, new Set(c)));
}

/** One closed path through a strongly connected component, starting at its first file by name. */
function cycleIn(graph: ReadonlyMap<string, readonly string[]>, component: ReadonlySet<string>): string[] {
  const start = [...component].sort()[0] as string;
  // Breadth-first from start back to start inside the component: the shortest such cycle.
  const from = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const v = queue[i] as string;
    for (const w of graph.get(v) ?? []) {
      if (!component.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let u = v; u !== start; u = from.get(u) as string) path.splice(1, 0, u);
        return [...path, start];
      }
      if (!from.has(w)) {
        from.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

function sourceFiles(): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && !entry.name.endsWith('.d.ts')) files.push(path);
    }
  };
  for (const folder of FOLDERS) walk(folder);
  return files.sort();
}

test('the detector sees runtime imports, skips type-only ones, and finds a cycle (negative control)', () => {
  const sources: Record<string, string> = {
    'x/a.ts': "import { b } from './b.ts';\nimport type { D } from './d.ts';\nexport type { E } from './e.ts';\n",
    'x/b.ts': "export * from './c.ts';\n",
    'x/c.ts': "export async function f() { return import('./a.ts'); }\n",
    'x/d.ts': "import type { A } from './a.ts';\nimport { type C } from './c.ts';\n",
    'x/e.ts': "import { a } from './a.ts';\n",
  };
  const graph = importGraph(Object.keys(sources), (f) => sources[f] as string);
  assert.deepEqual(graph.get('x/a.ts'), ['x/b.ts']);
  assert.deepEqual(graph.get('x/d.ts'), ['x/c.ts'], 'an import of only inline types still loads the module');
  const cycles = findCycles(graph);
  assert.deepEqual(cycles, [['x/a.ts', 'x/b.ts', 'x/c.ts', 'x/a.ts']]);
  assert.deepEqual(findCycles(new Map([['s.ts', ['s.ts']]])), [['s.ts', 's.ts']], 'a file importing itself');
  assert.deepEqual(findCycles(new Map([['p.ts', ['q.ts']], ['q.ts', []]])), []);
});

test('no import cycle in dns, protocol, machines, broker, actors or cli (type-only imports aside)', () => {
  const files = sourceFiles();
  assert.ok(files.length > 50, `found only ${files.length} source files`);
  const graph = importGraph(files, (f) => readFileSync(join(ROOT, f), 'utf8'));
  assert.ok([...graph.values()].reduce((n, t) => n + t.length, 0) > files.length, 'the graph has edges');
  const cycles = findCycles(graph);
  assert.deepEqual(cycles.map((c) => c.join(' -> ')), [], `${cycles.length} import cycle(s)`);
});
