/**
 * Golden tests: each family's prompt, byte for byte, against a string written out from the family's primary source
 * (named next to each expectation). If one of these changes, the model sees a different prompt than it was trained on.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../../core/index.js';
import { EMBEDDED_FIM_TOKENS, EMBEDDED_SPECIAL_TOKENS } from './codeloop-embedded.js';
import type { FimFamily, FimOrder, FimRenderInput } from './fim-format.js';
import { FIM_FAMILIES, FIM_FORMATS, getFimFormat } from './fim-formats.js';

const prefix = 'def add(a, b):\n    return ';
const suffix = '\n\nprint(add(1, 2))\n';
const repo: Omit<FimRenderInput, 'prefix' | 'suffix'> = {
  repoName: 'octo/calc',
  filePath: 'calc/add.py',
  files: [
    { path: 'calc/sub.py', content: 'def sub(a, b):\n    return a - b\n' },
    { path: 'calc/mul.py', content: 'def mul(a, b):\n    return a * b\n' },
  ],
};

function render(family: FimFamily, input: Partial<FimRenderInput> = {}): string {
  return getFimFormat(family).render({ prefix, suffix, ...input }).prompt;
}

/** [family, order, expected prompt, source of the template] */
const golden: [FimFamily, FimOrder | undefined, string, string][] = [
  [
    'starcoder',
    undefined,
    '<fim_prefix>def add(a, b):\n    return <fim_suffix>\n\nprint(add(1, 2))\n<fim_middle>',
    'TabbyML/registry-tabby meta/models.yaml: <fim_prefix>{prefix}<fim_suffix>{suffix}<fim_middle>',
  ],
  [
    'starcoder',
    'spm-v2',
    '<fim_prefix><fim_suffix>\n\nprint(add(1, 2))\n<fim_middle>def add(a, b):\n    return ',
    'NVIDIA/Megatron-LM datasets README, SPM: [prefix_tok, suffix_tok] suffix [middle_tok] prefix',
  ],
  [
    'starcoder2',
    undefined,
    '<fim_prefix>def add(a, b):\n    return <fim_suffix>\n\nprint(add(1, 2))\n<fim_middle>',
    'TabbyML/registry-tabby meta/models.yaml (StarCoder2 uses the StarCoder template)',
  ],
  [
    'santacoder',
    undefined,
    '<fim-prefix>def add(a, b):\n    return <fim-suffix>\n\nprint(add(1, 2))\n<fim-middle>',
    'bigcode/santacoder special tokens in the FIM paper PSM layout',
  ],
  [
    'qwen2.5-coder',
    undefined,
    '<|fim_prefix|>def add(a, b):\n    return <|fim_suffix|>\n\nprint(add(1, 2))\n<|fim_middle|>',
    "Qwen2.5-Coder.md: '<|fim_prefix|>' + prefix_code + '<|fim_suffix|>' + suffix_code + '<|fim_middle|>'",
  ],
  [
    'deepseek-coder',
    undefined,
    '<｜fim▁begin｜>def add(a, b):\n    return <｜fim▁hole｜>\n\nprint(add(1, 2))\n<｜fim▁end｜>',
    'continue AutocompleteTemplate.ts / registry-tabby: <｜fim▁begin｜>{prefix}<｜fim▁hole｜>{suffix}<｜fim▁end｜>',
  ],
  [
    'codellama',
    undefined,
    // "return " + " <SUF>": the prefix's own trailing space, then the space of the ▁<SUF> piece.
    '<PRE> def add(a, b):\n    return  <SUF>\n\nprint(add(1, 2))\n <MID>',
    'meta-llama/codellama generation.py: format as "<PRE> {pre} <SUF>{suf} <MID>"',
  ],
  [
    'codellama',
    'spm-v2',
    '<PRE> <SUF>\n\nprint(add(1, 2))\n <MID> def add(a, b):\n    return ',
    'meta-llama/codellama generation.py suffix_first: format as "<PRE> <SUF>{suf} <MID> {pre}"',
  ],
  [
    'codestral',
    undefined,
    '[SUFFIX]\n\nprint(add(1, 2))\n[PREFIX] def add(a, b):\n    return ',
    'mistral-common encode_fim: [BOS][SUFFIX] encode_infilling(suffix) [PREFIX] encode(prompt); ollama: [SUFFIX]{{ .Suffix }}[PREFIX] {{ .Prompt }}',
  ],
  [
    'codegemma',
    undefined,
    '<|fim_prefix|>def add(a, b):\n    return <|fim_suffix|>\n\nprint(add(1, 2))\n<|fim_middle|>',
    'ai.google.dev codegemma prompt-structure: <|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>',
  ],
  [
    'granite',
    undefined,
    '<fim_prefix>def add(a, b):\n    return <fim_suffix>\n\nprint(add(1, 2))\n<fim_middle>',
    'StarCoder PSM template with the <fim_*> tokens llama.cpp marks as Granite',
  ],
  [
    'seed-coder',
    undefined,
    '<[fim-suffix]>\n\nprint(add(1, 2))\n<[fim-prefix]>def add(a, b):\n    return <[fim-middle]>',
    'Seed-Coder report §2.2.6: <[fim-suffix]>SUFFIX<[fim-prefix]>PREFIX<[fim-middle]>MIDDLE',
  ],
  [
    'codeloop-embedded',
    undefined,
    '<|fim_prefix|>def add(a, b):\n    return <|fim_suffix|>\n\nprint(add(1, 2))\n<|fim_middle|>',
    'codeloop-embedded.ts: Qwen2.5-Coder layout',
  ],
];

