import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CompletionCache } from './completion-cache.js';

test('exact and typed-ahead hits compare the whole prefix and suffix, not just the nearby key text', () => {
  const cache = new CompletionCache<{ text: string; replaceLength: number }>(10, 8);
  const long = `${'x'.repeat(1000)}\ndef f():\n    `;
  cache.set(long, '\n', { text: 'return 1', replaceLength: 0 });
  assert.equal(cache.get(long, '\n')?.typed, 0);
  assert.deepEqual(cache.get(`${long}ret`, '\n'), { entry: { text: 'return 1', replaceLength: 0 }, typed: 3 });
  // Same last 256 characters, different start of file: a miss.
  assert.equal(cache.get(`y${long.slice(1)}`, '\n'), undefined);
  // Different suffix, typed text that disagrees, the whole suggestion typed, or further back than maxTypedAhead: misses.
  assert.equal(cache.get(long, '\nmore'), undefined);
  assert.equal(cache.get(`${long}rx`, '\n'), undefined);
  assert.equal(cache.get(`${long}return 1`, '\n'), undefined);
  cache.set('a', '', { text: 'bcdefghijklmnop', replaceLength: 0 });
  assert.equal(cache.get('abcdefghij', ''), undefined);
  assert.equal(cache.get('abcdefghi', '')?.typed, 8);
});

test('least recently used entries are dropped first', () => {
  const cache = new CompletionCache<{ text: string; replaceLength: number }>(2);
  cache.set('a', '', { text: '1', replaceLength: 0 });
  cache.set('b', '', { text: '2', replaceLength: 0 });
  assert.ok(cache.get('a', '') !== undefined); // a is now the most recent
  cache.set('c', '', { text: '3', replaceLength: 0 });
  assert.equal(cache.size, 2);
  assert.equal(cache.get('b', ''), undefined);
  assert.ok(cache.get('a', '') !== undefined && cache.get('c', '') !== undefined);
});

test('a variant (the request settings) is part of the key', () => {
  const cache = new CompletionCache<{ text: string; replaceLength: number }>(10);
  cache.set('x = ', '', { text: '1', replaceLength: 0 }, 'auto|128');
  assert.equal(cache.get('x = ', '', 'auto|4'), undefined);
  assert.equal(cache.get('x = ', ''), undefined);
  assert.equal(cache.get('x = ', '', 'auto|128')?.entry.text, '1');
});
