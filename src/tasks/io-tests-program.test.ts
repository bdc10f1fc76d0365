import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ioTestsProgram, ioTestsWallMs, parseIoTestsResult } from './io-tests-program.js';
import { buildProgram, type Task } from './task.js';

const suite = { cases: [{ input: '1 2\n', outputs: ['3'] }], timeoutMs: 6000 };

function embeddedConfig(program: string): unknown {
  const match = /base64\.b64decode\("([A-Za-z0-9+/=]*)"\)/.exec(program);
  return JSON.parse(Buffer.from(match?.[1] ?? '', 'base64').toString('utf8'));
}

test('ioTestsProgram embeds the program and the cases as base64 JSON, lone surrogates included', () => {
  const program = 'print(sum(map(int, input().split())))  # \ud800 “quotes” """ \\ ${x}';
  const driver = ioTestsProgram(program, suite);
  assert.deepEqual(embeddedConfig(driver), { program, cases: suite.cases, timeoutMs: 6000, compileTimeoutMs: 10_000 });
  assert.match(driver, /^# codeloop io-tests driver/);
  assert.match(driver, /\nmain\(\)\n$/);
  assert.ok(!driver.includes(program), 'the program text is not pasted into the driver');
});

test('ioTestsProgram refuses an empty suite or a bad timeout, naming the fix', () => {
  assert.throws(() => ioTestsProgram('pass', { cases: [], timeoutMs: 6000 }), {
    name: 'UsageError',
    message: 'An io-tests suite needs at least one test case: give the task its unit tests.',
  });
  assert.throws(() => ioTestsProgram('pass', { ...suite, timeoutMs: 0 }), {
    name: 'UsageError',
    message: 'An io-tests suite needs a positive timeoutMs, got 0: SAFIM tasks use 6000.',
  });
});

test('ioTestsWallMs leaves room for the compile check and every test', () => {
  assert.equal(
    ioTestsWallMs({ cases: [suite.cases[0]!, suite.cases[0]!], timeoutMs: 6000 }),
    10_000 + 2 * 7_000 + 2_000,
  );
});

test('parseIoTestsResult reads the last summary line and ignores anything else', () => {
  const line = 'codeloop-io-tests: {"verdict": "WRONG_ANSWER", "tests": 3, "outcomes": ["PASSED", "WRONG_ANSWER"]}';
  assert.deepEqual(parseIoTestsResult(`noise\n${line}\n`), {
    verdict: 'WRONG_ANSWER',
    tests: 3,
    outcomes: ['PASSED', 'WRONG_ANSWER'],
  });
  assert.equal(parseIoTestsResult('codeloop-io-tests: {not json\n'), undefined);
  assert.equal(parseIoTestsResult(''), undefined);
});

const ioTask: Task = {
  id: 'demo/io',
  dataset: 'demo',
  language: 'python',
  prompt: 'a, b = map(int, input().split())\nprint(',
  suffix: ')\n',
  tests: '',
  template: { text: 'a, b = map(int, input().split())\nprint({{hole}})\n', placeholder: '{{hole}}' },
  ioTests: suite,
  stopSequences: [],
  harness: 'exit-code',
  layout: 'io-tests',
};

test('io-tests layout: the driver judges template-with-completion, not prompt + completion + suffix', () => {
  assert.deepEqual(
    (embeddedConfig(buildProgram(ioTask, 'a + b')) as { program: string }).program,
    'a, b = map(int, input().split())\nprint(a + b)\n',
  );
  const { template: _template, ...withoutTemplate } = ioTask;
  assert.throws(() => buildProgram(withoutTemplate, 'a + b'), {
    name: 'UsageError',
    message: 'Task demo/io uses layout "io-tests" but lacks a template: give it both.',
  });
  const { ioTests: _ioTests, ...withoutTests } = ioTask;
  assert.throws(() => buildProgram(withoutTests, 'a + b'), {
    name: 'UsageError',
    message: 'Task demo/io uses layout "io-tests" but lacks ioTests: give it both.',
  });
});

test('syntax-match layout: compares with the canonical solution in the source language', () => {
  const task: Task = { ...ioTask, layout: 'syntax-match', sourceLanguage: 'java', canonicalSolution: 'f(x)' };
  assert.deepEqual(embeddedConfig(buildProgram(task, 'g( x )')), {
    completion: 'g( x )',
    reference: 'f(x)',
    language: 'java',
    program: 'a, b = map(int, input().split())\nprint(g( x ))\n',
  });
  const { canonicalSolution: _solution, ...withoutSolution } = task;
  assert.throws(() => buildProgram(withoutSolution, 'f(x)'), {
    name: 'UsageError',
    message:
      'Task demo/io uses layout "syntax-match", which compares with the canonical solution, but has none: give it one.',
  });
});
