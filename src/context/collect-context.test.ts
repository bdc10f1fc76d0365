import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createContextCollector, type ContextRequest } from './collect-context.js';

const utils = [
  'import math',
  '',
  'def distance(a, b):',
  '    """Euclidean distance between two points."""',
  '    return math.hypot(a.x - b.x, a.y - b.y)',
  '',
  'class Point:',
  '    def __init__(self, x, y):',
  '        self.x = x',
  '        self.y = y',
  '',
  'UNUSED = 3',
].join('\n');

const geometry = [
  'def perimeter(points):',
  '    total = 0',
  '    for left, right in zip(points, points[1:]):',
  '        total += distance(left, right)',
  '    return total',
].join('\n');

const unrelated = 'def parse_config(path):\n    with open(path) as handle:\n        return handle.read()\n';

const currentText =
  'from .utils import distance, Point\n\ndef closest(points, target):\n    best = min(points, key=lambda point: distance(point, target))\n    ';

function request(overrides: Partial<ContextRequest> = {}): ContextRequest {
  return {
    current: { path: 'pkg/main.py', text: currentText },
    visibleText: currentText,
    cursorWindow: currentText,
    files: [
      { path: 'pkg/utils.py', text: utils },
      { path: 'pkg/geometry.py', text: geometry },
      { path: 'pkg/config.py', text: unrelated },
    ],
    ...overrides,
  };
}

test('imported definitions come first, then similar windows; unrelated files are left out', async () => {
  const collector = createContextCollector();
  const context = await collector.collect(request(), 10_000);
  assert.deepEqual(
    context.snippets.map((snippet) => [snippet.kind, snippet.path, snippet.startLine]),
    [
      ['definition', 'pkg/utils.py', 2],
      ['definition', 'pkg/utils.py', 6],
      ['similar', 'pkg/geometry.py', 0],
    ],
  );
  assert.match(context.snippets[0]?.text ?? '', /^def distance\(a, b\):/);
  assert.match(context.snippets[1]?.text ?? '', /^class Point:/);
  assert.equal(
    context.tokens,
    context.snippets.reduce((sum, snippet) => sum + snippet.tokens, 0),
  );
});

test('the token budget is respected with the counter given, and what does not fit is counted', async () => {
  const counted: string[] = [];
  const collector = createContextCollector({ countTokens: (text) => (counted.push(text), text.split(/\s+/).length) });
  const full = await collector.collect(request(), 10_000);
  const budget = (full.snippets[0]?.tokens ?? 0) + 1;
  const small = await collector.collect(request(), budget);
  assert.ok(counted.length > 0);
  assert.ok(small.tokens <= budget);
  assert.deepEqual(
    small.snippets.map((snippet) => snippet.startLine),
    [2],
  );
  assert.equal(small.overBudget, 2);
});

test('snippets the prompt already shows are dropped', async () => {
  const collector = createContextCollector();
  const visibleText = `${currentText}\n${geometry}`;
  const context = await collector.collect(request({ visibleText }), 10_000);
  assert.ok(!context.snippets.some((snippet) => snippet.path === 'pkg/geometry.py'));
  assert.ok(context.duplicates >= 1);
});

test('the order does not change when the cursor window changes (prompt caches survive keystrokes)', async () => {
  const collector = createContextCollector();
  const orders: string[] = [];
  for (const typed of ['', 'r', 're', 'ret', 'return best']) {
    const text = currentText + typed;
    const context = await collector.collect(
      request({ current: { path: 'pkg/main.py', text }, visibleText: text, cursorWindow: text }),
      10_000,
    );
    orders.push(context.snippets.map((snippet) => `${snippet.path}:${snippet.startLine}`).join(','));
  }
  assert.equal(new Set(orders).size, 1);
});

test('TypeScript: named imports of a relative .js specifier resolve to the .ts source', async () => {
  const collector = createContextCollector();
  const current = {
    path: 'src/app.ts',
    text: "import { add, type Pair } from './math.js';\n\nexport const total = add(",
  };
  const math = {
    path: 'src/math.ts',
    text: 'export interface Pair { a: number; b: number }\n\nexport function add(a: number, b: number): number {\n  return a + b;\n}\n\nexport const unrelated = 1;\n',
  };
  const context = await collector.collect(
    { current, visibleText: current.text, cursorWindow: current.text, files: [math] },
    10_000,
  );
  assert.deepEqual(
    context.snippets.filter((snippet) => snippet.kind === 'definition').map((snippet) => snippet.text.split('\n')[0]),
    ['export interface Pair { a: number; b: number }', 'export function add(a: number, b: number): number {'],
  );
});

test('a language without a grammar still gets similar windows', async () => {
  const collector = createContextCollector();
  const current = { path: 'main.rb', text: 'def perimeter_of(points)\n  total = distance(left, right)\n' };
  const context = await collector.collect(
    {
      current,
      visibleText: current.text,
      cursorWindow: current.text,
      files: [{ path: 'geometry.py', text: geometry }],
    },
    10_000,
  );
  assert.deepEqual(
    context.snippets.map((snippet) => snippet.kind),
    ['similar'],
  );
});
