import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HUMAN_EVAL_STOP_SEQUENCES, MBPP_STOP_SEQUENCES, type Task } from '../tasks/index.js';
import { sampleProgram, type Sample } from './samples.js';
import { sanitize, sanitizeSamples } from './sanitize.js';

// Shaped like HumanEval/0 (an import in the prompt) and HumanEval/38 (a helper in the prompt that the tests call).
const CLOSE: Task = {
  id: 'HumanEval/0',
  dataset: 'test',
  language: 'python',
  prompt:
    'from typing import List\n\n\ndef has_close_elements(numbers: List[float], threshold: float) -> bool:\n    """ Any two numbers closer than threshold? """\n',
  entryPoint: 'has_close_elements',
  tests:
    "\n\nMETADATA = {'author': 'jt'}\n\n\ndef check(candidate):\n    assert candidate([1.0, 2.8, 3.0], 0.3) == True\n",
  stopSequences: [...HUMAN_EVAL_STOP_SEQUENCES],
  harness: 'completion',
  layout: 'human-eval',
};
const CYCLIC: Task = {
  ...CLOSE,
  id: 'HumanEval/38',
  prompt:
    'def encode_cyclic(s: str):\n    return s[1:] + s[:1]\n\n\ndef decode_cyclic(s: str):\n    """ Inverse of encode_cyclic. """\n',
  entryPoint: 'decode_cyclic',
  tests: '\n\ndef check(candidate):\n    assert candidate(encode_cyclic("abc")) == "abc"\n',
};
// MultiPL-E layout: the prompt ends inside the function.
const SUM_TS: Task = {
  id: 'HumanEval_53_add',
  dataset: 'test',
  language: 'typescript',
  prompt: '//Add two numbers x and y\nfunction add(x: number, y: number): number {\n',
  entryPoint: 'add',
  tests:
    "declare var require: any;\nconst assert = require('node:assert');\nfunction test() {\n  let candidate = add;\n  assert.deepEqual(candidate(0, 1), 1);\n}\n\ntest();",
  stopSequences: ['\nfunction ', '\n/*', '\n//', '\nclass'],
  typeCheck: true,
  harness: 'exit-code',
  layout: 'prompt-completion-tests',
};
const SUM_JS: Task = {
  ...SUM_TS,
  language: 'javascript',
  prompt: '//Add two numbers x and y\nfunction add(x, y){\n',
  stopSequences: ['\nfunction ', '\n/*', '\n//', '\nconsole.log'],
};
// MBPP layout: prose prompt, no entry point; the tests name the function.
const MBPP: Task = {
  id: 'Mbpp/2',
  dataset: 'test',
  language: 'python',
  prompt: 'Write a function to find the shared elements from the given two lists.',
  tests: 'assert set(similar_elements((3, 4, 5, 6), (5, 7, 4, 10))) == set((4, 5))\n',
  stopSequences: [...MBPP_STOP_SEQUENCES],
  harness: 'completion',
  layout: 'completion-tests',
};

test("a chat answer: the fenced block that defines the entry point becomes a solution, with the prompt's imports", () => {
  const answer = [
    'You can sort the numbers first, then compare neighbours:',
    '',
    '```python',
    'def has_close_elements(numbers: List[float], threshold: float) -> bool:',
    '    ordered = sorted(numbers)',
    '    return any(b - a < threshold for a, b in zip(ordered, ordered[1:]))',
    '```',
    '',
    'Sorting makes this O(n log n) instead of O(n^2).',
  ].join('\n');
  const result = sanitize(CLOSE, { completion: answer });
  assert.deepEqual(result.steps, ['extracted-code-block', 'scored-as-solution', 'added-prompt-imports']);
  assert.equal(
    result.solution,
    'from typing import List\n\ndef has_close_elements(numbers: List[float], threshold: float) -> bool:\n    ordered = sorted(numbers)\n    return any(b - a < threshold for a, b in zip(ordered, ordered[1:]))\n',
  );
  // As a solution it replaces the prompt instead of following it.
  assert.ok(sampleProgram(CLOSE, result).startsWith('from typing import List\n\ndef has_close_elements('));
});

