import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromTagged, plainEqual, toTagged } from './calls-tests.js';
import { completionCode } from './completion.js';
import { normalizeRow } from './rows.js';
import { COMPILE_ERROR_PENALTY, NO_CODE_PENALTY, rewardOf, scoreItem } from './score.js';

test('reward modes', () => {
  assert.equal(rewardOf('fraction', 'failed', 0.5), 0.5);
  assert.equal(rewardOf('binary', 'failed', 0.5), 0);
  assert.equal(rewardOf('binary', 'passed', 1), 1);
  assert.equal(rewardOf('weighted', 'no-code', 0), NO_CODE_PENALTY);
  assert.equal(rewardOf('weighted', 'compile-error', 0), COMPILE_ERROR_PENALTY);
  assert.equal(rewardOf('weighted', 'timed-out', 0.25), 0.25);
  for (const mode of ['binary', 'fraction', 'weighted'] as const) {
    assert.equal(rewardOf(mode, 'infra-error', null), null, 'an infra error is null, never 0');
    assert.equal(rewardOf(mode, 'flaky', 0.5), null);
  }
});

test('completion code: fences, continuation, chat messages, format reward', () => {
  const humaneval = normalizeRow({
    prompt: 'from typing import List\ndef f(x):\n',
    test: 'assert f(1) == 2',
    entry_point: 'f',
  });
  assert.deepEqual(completionCode(humaneval, '    return x + 1\n'), {
    code: 'from typing import List\ndef f(x):\n    return x + 1\n',
    formatReward: 1,
    noCode: false,
  });
  const chat = completionCode(humaneval, [
    { role: 'user', content: 'solve' },
    { role: 'assistant', content: 'Sure:\n```python\ndef f(x):\n    return x + 1\n```\n' },
  ]);
  assert.match(chat.code, /^from typing import List\ndef f\(x\):/);
  const stdio = normalizeRow({ test_cases: [{ input: '', output: '1' }] });
  assert.deepEqual(completionCode(stdio, 'print(1)'), { code: 'print(1)', formatReward: 0, noCode: false });
  assert.equal(completionCode(stdio, '```python\nprint(1)\n```').formatReward, 1);
  assert.equal(completionCode(stdio, '  \n').noCode, true);
});

test('host-side comparison of returned values (verl fn_name rows)', () => {
  assert.ok(plainEqual(fromTagged({ t: [{ i: '1' }, { f: '2.0' }] }), [1, 2]));
  assert.ok(plainEqual(fromTagged({ i: '123456789012345678901234567890' }), 123456789012345678901234567890n));
  assert.ok(!plainEqual(fromTagged({ o: 'Yes', r: '' }), { o: 'Yes', r: '' }), 'an opaque value equals nothing');
  assert.ok(plainEqual(fromTagged({ d: [['a', { i: '1' }]] }), { a: 1 }));
  assert.ok(!plainEqual(fromTagged('1'), 1));
  assert.deepEqual(toTagged([1, 2.5, 'x', { k: null }], 'python'), [
    { i: '1' },
    { f: '2.5' },
    'x',
    { d: [['k', null]] },
  ]);
});

test('scoreItem: a completion without code is scored without running anything', async () => {
  const executor = {
    isolation: 'none' as const,
    run: () => Promise.reject(new Error('must not run')),
  };
  const result = await scoreItem(
    { row: { test_cases: [{ input: '', output: '1' }] }, completion: '' },
    { executor, mode: 'weighted' },
  );
  assert.equal(result.verdict, 'no-code');
  assert.equal(result.reward, NO_CODE_PENALTY);
  await assert.rejects(scoreItem({ row: {}, completion: 'x' }, { executor }), /none of the fields/);
  await assert.rejects(
    scoreItem({ row: { test_cases: [] }, completion: 'x' }, { executor, mode: 'best' as never }),
    /mode "best" is not a reward mode/,
  );
});
