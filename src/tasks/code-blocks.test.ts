import assert from 'node:assert/strict';
import { test } from 'node:test';
import { codeBlocks } from './code-blocks.js';

test('codeBlocks: tags, tildes, the fence indentation, and where the first fence is', () => {
  const text = 'Here:\n```Python\nx = 1\n```\n  ~~~\n  y = 2\n    z = 3\n  ~~~\n';
  assert.deepEqual(codeBlocks(text), {
    blocks: [
      { tag: 'python', code: 'x = 1\n' },
      { tag: '', code: 'y = 2\n  z = 3\n' },
    ],
    firstFence: 6,
  });
  assert.deepEqual(codeBlocks('no fences\n'), { blocks: [], firstFence: -1 });
});

test('codeBlocks: an unclosed block runs to the end of the text, a closing fence must match the opening one', () => {
  assert.deepEqual(codeBlocks('```js\nf();\n').blocks, [{ tag: 'js', code: 'f();\n' }]);
  assert.deepEqual(codeBlocks('```js\nf();').blocks, [{ tag: 'js', code: 'f();\n' }]);
  assert.deepEqual(codeBlocks('````\na\n```\nb\n````\n').blocks, [{ tag: '', code: 'a\n```\nb\n' }]);
  assert.deepEqual(codeBlocks('```\n\n').blocks, [], 'a block with only blank lines is no block');
});