test('several blocks: the one defining the entry point wins over a longer usage example; else the longest', () => {
  const answer = [
    'Usage first:',
    '```py',
    'print(has_close_elements([1.0, 2.0], 0.5))',
    'print(has_close_elements([1.0, 2.0, 3.0, 4.0], 0.5))',
    'print(has_close_elements([], 0.5))',
    '```',
    'and the function:',
    '```',
    'def has_close_elements(numbers, threshold):',
    '    return False',
    '```',
  ].join('\n');
  assert.equal(
    sanitize(CLOSE, { completion: answer }).solution,
    'from typing import List\n\ndef has_close_elements(numbers, threshold):\n    return False\n',
  );
  // Body-only blocks (no definition): the longest one, as a completion; shell blocks never count.
  const bodies =
    '```bash\npip install numpy\nls\nls -la\nls -R\n```\n```python\n    return True\n```\n```python\n    ordered = sorted(numbers)\n    return False\n```\n';
  assert.deepEqual(sanitize(CLOSE, { completion: bodies }), {
    completion: '    ordered = sorted(numbers)\n    return False\n',
    steps: ['extracted-code-block'],
  });
});

test('a whole-solution block keeps imports, helpers (decorated too) and the prompt helper the tests call; drops main, prints, tests', () => {
  const answer = [
    "Here's a memoised version:",
    '',
    '```python',
    'import functools',
    'import sys',
    '',
    '',
    'def encode_cyclic(s: str):',
    '    return s[1:] + s[:1]',
    '',
    '',
    '@functools.lru_cache(maxsize=None)',
    'def rotate_right(s: str) -> str:',
    '    # the inverse rotation',
    '    return s[-1:] + s[:-1]',
    '',
    '',
    'def decode_cyclic(s: str):',
    '    return rotate_right(s)',
    '',
    '',
    'def test_decode():',
    '    assert decode_cyclic(encode_cyclic("xyz")) == "xyz"',
    '',
    '',
    'print(decode_cyclic("bca"))',
    'assert decode_cyclic("bca") == "abc"',
    '',
    'if __name__ == "__main__":',
    '    text = input("text: ")',
    '    print(decode_cyclic(text))',
    '```',
  ].join('\n');
  const result = sanitize(CYCLIC, { completion: answer });
  assert.deepEqual(result.steps, ['extracted-code-block', 'scored-as-solution', 'pruned-top-level']);
  assert.equal(
    result.solution,
    [
      'import functools',
      'import sys',
      '',
      '',
      'def encode_cyclic(s: str):',
      '    return s[1:] + s[:1]',
      '',
      '',
      '@functools.lru_cache(maxsize=None)',
      'def rotate_right(s: str) -> str:',
      '    # the inverse rotation',
      '    return s[-1:] + s[:-1]',
      '',
      '',
      'def decode_cyclic(s: str):',
      '    return rotate_right(s)',
      '',
    ].join('\n'),
  );
});

test('a base-model completion is cut at the first stop sequence: a second test function, trailing prose after a fence', () => {
  const completion =
    '    for i, a in enumerate(numbers):\n        for b in numbers[i + 1:]:\n            if abs(a - b) < threshold:\n                return True\n    return False\n\n\ndef test_has_close_elements():\n    assert has_close_elements([1.0, 1.1], 0.5)\n';
  const result = sanitize(CLOSE, { completion });
  assert.deepEqual(result.steps, ['cut-at-stop-sequence']);
  assert.equal(
    result.completion,
    '    for i, a in enumerate(numbers):\n        for b in numbers[i + 1:]:\n            if abs(a - b) < threshold:\n                return True\n    return False\n\n',
  );
  // A fence after the body closes a block the prompt opened: cut there; what follows is prose, not code.
  assert.deepEqual(
    sanitize(CLOSE, {
      completion: '    return False\n```\n\n```python\ndef has_close_elements(n, t):\n    return True\n```\n',
    }),
    {
      completion: '    return False\n',
      steps: ['cut-at-code-fence'],
    },
  );
});

