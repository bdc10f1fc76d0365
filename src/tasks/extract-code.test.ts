import assert from 'node:assert/strict';
import { test } from 'node:test';
import { definesEntryPoint, extractCode, solutionFromAnswer, withoutMainBlock } from './extract-code.js';

test('extractCode: the fenced block that defines the entry point, else the longest, else the text', () => {
  const answer = 'Here:\n```python\nprint(add(1, 2))\n```\nand\n```python\ndef add(a, b):\n    return a + b\n```\n';
  assert.equal(extractCode(answer, 'python', 'add'), 'def add(a, b):\n    return a + b\n');
  assert.equal(extractCode('```\nx = 1\n```\n```\ny = 22222\n```', 'python'), 'y = 22222\n');
  assert.equal(extractCode('def f():\n    return 1\n', 'python', 'f'), 'def f():\n    return 1\n');
  assert.equal(
    extractCode('```js\nfunction f() {\n  return 1;\n}\n', 'javascript', 'f'),
    'function f() {\n  return 1;\n}\n',
    'an unclosed last fence runs to the end',
  );
});

test('definesEntryPoint: def, function, const arrow', () => {
  assert.ok(definesEntryPoint('def bisect_left(xs, x):\n', 'python', 'bisect_left'));
  assert.ok(!definesEntryPoint('bisect_left(xs, x)\n', 'python', 'bisect_left'));
  assert.ok(definesEntryPoint('function median(xs: number[]): number {', 'typescript', 'median'));
  assert.ok(definesEntryPoint('const median = (xs) => 1;', 'javascript', 'median'));
  assert.ok(!definesEntryPoint('median([1]);', 'javascript', 'median'));
});

test('solutionFromAnswer: base continues the starter; chat keeps a whole function and adds the starter imports', () => {
  const starter = 'from typing import List\n\n\ndef total(xs: List[int]) -> int:\n    """Sum."""\n';
  assert.equal(
    solutionFromAnswer('    return sum(xs)\n', { style: 'base', starter, language: 'python', entryPoint: 'total' })
      .code,
    `${starter}    return sum(xs)\n`,
  );
  assert.equal(
    solutionFromAnswer('```python\ndef total(xs: List[int]) -> int:\n    return sum(xs)\n```', {
      style: 'chat',
      starter,
      language: 'python',
      entryPoint: 'total',
    }).code,
    'from typing import List\ndef total(xs: List[int]) -> int:\n    return sum(xs)\n',
  );
  assert.equal(
    solutionFromAnswer('```python\n    return sum(xs)\n```', {
      style: 'chat',
      starter,
      language: 'python',
      entryPoint: 'total',
    }).code,
    `${starter}    return sum(xs)\n`,
    'a bare body goes after the starter',
  );
});

test('withoutMainBlock: the example calls under if __name__ == "__main__" go, code after the block stays', () => {
  assert.equal(
    withoutMainBlock('def f():\n    return 1\n\nif __name__ == "__main__":\n    print(f())\n    input()\n'),
    'def f():\n    return 1\n',
  );
  assert.equal(
    withoutMainBlock("def f():\n    return 1\nif __name__ == '__main__':\n    f()\ndef g():\n    return 2\n"),
    'def f():\n    return 1\ndef g():\n    return 2\n',
  );
  assert.equal(
    withoutMainBlock('def f():\n    if __name__ == "__main__":\n        pass\n'),
    'def f():\n    if __name__ == "__main__":\n        pass\n',
    'only a top-level block',
  );
});