for (const [family, order, expected, source] of golden) {
  test(`${family} ${order ?? 'default order'} renders byte-exactly (${source})`, () => {
    assert.equal(render(family, order === undefined ? {} : { order }), expected);
  });
}

test('every family has a golden test', () => {
  assert.deepEqual(new Set(golden.map(([family]) => family)), new Set(FIM_FAMILIES));
});

test('repository context, Qwen2.5-Coder (Qwen2.5-Coder.md repository-level infilling template)', () => {
  // <|repo_name|>{repo_name}\n<|file_sep|>{file_path1}\n{file_content1}\n<|file_sep|>…<|file_sep|>{path}\n<|fim_prefix|>…
  const expected =
    '<|repo_name|>octo/calc\n' +
    '<|file_sep|>calc/sub.py\ndef sub(a, b):\n    return a - b\n\n' +
    '<|file_sep|>calc/mul.py\ndef mul(a, b):\n    return a * b\n\n' +
    '<|file_sep|>calc/add.py\n' +
    '<|fim_prefix|>def add(a, b):\n    return <|fim_suffix|>\n\nprint(add(1, 2))\n<|fim_middle|>';
  const result = getFimFormat('qwen2.5-coder').render({ prefix, suffix, ...repo });
  assert.equal(result.prompt, expected);
  assert.deepEqual(result.warnings, []);
  assert.equal(render('codeloop-embedded', repo), expected, 'the embedded model uses the same layout');
});

test("Qwen2.5-Coder's own file-level example prompt (examples/Qwen2.5-Coder-fim.py) comes out unchanged", () => {
  const expected =
    '<|fim_prefix|>def quicksort(arr):\n    if len(arr) <= 1:\n        return arr\n    pivot = arr[len(arr) // 2]\n    ' +
    '<|fim_suffix|>\n    middle = [x for x in arr if x == pivot]\n    right = [x for x in arr if x > pivot]\n' +
    '    return quicksort(left) + middle + quicksort(right)<|fim_middle|>';
  const actual = render('qwen2.5-coder', {
    prefix: 'def quicksort(arr):\n    if len(arr) <= 1:\n        return arr\n    pivot = arr[len(arr) // 2]\n    ',
    suffix:
      '\n    middle = [x for x in arr if x == pivot]\n    right = [x for x in arr if x > pivot]\n    return quicksort(left) + middle + quicksort(right)',
  });
  assert.equal(actual, expected);
});