test('an answer without fences that restates the whole function is scored as a solution, not cut at its helpers', () => {
  const answer =
    'from typing import List\n\n\ndef has_close_elements(numbers: List[float], threshold: float) -> bool:\n    return any(gap(a, b) < threshold for a in numbers for b in numbers if a is not b)\n\n\ndef gap(a, b):\n    return abs(a - b)\n\n\nprint(has_close_elements([1.0, 1.05], 0.1))\n';
  const result = sanitize(CLOSE, { completion: answer });
  assert.deepEqual(result.steps, ['scored-as-solution', 'pruned-top-level']);
  assert.equal(result.solution, answer.replace('\n\n\nprint(has_close_elements([1.0, 1.05], 0.1))\n', '\n'));
  // TypeScript: a completion that restates the signature would otherwise nest a second function inside the prompt's.
  assert.deepEqual(
    sanitize(SUM_TS, {
      completion: '/** Adds. */\nfunction add(x: number, y: number): number {\n  return x + y;\n}\n',
    }),
    {
      solution: '/** Adds. */\nfunction add(x: number, y: number): number {\n  return x + y;\n}\n',
      steps: ['scored-as-solution'],
    },
  );
});

test('an infilling completion (the task has a suffix) fills the hole: it is never scored as a whole solution', () => {
  const infilling: Task = {
    ...CLOSE,
    prompt: 'def has_close_elements(numbers, threshold):\n',
    suffix: '    return False\n',
  };
  assert.deepEqual(
    sanitize(infilling, { completion: '```python\ndef has_close_elements(numbers, threshold):\n    pass\n```' }),
    {
      completion: 'def has_close_elements(numbers, threshold):\n    pass\n',
      steps: ['extracted-code-block'],
    },
  );
  assert.deepEqual(sanitize(infilling, { completion: 'def has_close_elements(numbers, threshold):\n    pass\n' }), {
    completion: 'def has_close_elements(numbers, threshold):\n    pass\n',
    steps: [],
  });
});

test('TypeScript and JavaScript: MultiPL-E stop tokens; fenced answers become solutions without export, logs or a clashing assert', () => {
  assert.deepEqual(
    sanitize(SUM_TS, { completion: '  return x + y;\n}\n\nfunction main() {\n  console.log(add(1, 2));\n}\n' }),
    {
      completion: '  return x + y;\n}\n',
      steps: ['cut-at-stop-sequence'],
    },
  );
  const answer = [
    'Here is the implementation in TypeScript:',
    '',
    '```typescript',
    "const assert = require('assert');",
    '',
    '/** Adds two numbers. */',
    'export function add(x: number, y: number): number {',
    '  return x + y;',
    '}',
    '',
    'console.log(add(2, 3)); // 5',
    'assert.equal(add(2, 3), 5);',
    '```',
  ].join('\n');
  const result = sanitize(SUM_TS, { completion: answer });
  assert.deepEqual(result, {
    solution: '/** Adds two numbers. */\nfunction add(x: number, y: number): number {\n  return x + y;\n}\n',
    steps: ['extracted-code-block', 'scored-as-solution', 'pruned-top-level'],
  });
  // A TypeScript task takes a JavaScript block when there is no TypeScript one; a JavaScript task never takes TypeScript.
  const jsAnswer = '```js\nconst add = (x, y) => x + y;\n```';
  assert.equal(sanitize(SUM_TS, { completion: jsAnswer }).solution, 'const add = (x, y) => x + y;\n');
  // (No block is taken, so the text is a raw completion, cut at the JavaScript stop token "\nfunction ".)
  assert.deepEqual(
    sanitize(SUM_JS, { completion: '```ts\nfunction add(x: number, y: number) { return x + y; }\n```' }),
    { completion: '```ts', steps: ['cut-at-stop-sequence'] },
  );
  // A body-only block stays a completion.
  assert.deepEqual(sanitize(SUM_JS, { completion: '```javascript\n  return x + y;\n}\n```' }), {
    completion: '  return x + y;\n}\n',
    steps: ['extracted-code-block'],
  });
});

test("MBPP (no entry point, whole programs): the tests' names pick the definitions; stop sequences cut raw output", () => {
  const raw =
    'def similar_elements(a, b):\n    return tuple(set(a) & set(b))\n\n\nassert similar_elements((1, 2), (2, 3)) == (2,)\n';
  assert.deepEqual(sanitize(MBPP, { completion: raw }), {
    completion: 'def similar_elements(a, b):\n    return tuple(set(a) & set(b))\n\n',
    steps: ['cut-at-stop-sequence'],
  });
  const answer =
    'Here:\n```python\ndef helper(x):\n    return set(x)\n\ndef similar_elements(a, b):\n    return tuple(helper(a) & helper(b))\n\nresult = similar_elements((1, 2), (2, 3))\nprint(result)\n```\n';
  assert.deepEqual(sanitize(MBPP, { completion: answer }), {
    completion:
      'def helper(x):\n    return set(x)\n\ndef similar_elements(a, b):\n    return tuple(helper(a) & helper(b))\n',
    steps: ['extracted-code-block', 'pruned-top-level'],
  });
});

