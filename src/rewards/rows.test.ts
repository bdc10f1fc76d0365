import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizeRow, RowError } from './rows.js';

test('Open-R1 rows: the object, its JSON text, or the inner object', () => {
  const info = { language: 'typescript', test_cases: [{ input: '1\n', output: '2\n' }] };
  for (const row of [{ verification_info: info }, { verification_info: JSON.stringify(info) }, info]) {
    const normalized = normalizeRow(row);
    assert.equal(normalized.kind, 'stdio');
    assert.equal(normalized.language, 'typescript');
    assert.deepEqual(normalized.kind === 'stdio' && normalized.cases, [{ input: '1\n', outputs: ['2\n'] }]);
  }
});

test('verl rows: calls with fn_name, stdin/stdout without, asserts', () => {
  const calls = normalizeRow({ ground_truth: JSON.stringify({ inputs: [[1, 2]], outputs: [3], fn_name: 'add' }) });
  assert.equal(calls.kind, 'calls');
  assert.equal(calls.entryPoint, 'add');
  const stdio = normalizeRow({
    reward_model: { ground_truth: { inputs: ['1 2\n'], outputs: ['3\n'] } },
    extra_info: { language: 'js' },
  });
  assert.equal(stdio.kind, 'stdio');
  assert.equal(stdio.language, 'javascript');
  const asserts = normalizeRow({ ground_truth: { assert_case: ['assert add(1, 2) == 3'] } });
  assert.equal(asserts.kind, 'function-tests');
  assert.equal(asserts.entryPoint, 'add');
});

test('function tests: HumanEval check functions, MultiPL-E tests, MBPP asserts', () => {
  const humaneval = normalizeRow({
    prompt: 'def f(x):\n',
    test: 'def check(candidate):\n    assert candidate(1) == 2\n',
    entry_point: 'f',
  });
  assert.equal(humaneval.kind === 'function-tests' && humaneval.sources[0]!.form, 'check-function');
  const multiple = normalizeRow({
    language: 'ts',
    prompt: 'function g() {\n',
    tests: 'function test() {\n  let candidate = g;\n}\ntest();\n',
  });
  assert.equal(multiple.entryPoint, 'g');
  assert.equal(multiple.typeCheck, true);
  const mbpp = normalizeRow({ test_list: ['assert set(similar(1, 2)) == set([1])'], test_imports: ['import math'] });
  assert.equal(mbpp.entryPoint, 'similar');
  assert.equal(mbpp.kind === 'function-tests' && mbpp.sources[0]!.form, 'statements');
});

test('a bad row is a RowError naming the field and the fix', () => {
  assert.throws(
    () => normalizeRow({ verification_info: { language: 'cobol', test_cases: [] } }),
    (error: unknown) => {
      assert.ok(error instanceof RowError);
      assert.match(
        (error as Error).message,
        /verification_info\.language "cobol" .* use python, javascript or typescript/,
      );
      return true;
    },
  );
  assert.throws(() => normalizeRow({ verification_info: '{not json' }), /verification_info is a string but not JSON/);
  assert.throws(() => normalizeRow({ ground_truth: { inputs: [1], outputs: [] } }), /same length/);
  assert.throws(() => normalizeRow({ foo: 1 }), /none of the fields that name a format \(keys: foo\)/);
  assert.throws(
    () => normalizeRow({ task: { language: 'python', layout: 'syntax-match' } }),
    /cannot be scored for rewards/,
  );
});