test('repository context, StarCoder2 (arXiv 2402.19173 §5.1: path inside the prefix, newline only after paths)', () => {
  // <repo_name>reponame<file_sep>filepath0\ncode0<file_sep><fim_prefix>filepath1\ncode1_pre<fim_suffix>code1_suf<fim_middle>
  const expected =
    '<repo_name>octo/calc' +
    '<file_sep>calc/sub.py\ndef sub(a, b):\n    return a - b\n' +
    '<file_sep>calc/mul.py\ndef mul(a, b):\n    return a * b\n' +
    '<file_sep><fim_prefix>calc/add.py\ndef add(a, b):\n    return <fim_suffix>\n\nprint(add(1, 2))\n<fim_middle>';
  assert.equal(render('starcoder2', repo), expected);
  // Without metadata (the paper's other 50%): <file_sep>code1<file_sep>code2…
  assert.equal(
    render('starcoder2', { files: [{ path: '', content: 'x = 1\n' }] }),
    '<file_sep>x = 1\n<file_sep><fim_prefix>def add(a, b):\n    return <fim_suffix>\n\nprint(add(1, 2))\n<fim_middle>',
  );
  // SPM keeps the path with the prefix text.
  assert.equal(
    render('starcoder2', { ...repo, files: [], order: 'spm-v2' }),
    '<repo_name>octo/calc<file_sep><fim_prefix><fim_suffix>\n\nprint(add(1, 2))\n<fim_middle>calc/add.py\ndef add(a, b):\n    return ',
  );
});

test('Codestral matches mistral-common test_encode_fim: <s>[SUFFIX]return▁a▁+▁b[PREFIX]▁def▁f(', () => {
  // ▁ is a space; BOS is added by the tokenizer, not the prompt.
  assert.equal(
    render('codestral', { prefix: 'def f(', suffix: 'return a + b' }),
    '[SUFFIX]return a + b[PREFIX] def f(',
  );
  assert.equal(
    render('codestral', { prefix: '', suffix: 'x' }),
    '[SUFFIX]x[PREFIX]',
    'an empty prefix encodes to no tokens, so no space',
  );
});

test("CodeGemma's prompt-structure example", () => {
  // The page's example (its suffix line reads `__name`, a typo for `__name__`).
  assert.equal(
    render('codegemma', { prefix: 'import ', suffix: "\nif __name__ == '__main__':\n   sys.exit(0)" }),
    "<|fim_prefix|>import <|fim_suffix|>\nif __name__ == '__main__':\n   sys.exit(0)<|fim_middle|>",
  );
});

test('Code Llama segments carry the ▁ pieces; text segments carry the reference spaces', () => {
  const result = getFimFormat('codellama').render({ prefix: 'def f(', suffix: ')\n' });
  assert.deepEqual(result.segments, [
    { type: 'special', token: '▁<PRE>', text: '<PRE>' },
    { type: 'text', text: ' def f(' },
    { type: 'special', token: '▁<SUF>', text: ' <SUF>' },
    { type: 'text', text: ')\n' },
    { type: 'special', token: '▁<MID>', text: ' <MID>' },
  ]);
  assert.equal(
    render('codellama', { prefix: '', suffix: 'x' }),
    '<PRE> <SUF>x <MID>',
    'encode("") is empty: no dummy space',
  );
});

test('segments always concatenate to the prompt, and special segments name the family’s own tokens', () => {
  for (const format of FIM_FORMATS) {
    for (const order of format.orders) {
      for (const input of [{}, repo, { prefix: '', suffix: '' }]) {
        const result = format.render({ prefix, suffix, ...input, order });
        assert.equal(
          result.segments.map((segment) => segment.text).join(''),
          result.prompt,
          `${format.family} ${order}`,
        );
        const tokens = new Set(Object.values(format.tokens));
        for (const segment of result.segments) {
          if (segment.type === 'special') assert.ok(tokens.has(segment.token), `${format.family}: ${segment.token}`);
          else assert.notEqual(segment.text, '', `${format.family}: no empty text segments`);
        }
        assert.deepEqual(result.stop, [...format.stop]);
      }
    }
  }
});