test('fences: tildes, CRLF, an indented block in a list, and a block cut off at the end of the output', () => {
  assert.equal(
    sanitize(CLOSE, {
      completion: '~~~python\r\ndef has_close_elements(numbers, threshold):\r\n    return False\r\n~~~\r\n',
    }).solution?.includes('def has_close_elements(numbers, threshold):\n'),
    true,
  );
  assert.equal(
    sanitize(CLOSE, {
      completion:
        '1. The function:\n\n   ```python\n   def has_close_elements(numbers, threshold):\n       return False\n   ```\n',
    }).solution,
    'from typing import List\n\ndef has_close_elements(numbers, threshold):\n    return False\n',
  );
  assert.equal(
    sanitize(CLOSE, {
      completion: 'Sure!\n```python\ndef has_close_elements(numbers, threshold):\n    return sorted(numbers) == [',
    }).solution,
    'from typing import List\n\ndef has_close_elements(numbers, threshold):\n    return sorted(numbers) == [\n',
  );
});

test('an EvalPlus solution is pruned but never cut at stop sequences (its helpers start with "\\ndef")', () => {
  const solution =
    'from typing import List\n\n\ndef gap(a, b):\n    return abs(a - b)\n\n\ndef has_close_elements(numbers: List[float], threshold: float) -> bool:\n    return any(gap(a, b) < threshold for i, a in enumerate(numbers) for b in numbers[i + 1:])\n\n\nprint(has_close_elements([1.0], 0.1))\n';
  const result = sanitize(CLOSE, { solution });
  assert.deepEqual(result.steps, ['pruned-top-level']);
  assert.equal(result.solution, solution.replace('\n\n\nprint(has_close_elements([1.0], 0.1))\n', '\n'));
  // Clean input is left alone.
  assert.deepEqual(sanitize(CLOSE, { solution: result.solution ?? '' }), { solution: result.solution, steps: [] });
});

test('sanitizeSamples: changed records keep the raw text under raw_*; unchanged samples are returned as they were', () => {
  const samples: Sample[] = [
    {
      taskId: 'HumanEval/0',
      completion: '    return False\n',
      index: 0,
      source: 's:1',
      record: { task_id: 'HumanEval/0', completion: '    return False\n' },
    },
    {
      taskId: 'HumanEval/0',
      completion: '```python\ndef has_close_elements(n, t):\n    return False\n```',
      index: 1,
      source: 's:2',
      record: {
        task_id: 'HumanEval/0',
        completion: '```python\ndef has_close_elements(n, t):\n    return False\n```',
        model: 'm',
      },
    },
    {
      taskId: 'HumanEval/0',
      completion: '    return True\nprint(1)',
      index: 2,
      source: 's:3',
      record: { task_id: 'HumanEval/0', completion: '    return True\nprint(1)' },
    },
  ];
  const [same, converted, cut] = sanitizeSamples([CLOSE], samples);
  assert.equal(same, samples[0]);
  assert.deepEqual(converted, {
    taskId: 'HumanEval/0',
    solution: 'from typing import List\n\ndef has_close_elements(n, t):\n    return False\n',
    index: 1,
    source: 's:2',
    record: {
      task_id: 'HumanEval/0',
      model: 'm',
      raw_completion: samples[1]?.completion,
      solution: 'from typing import List\n\ndef has_close_elements(n, t):\n    return False\n',
    },
  });
  assert.equal(cut?.completion, '    return True');
  assert.deepEqual(cut?.record, {
    task_id: 'HumanEval/0',
    completion: '    return True',
    raw_completion: '    return True\nprint(1)',
  });
  assert.throws(() => sanitizeSamples([], samples), {
    name: 'UsageError',
    message: 's:1: task_id "HumanEval/0" is not a task of this dataset.',
  });
});
