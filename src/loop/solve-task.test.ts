import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Task } from '../tasks/index.js';
import { parseSolveTaskFile, publicTestsFromPrompt, solveTaskFromDataset } from './solve-task.js';

test('publicTestsFromPrompt: docstring and comment examples, values that wrap over lines, code ends an example', () => {
  const python =
    'def f(xs):\n    """Doubles.\n    >>> f([1,\n    ...  2])\n    >>> f([1, 2])\n    [2,\n     4]\n    >>> g(1)\n    2\n    """\n';
  assert.deepEqual(
    publicTestsFromPrompt(python, 'python', 'f').map((source) => source.code),
    ['assert f([1, 2]) == [2, 4]'],
  );
  const javascript = '//Make a pile.\n// >>> make_a_pile(3)\n// [3, 5, 7]\nfunction make_a_pile(n){\n';
  assert.deepEqual(publicTestsFromPrompt(javascript, 'javascript', 'make_a_pile'), [
    {
      origin: 'public',
      form: 'single',
      idPrefix: 'public/0',
      code: 'assert.deepStrictEqual(make_a_pile(3), [3, 5, 7]);',
    },
  ]);
});

test('solveTaskFromDataset: MBPP shows its first assert with the setup it needs, and finds the function it calls', () => {
  const mbpp: Task = {
    id: 'Mbpp/98',
    dataset: 'mbpp-sanitized',
    language: 'python',
    prompt: 'Write a function to multiply all the numbers in a list and divide with the length of the list.',
    tests:
      'import math\nassert math.isclose(multiply_num((8, 2, 3, -1, 7)), -67.2, rel_tol=0.001)\nassert math.isclose(multiply_num((-10,-20,-30)), -2000.0, rel_tol=0.001)',
    canonicalSolution:
      'def multiply_num(numbers):\n    total = 1\n    for x in numbers:\n        total *= x\n    return total/len(numbers)\n',
    stopSequences: [],
    harness: 'completion',
    layout: 'completion-tests',
  };
  const task = solveTaskFromDataset(mbpp);
  assert.equal(task.entryPoint, 'multiply_num');
  assert.equal(task.starter, '');
  assert.deepEqual(task.publicTests, [
    {
      origin: 'public',
      form: 'statements',
      idPrefix: 'public/',
      code: 'import math\nassert math.isclose(multiply_num((8, 2, 3, -1, 7)), -67.2, rel_tol=0.001)\n',
    },
  ]);
  assert.match(
    task.prompt,
    /Your code should pass this test:\nassert math\.isclose\(multiply_num\(\(8, 2, 3, -1, 7\)\), -67\.2, rel_tol=0\.001\)\n$/,
  );
  assert.deepEqual(task.hiddenTests, [{ origin: 'hidden', form: 'statements', idPrefix: 'hidden/', code: mbpp.tests }]);
});

test('parseSolveTaskFile: errors name the field and the fix', () => {
  assert.throws(() => parseSolveTaskFile('{', 't.json'), /t\.json is not valid JSON .*see docs\/solve\.md/);
  assert.throws(
    () => parseSolveTaskFile(JSON.stringify({ language: 'rust', prompt: 'p', hiddenTests: ['x'] }), 't.json'),
    /"language" is "rust"; use one of python, javascript, typescript/,
  );
  assert.throws(
    () => parseSolveTaskFile(JSON.stringify({ language: 'python', prompt: 'p', hiddenTests: [1] }), 't.json'),
    /"hiddenTests" must be a list of test strings/,
  );
  assert.throws(
    () =>
      parseSolveTaskFile(
        JSON.stringify({ language: 'python', prompt: 'p', hiddenTests: ['assert f() == 1'], perTestMs: 5 }),
        't.json',
      ),
    /"perTestMs" is 5; use a whole number of milliseconds from 10 to 600000/,
  );
  const task = parseSolveTaskFile(
    JSON.stringify({
      language: 'python',
      prompt: 'Write f.',
      entryPoint: 'f',
      publicTests: ['assert f() == 1'],
      hiddenTests: ['assert f() == 1', 'assert f() != 2'],
    }),
    'dir/my-task.json',
  );
  assert.equal(task.id, 'my-task');
  assert.deepEqual(
    task.hiddenTests.map((source) => source.idPrefix),
    ['hidden/0', 'hidden/1'],
  );
  assert.deepEqual(task.judge, { kind: 'hidden-tests' });
});

test('parseSolveTaskFile: YAML task files (.yaml, .yml), with block scalars for code', () => {
  const yaml = [
    'id: clamp',
    'language: python',
    'prompt: |',
    '  Write clamp(x, lo, hi): x limited to the range [lo, hi].',
    'entryPoint: clamp',
    'starter: |',
    '  def clamp(x, lo, hi):',
    'publicTests:',
    '  - assert clamp(5, 0, 3) == 3',
    'hiddenTests:',
    '  - assert clamp(-1, 0, 3) == 0',
    '  - |',
    '    xs = [clamp(9, 0, 3)]',
    '    assert xs == [3]',
    'perTestMs: 2000',
    '',
  ].join('\n');
  const task = parseSolveTaskFile(yaml, 'tasks/clamp.yaml');
  assert.equal(task.id, 'clamp');
  assert.equal(task.prompt, 'Write clamp(x, lo, hi): x limited to the range [lo, hi].\n');
  assert.equal(task.starter, 'def clamp(x, lo, hi):\n');
  assert.deepEqual(
    task.hiddenTests.map((source) => source.code),
    ['assert clamp(-1, 0, 3) == 0', 'xs = [clamp(9, 0, 3)]\nassert xs == [3]\n'],
  );
  assert.equal(task.perTestMs, 2000);
  assert.equal(parseSolveTaskFile(yaml.replace('id: clamp\n', ''), 'tasks/my-task.yml').id, 'my-task');
  // The same JSON file gives the same task.
  assert.deepEqual(
    parseSolveTaskFile(
      JSON.stringify({ id: 'clamp', language: 'python', prompt: 'p', hiddenTests: ['assert 1'] }),
      'c.json',
    ),
    parseSolveTaskFile('id: clamp\nlanguage: python\nprompt: p\nhiddenTests: [assert 1]\n', 'c.yaml'),
  );
  assert.throws(
    () => parseSolveTaskFile('language: [python', 't.yaml'),
    /^UsageError: t\.yaml is not valid YAML \(.+\); see docs\/solve\.md for the task file format\.$/,
  );
  assert.throws(
    () => parseSolveTaskFile('language: python\nlanguage: js\n', 't.yml'),
    /t\.yml is not valid YAML \(Map keys must be unique/,
  );
  assert.throws(
    () => parseSolveTaskFile('- a\n- b\n', 't.yaml'),
    /t\.yaml: a task file holds one YAML mapping \(got a list\)/,
  );
});

test('parseSolveTaskFile: an unknown field is refused by name, with the field it was likely meant to be', () => {
  assert.throws(
    () =>
      parseSolveTaskFile(
        JSON.stringify({ language: 'python', prompt: 'p', hiddenTests: ['assert 1'], hiddenTest: ['assert 2'] }),
        't.json',
      ),
    {
      name: 'UsageError',
      message:
        't.json: unknown field "hiddenTest" (did you mean "hiddenTests"?); the fields are id, language, prompt, entryPoint, starter, publicTests, hiddenTests, perTestMs (see docs/solve.md).',
    },
  );
  assert.throws(
    () => parseSolveTaskFile('language: python\nprompt: p\nhiddenTests: ["assert 1"]\ntimeout: 3\n', 't.yaml'),
    /t\.yaml: unknown field "timeout"; the fields are /,
  );
});
