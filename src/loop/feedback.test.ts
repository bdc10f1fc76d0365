import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  FEEDBACK_TEMPLATES,
  feedbackTemplate,
  feedbackTemplateFor,
  renderFeedback,
  type FeedbackInput,
} from './feedback.js';
import type { TestResult } from '../sandbox/index.js';

const tests: TestResult[] = [
  { id: 'public/0', origin: 'public', assertion: 'assert add(1, 2) == 3', status: 'passed', actual: '3' },
  {
    id: 'public/1',
    origin: 'public',
    assertion: 'assert add(2, 2) == 4',
    status: 'failed',
    expected: '4',
    actual: '5',
    exception: { type: 'AssertionError', message: '' },
  },
  {
    id: 'generated/0',
    origin: 'generated',
    assertion: 'assert add(None, 1) == 1',
    status: 'error',
    exception: { type: 'TypeError', message: "unsupported operand type(s) for +: 'NoneType' and 'int'" },
    traceback: 'TypeError: unsupported operand',
  },
  {
    id: 'hidden/0',
    origin: 'hidden',
    assertion: 'assert add(40, 2) == 42 # SECRET',
    status: 'failed',
    expected: '42',
    actual: '43',
  },
  {
    id: 'public/2',
    origin: 'public',
    assertion: 'assert add(0, 0) == 0',
    status: 'timed-out',
    exception: { type: 'TimeoutError', message: 'exceeded the 2000 ms per-test limit' },
  },
];
const input: FeedbackInput = { run: { tests, solution: { status: 'passed' } } };

test('self-debug-unit-test@1 golden', () => {
  assert.equal(
    renderFeedback('self-debug-unit-test@1', input).text,
    [
      'Feedback: running the assertion `assert add(2, 2) == 4` against the program above, it returned 5, but 4 was expected. So the program does not pass this test.',
      "Feedback: running the assertion `assert add(None, 1) == 1` against the program above, it raised TypeError: unsupported operand type(s) for +: 'NoneType' and 'int'. So the program does not pass this test.",
      'Feedback: running the assertion `assert add(0, 0) == 0` against the program above, it did not finish within the time limit. So the program does not pass this test.',
      'Please fix the program.',
    ].join('\n'),
  );
});

test('reflexion@1 golden', () => {
  assert.equal(
    renderFeedback('reflexion@1', input).text,
    [
      'Tests passed:',
      'assert add(1, 2) == 3',
      '',
      'Tests failed:',
      'assert add(2, 2) == 4 # output: 5',
      'assert add(None, 1) == 1 # output: TypeError',
      'assert add(0, 0) == 0 # output: TimeoutError',
    ].join('\n'),
  );
});

test('alphacodium-io@1 golden, with a limit on the failures shown', () => {
  assert.equal(
    renderFeedback('alphacodium-io@1', { ...input, maxFailures: 2 }).text,
    [
      'The program failed 3 tests.',
      '',
      'Test:\nassert add(2, 2) == 4\nExpected output:\n4\nProgram output:\n5',
      '',
      "Test:\nassert add(None, 1) == 1\nExpected output:\n(the assertion holds)\nProgram output:\nit raised TypeError: unsupported operand type(s) for +: 'NoneType' and 'int'\nTraceback tail:\nTypeError: unsupported operand",
      '',
      '(1 more failing tests not shown.)',
      '',
      'Fix the program so that it passes these tests.',
    ].join('\n'),
  );
});

test('alphacodium-io@2 golden: @1, then the stderr tail of the visible run; nothing more when it is empty', () => {
  const withStderr: FeedbackInput = {
    run: { ...input.run, stderrTail: 'debug: add called\nDeprecationWarning: old\n\n' },
    maxFailures: 1,
  };
  assert.equal(
    renderFeedback('alphacodium-io@2', withStderr).text,
    [
      'The program failed 3 tests.',
      '',
      'Test:\nassert add(2, 2) == 4\nExpected output:\n4\nProgram output:\n5',
      '',
      '(2 more failing tests not shown.)',
      '',
      'Fix the program so that it passes these tests.',
      '',
      'The program wrote this to stderr (the end of it):',
      'debug: add called\nDeprecationWarning: old',
    ].join('\n'),
  );
  assert.equal(
    renderFeedback('alphacodium-io@2', { ...withStderr, run: input.run }).text,
    renderFeedback('alphacodium-io@1', { ...input, maxFailures: 1 }).text,
  );
  assert.equal(
    renderFeedback('alphacodium-io@1', withStderr).text,
    renderFeedback('alphacodium-io@1', { ...input, maxFailures: 1 }).text,
    '@1 never changes',
  );
});

test('a solution that does not load is described instead of its tests', () => {
  const broken: FeedbackInput = {
    run: {
      tests: [{ ...tests[1]!, status: 'compile-error' }],
      solution: {
        status: 'compile-error',
        exception: { type: 'SyntaxError', message: "'(' was never closed (solution.py, line 1)" },
      },
    },
  };
  assert.equal(
    renderFeedback('self-debug-unit-test@1', broken).text,
    "The program does not compile (SyntaxError: '(' was never closed (solution.py, line 1)).\nPlease fix the program.",
  );
  assert.equal(
    renderFeedback('command-output@1', {
      ...broken,
      command: { command: 'pytest -q', reason: 'exited with code 1', output: '1 failed\n' },
    }).text,
    'I ran the tests with `pytest -q`; it exited with code 1. Its output ends with:\n\n1 failed\n\nThe tests are right; change the program, not the tests.',
  );
});

test('no template ever shows a hidden test', () => {
  for (const template of Object.values(FEEDBACK_TEMPLATES)) {
    const text = template.render(input);
    assert.ok(
      !text.includes('SECRET') && !text.includes('add(40, 2)') && !text.includes('43'),
      `${template.id} leaked a hidden test: ${text}`,
    );
  }
});

test('an unknown template id is a usage error naming the known ones', () => {
  assert.throws(
    () => feedbackTemplate('reflexion@9'),
    /Unknown feedback template "reflexion@9": use one of self-debug-unit-test@1, reflexion@1, alphacodium-io@1, alphacodium-io@2, plain@1, command-output@1/,
  );
});

test('a template that does not fit the task kind is a usage error naming the ones that do', () => {
  assert.throws(
    () => feedbackTemplateFor('command-output@1', 'tests'),
    /^UsageError: Feedback template "command-output@1" does not fit a task with per-test results \(a dataset task or a task file\): use one of self-debug-unit-test@1, reflexion@1, alphacodium-io@1, alphacodium-io@2, plain@1 \(--feedback\)\.$/,
  );
  assert.throws(
    () => feedbackTemplateFor('reflexion@1', 'command'),
    /^UsageError: Feedback template "reflexion@1" does not fit a test-command task \(--file with --test-command\): use one of plain@1, command-output@1 \(--feedback\)\.$/,
  );
  assert.equal(feedbackTemplateFor('plain@1', 'command').id, 'plain@1');
  assert.equal(feedbackTemplateFor('self-debug-unit-test@1', 'tests').id, 'self-debug-unit-test@1');
});
