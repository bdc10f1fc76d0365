import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseTestLines, repairMessages, solutionMessages, testMessages, testPrompt, vetTests } from './prompts.js';
import type { SolveTask } from './solve-task.js';

const task: SolveTask = {
  id: 't',
  language: 'python',
  prompt: 'def add(a, b):\n    """Add."""\n',
  starter: 'def add(a, b):\n    """Add."""\n',
  entryPoint: 'add',
  publicTests: [],
  hiddenTests: [],
  stopSequences: [],
  judge: { kind: 'hidden-tests' },
};

test('prompts: the solution request, a repair turn and the test request', () => {
  const first = solutionMessages(task);
  assert.equal(first.length, 1);
  assert.match(
    first[0]?.content ?? '',
    /^Solve the following task in Python\. Answer with the complete program in one ```python code block, defining `add`; no tests, no example usage\.\n\n```python\ndef add\(a, b\):/,
  );
  assert.deepEqual(repairMessages(first, 'ANSWER', 'FEEDBACK').slice(1), [
    { role: 'assistant', content: 'ANSWER' },
    { role: 'user', content: 'FEEDBACK\n\nAnswer with the whole corrected program in one code block.' },
  ]);
  assert.match(
    testMessages(task, 5)[0]?.content ?? '',
    /^Write 5 different tests for `add` as specified below: one Python assertion per line, each of the form `assert add\(\.\.\.\) == \.\.\.`/,
  );
});

test("testPrompt: CodeT's completion prompt, whose tail starts the first assertion", () => {
  const { prompt, tail } = testPrompt(task);
  assert.equal(prompt, 'def add(a, b):\n    """Add."""\n    pass\n\n\n# check the correctness of add\nassert add(');
  assert.deepEqual(parseTestLines(`${tail}1, 2) == 3\nassert add(0, 0) == 0\nprint(add(1, 1))\n`, 'python'), [
    'assert add(1, 2) == 3',
    'assert add(0, 0) == 0',
  ]);
  assert.deepEqual(
    parseTestLines('```js\nassert.deepStrictEqual(f(1), 2);\nconsole.log(1);\nassert(f(2) === 3);\n```', 'javascript'),
    ['assert.deepStrictEqual(f(1), 2);', 'assert(f(2) === 3);'],
  );
});

test('vetTests: one assertion that parses and calls the entry point', () => {
  assert.deepEqual(
    vetTests(
      ['assert add(1, 2) == 3', 'assert sub(1, 2) == -1', 'assert add(1, 2 == 3', 'assert add(1, 1) == 2; x = 1'],
      'python',
      'add',
    ),
    {
      kept: ['assert add(1, 2) == 3'],
      rejected: [
        { test: 'assert sub(1, 2) == -1', reason: 'does not call add' },
        { test: 'assert add(1, 2 == 3', reason: 'does not parse as one assertion' },
        { test: 'assert add(1, 1) == 2; x = 1', reason: 'does not parse as one assertion' },
      ],
    },
  );
  assert.deepEqual(
    vetTests(['assert.deepStrictEqual(f(1), 2);', 'assert.deepStrictEqual(f(1), 2'], 'typescript', 'f').kept,
    ['assert.deepStrictEqual(f(1), 2);'],
  );
});

test('vetTests, JavaScript/TypeScript: exactly one assert call statement that really calls the entry point (the TypeScript parser, not a regex)', () => {
  const lines = [
    'assert.deepStrictEqual(f(1), 2);',
    'assert(f(2) === 4)',
    'assert.ok(f(1)); process.exit(0)',
    'assert.deepStrictEqual("f(1)", "x");',
    'assert.ok(typeof f === "function"); // f(1)',
    'console.log(f(1))',
    'assert.equal(g.f(1), 2);',
    'assert.deepStrictEqual(f(<number>(1)), 2);',
  ];
  assert.deepEqual(vetTests(lines, 'typescript', 'f'), {
    kept: ['assert.deepStrictEqual(f(1), 2);', 'assert(f(2) === 4)', 'assert.deepStrictEqual(f(<number>(1)), 2);'],
    rejected: [
      { test: 'assert.ok(f(1)); process.exit(0)', reason: 'does not parse as one assertion' },
      { test: 'assert.deepStrictEqual("f(1)", "x");', reason: 'does not call f' },
      { test: 'assert.ok(typeof f === "function"); // f(1)', reason: 'does not call f' },
      { test: 'console.log(f(1))', reason: 'does not parse as one assertion' },
      { test: 'assert.equal(g.f(1), 2);', reason: 'does not call f' },
    ],
  });
  assert.deepEqual(
    vetTests(['assert.ok(f(1)); process.exit(0)', 'assert.deepStrictEqual(f(1), 2);'], 'javascript', 'f').kept,
    ['assert.deepStrictEqual(f(1), 2);'],
  );
  // Python: the same rule through ast (a name in a string is not a call).
  assert.deepEqual(vetTests(['assert "add(1, 2)" == "3"', 'assert add(1, 2) == 3'], 'python', 'add').rejected, [
    { test: 'assert "add(1, 2)" == "3"', reason: 'does not call add' },
  ]);
});
