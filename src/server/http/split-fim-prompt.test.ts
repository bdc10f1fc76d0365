import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitFimPrompt } from './split-fim-prompt.js';

test("Continue's rendered templates split back into prefix and suffix (PSM, SPM, CodeLlama's spaces)", () => {
  const cases: [string, string, string, string][] = [
    [
      'qwen2.5-coder',
      '<|fim_prefix|>def f():\n    <|fim_suffix|>\n    return r<|fim_middle|>',
      'def f():\n    ',
      '\n    return r',
    ],
    ['starcoder', '<fim_prefix>x = <fim_suffix>\ny = 2<fim_middle>', 'x = ', '\ny = 2'],
    ['deepseek-coder', '<｜fim▁begin｜>x = <｜fim▁hole｜>\ny = 2<｜fim▁end｜>', 'x = ', '\ny = 2'],
    ['codellama', '<PRE> x =  <SUF>\ny = 2 <MID>', 'x = ', '\ny = 2'],
    ['codestral', '[SUFFIX]\ny = 2[PREFIX]x = ', 'x = ', '\ny = 2'],
  ];
  for (const [family, prompt, prefix, suffix] of cases) {
    const split = splitFimPrompt(prompt);
    assert.deepEqual([split?.family, split?.prefix, split?.suffix], [family, prefix, suffix], prompt);
  }
  assert.equal(splitFimPrompt('def f():\n    return '), undefined);
});

test("repository context before the prefix (Continue's Qwen and StarCoder2 multi-file templates) becomes context chunks and the file's path", () => {
  const qwen = splitFimPrompt(
    '<|repo_name|>project\n<|file_sep|>pkg/shapes.py\ndef area(s):\n    return s.w * s.h\n\n<|file_sep|>pkg/main.py\n<|fim_prefix|>from .shapes import area\n<|fim_suffix|>\n<|fim_middle|>',
  );
  assert.deepEqual(qwen?.context, [{ path: 'pkg/shapes.py', text: 'def area(s):\n    return s.w * s.h\n' }]);
  assert.equal(qwen?.path, 'pkg/main.py');
  assert.equal(qwen?.prefix, 'from .shapes import area\n');
  const starcoder2 = splitFimPrompt(
    '<file_sep>def area(s):\n    return 1<file_sep><fim_prefix>x = <fim_suffix><fim_middle>',
  );
  assert.deepEqual(
    [starcoder2?.family, starcoder2?.context, starcoder2?.prefix, starcoder2?.path],
    ['starcoder2', [{ path: '', text: 'def area(s):\n    return 1' }], 'x = ', undefined],
  );
});

test('sentinel strings inside the code do not move the split; a prompt that does not end with the middle sentinel is not split', () => {
  const code = 'TOKENS = ["<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"]\ndef f():\n    ';
  const tail = '\n    return "<|fim_middle|>"\n';
  const split = splitFimPrompt(`<|fim_prefix|>${code}<|fim_suffix|>${tail}<|fim_middle|>\n`);
  assert.deepEqual([split?.family, split?.prefix, split?.suffix], ['qwen2.5-coder', code, tail]);
  const withContext = splitFimPrompt(
    `<|file_sep|>a.py\nA = "<|fim_prefix|>"\n<|file_sep|>b.py\n<|fim_prefix|>${code}<|fim_suffix|>\n<|fim_middle|>`,
  );
  assert.deepEqual(
    [withContext?.prefix, withContext?.path, withContext?.context],
    [code, 'b.py', [{ path: 'a.py', text: 'A = "<|fim_prefix|>"' }]],
  );
  // A plain prompt that mentions two sentinels, as code, is a plain prompt.
  assert.equal(
    splitFimPrompt(
      'def sentinels():\n    return ["<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"]\n\ndef f():\n    ',
    ),
    undefined,
  );
  assert.equal(splitFimPrompt('x = "<fim_prefix>" + "<fim_suffix>"\ny = '), undefined);
});
