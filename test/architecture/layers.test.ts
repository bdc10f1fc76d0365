// The layering of docs/architecture.md, checked on the source: every area of src/ has a layer, an area imports only
// from areas on lower layers, and no file imports itself back through others (type-only imports count: they are the
// cycles that make a file unreadable on its own). Import specifiers are read from the .ts text, so the check needs no
// build of its own.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { test } from 'node:test';
import { packageRoot } from '../../src/core/index.js';

/** The layers of docs/architecture.md: an area may import from areas on a lower layer only. */
const LAYERS: Record<string, number> = {
  core: 0,
  models: 1,
  tasks: 1,
  sandbox: 1,
  context: 1,
  fim: 2,
  eval: 2,
  loop: 2,
  rewards: 2,
  export: 2,
  queue: 2,
  train: 3,
  report: 3,
  server: 4,
  cli: 5,
};

const src = join(packageRoot(), 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'runtime' ? [] : sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Each file's relative imports, resolved to src-relative .ts paths (`eval/index.ts`). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(src)) {
    const text = readFileSync(file, 'utf8');
    const targets = [...text.matchAll(/(?:from|import)\s+'(\.{1,2}\/[^']+)'/g)].map((match) =>
      relative(src, normalize(join(dirname(file), match[1] ?? ''))).replace(/\.js$/, '.ts'),
    );
    graph.set(relative(src, file), targets);
  }
  return graph;
}

const areaOf = (path: string): string => path.split('/')[0] ?? '';

/** Imports from one area into another on the same or a higher layer. */
function upwardImports(graph: Map<string, string[]>): string[] {
  const upward: string[] = [];
  for (const [file, targets] of graph) {
    for (const target of targets) {
      const from = areaOf(file);
      const to = areaOf(target);
      if (target.startsWith('..') || from === to) continue; // outside src (test support in unit tests), or own area
      if ((LAYERS[to] ?? Infinity) >= (LAYERS[from] ?? -1))
        upward.push(`${file} → ${target} (${from}: ${LAYERS[from]}, ${to}: ${LAYERS[to]})`);
    }
  }
  return upward;
}

/** Each import cycle found by a depth-first walk, as `a → b → a`. */
function importCycles(graph: Map<string, string[]>): string[] {
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const visit = (file: string, path: string[]): void => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'open') {
      cycles.push([...path.slice(path.indexOf(file)), file].join(' → '));
      return;
    }
    state.set(file, 'open');
    for (const target of graph.get(file) ?? []) if (graph.has(target)) visit(target, [...path, file]);
    state.set(file, 'done');
  };
  for (const file of graph.keys()) visit(file, []);
  return cycles;
}

test('every area of src has a layer, and imports only from lower layers', () => {
  const graph = importGraph();
  const unplaced = [...new Set([...graph.keys()].map(areaOf))].filter((area) => !(area in LAYERS));
  assert.deepEqual(unplaced, [], 'place each new area on a layer in docs/architecture.md and in LAYERS above');
  assert.deepEqual(upwardImports(graph), [], 'an area imports only from lower layers: move the shared piece down');
});

test('no import cycles between the files of src', () => {
  assert.deepEqual(importCycles(importGraph()), []);
});

test('the checks report an upward import and a cycle, and the graph holds real imports', () => {
  const made = new Map([
    ['cli/main.ts', ['cli/run.ts']],
    ['cli/run.ts', ['cli/main.ts']],
    ['core/errors.ts', ['eval/index.ts']],
    ['eval/index.ts', []],
  ]);
  assert.deepEqual(upwardImports(made), ['core/errors.ts → eval/index.ts (core: 0, eval: 2)']);
  assert.deepEqual(importCycles(made), ['cli/main.ts → cli/run.ts → cli/main.ts']);
  const graph = importGraph();
  assert.ok((graph.get('eval/evaluate.ts') ?? []).includes('sandbox/index.ts'));
  assert.ok((graph.get('cli/main.ts') ?? []).includes('cli/command.ts'));
});
