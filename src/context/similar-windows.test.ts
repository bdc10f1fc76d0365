import assert from 'node:assert/strict';
import { test } from 'node:test';
import { identifierSet, jaccard, rankSimilarWindows } from './similar-windows.js';

test('Jaccard over identifier sets ignores short names and keywords', () => {
  assert.deepEqual([...identifierSet('def load_users(path): return [User(x) for x in read(path)]')].sort(), [
    'User',
    'load_users',
    'path',
    'read',
  ]);
  assert.equal(jaccard(new Set(['a1x', 'b2y']), new Set(['b2y', 'c3z'])), 1 / 3);
  assert.equal(jaccard(new Set(), new Set(['abc'])), 0);
});

test('the best window per file, best first, stable on ties', () => {
  const lines = Array.from({ length: 60 }, (_, index) =>
    index >= 40 && index < 45 ? `total_price = compute_price(order_items)` : `unrelated_${index} = ${index}`,
  );
  const files = [
    { path: 'b.py', text: 'compute_price order_items total_price' },
    { path: 'a.py', text: lines.join('\n') },
    { path: 'c.py', text: 'nothing_here = 1' },
  ];
  const ranked = rankSimilarWindows('total_price = compute_price(order_items)', files, { windowLines: 10 });
  assert.deepEqual(
    ranked.map((window) => [window.path, window.startLine]),
    [
      ['b.py', 0],
      ['a.py', 35], // windows 35–44 and 40–49 tie (5 matching lines each): the earlier one wins
    ],
  );
  assert.ok((ranked[0]?.score ?? 0) > (ranked[1]?.score ?? 0));
});