test('stop strings include each family’s end-of-text token as it decodes', () => {
  for (const format of FIM_FORMATS) {
    assert.ok(format.stop.includes(format.tokens.endOfText.replace(/^▁/, '')), format.family);
  }
});

test('an order the family was not trained with is a UsageError naming the allowed ones', () => {
  assert.throws(
    () => getFimFormat('qwen2.5-coder').render({ prefix, suffix, order: 'spm' }),
    (error: unknown) =>
      error instanceof UsageError &&
      error.message === "Qwen2.5-Coder (qwen2.5-coder) was not trained with FIM order 'spm'; use one of: psm.",
  );
});

test('context files on a family without a repository layout are left out, with a warning', () => {
  const result = getFimFormat('deepseek-coder').render({ prefix, suffix, ...repo });
  assert.equal(result.prompt, render('deepseek-coder'));
  assert.deepEqual(result.warnings, [
    'DeepSeek-Coder has no documented repository-context layout, so 2 context file(s) and the repository name were left out of the prompt; ' +
      'put other files into the prefix yourself (e.g. as comments), or use a family with repo-level tokens.',
  ]);
});

test('repository context without filePath: empty path line and a warning (Qwen layout)', () => {
  const result = getFimFormat('qwen2.5-coder').render({
    prefix: 'a',
    suffix: 'b',
    files: [{ path: 'x.py', content: 'x = 1' }],
  });
  assert.equal(result.prompt, '<|file_sep|>x.py\nx = 1\n<|file_sep|>\n<|fim_prefix|>a<|fim_suffix|>b<|fim_middle|>');
  assert.deepEqual(result.warnings, [
    "Qwen2.5-Coder's repository layout names the current file after <|file_sep|>; no filePath was given, so its path line is empty.",
  ]);
});

test('a filePath alone does not switch to the repository layout', () => {
  assert.equal(render('qwen2.5-coder', { filePath: 'a.py' }), render('qwen2.5-coder'));
});

test('special-token text inside user code is kept as text and reported', () => {
  const result = getFimFormat('qwen2.5-coder').render({ prefix: 's = "<|endoftext|>"\n', suffix });
  assert.deepEqual(result.segments[1], { type: 'text', text: 's = "<|endoftext|>"\n' });
  assert.deepEqual(result.warnings, [
    "prefix contains the special-token text '<|endoftext|>'; a server that parses special tokens in the prompt will read it as a token. " +
      'Send the segments (text tokenized with special parsing off) instead.',
  ]);
});

test('unknown family names are a UsageError listing the known ones', () => {
  assert.throws(
    () => getFimFormat('starcoder3'),
    (error: unknown) =>
      error instanceof UsageError &&
      error.message === `Unknown FIM format 'starcoder3'. Known formats: ${FIM_FAMILIES.join(', ')}.`,
  );
});

test('the embedded model tokens: names, texts and vocabulary order', () => {
  assert.deepEqual(EMBEDDED_FIM_TOKENS, {
    endOfText: '<|endoftext|>',
    prefix: '<|fim_prefix|>',
    middle: '<|fim_middle|>',
    suffix: '<|fim_suffix|>',
    pad: '<|fim_pad|>',
    repoName: '<|repo_name|>',
    fileSeparator: '<|file_sep|>',
    identity: '<|codeloop|>',
  });
  assert.deepEqual(EMBEDDED_SPECIAL_TOKENS, [
    '<|endoftext|>',
    '<|fim_prefix|>',
    '<|fim_middle|>',
    '<|fim_suffix|>',
    '<|fim_pad|>',
    '<|repo_name|>',
    '<|file_sep|>',
    '<|codeloop|>',
  ]);
});

test('formats are frozen data with sources', () => {
  for (const format of FIM_FORMATS) {
    assert.ok(Object.isFrozen(format), format.family);
    assert.ok(format.sources.length > 0, format.family);
    assert.ok(format.orders.includes(format.order), format.family);
  }
});
