import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kListFlag, numberFlag } from './flags.js';

test('numberFlag: an absent flag is undefined; a valid one is its number', () => {
  assert.equal(numberFlag('--n', undefined, { integer: true, min: 1 }), undefined);
  assert.equal(numberFlag('--n', '10', { integer: true, min: 1 }), 10);
  assert.equal(numberFlag('top-p', '0.95', { min: 0, max: 1 }), 0.95);
  assert.equal(numberFlag('--port', '0', { integer: true, min: 0, max: 65535 }), 0);
});

test('numberFlag: a bad value is refused with the flag, the value and the range in the message', () => {
  const cases: [string, string, Parameters<typeof numberFlag>[2], string][] = [
    ['--n', '', { integer: true, min: 1 }, '--n "" must be an integer ≥ 1.'],
    ['--n', ' ', { integer: true, min: 1 }, '--n " " must be an integer ≥ 1.'],
    ['--n', '2.5', { integer: true, min: 1 }, '--n "2.5" must be an integer ≥ 1.'],
    ['--n', '0', { integer: true, min: 1 }, '--n "0" must be an integer ≥ 1.'],
    ['fim-rate', '1.5', { min: 0, max: 1 }, '--fim-rate "1.5" must be a number from 0 to 1.'],
    ['--port', '70000', { integer: true, min: 0, max: 65535 }, '--port "70000" must be an integer from 0 to 65535.'],
    ['--timeout', 'soon', { positive: true }, '--timeout "soon" must be a positive number.'],
    ['--timeout', '0', { positive: true }, '--timeout "0" must be a positive number.'],
    ['--timeout', 'Infinity', { positive: true }, '--timeout "Infinity" must be a positive number.'],
  ];
  for (const [flag, text, range, message] of cases)
    assert.throws(() => numberFlag(flag, text, range), { name: 'UsageError', message }, `${flag} ${text}`);
});

test('kListFlag: comma-separated positive integers', () => {
  assert.equal(kListFlag('--k', undefined), undefined);
  assert.deepEqual(kListFlag('--k', '1, 10,100'), [1, 10, 100]);
  for (const text of ['', '0', '1,,10', '1.5', '1,x'])
    assert.throws(
      () => kListFlag('--k', text),
      { message: `--k ${JSON.stringify(text)} must be integers from 1 to 100000 separated by commas, e.g. 1,10,100.` },
      text,
    );
});
