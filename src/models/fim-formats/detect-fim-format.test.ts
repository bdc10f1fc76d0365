/**
 * Detection from realistic vocabularies. Special tokens and their ids come from each family's tokenizer config (named
 * per fixture); ids marked "illustrative" were not verified and do not affect detection unless metadata names them.
 * Ordinary BPE pieces that merely look like sentinels (`<pre>`, `prefix`) are mixed in on purpose.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../../core/index.js';
import { detectFimFormat, type FimTokenInfo } from './detect-fim-format.js';
import { FimFormatError } from './fim-format-error.js';
import { EMBEDDED_SPECIAL_TOKENS } from './codeloop-embedded.js';

const ORDINARY = ['def', 'Ġreturn', 'prefix', 'Ġsuffix', '<pre>', '</pre>', 'middle', '[', 'PRE', 'Ċ'];

/** A vocabulary of `ordinary` normal tokens at ids 1000+ plus the given special tokens. */
function vocabulary(
  specials: readonly (readonly [number, string] | readonly [number, string, boolean])[],
): FimTokenInfo[] {
  const entries: FimTokenInfo[] = ORDINARY.map((text, index) => ({ id: 1000 + index, text, special: false }));
  for (const [id, text, special = true] of specials) entries.push({ id, text, special });
  return entries;
}

function numbered(first: number, texts: readonly string[]): [number, string][] {
  return texts.map((text, index) => [first + index, text]);
}

// bigcode/starcoderbase tokenizer_config.json additional_special_tokens, ids 0–18 (also Granite Code v1's).
const STARCODER = numbered(0, [
  '<|endoftext|>',
  '<fim_prefix>',
  '<fim_middle>',
  '<fim_suffix>',
  '<fim_pad>',
  '<filename>',
  '<gh_stars>',
  '<issue_start>',
  '<issue_comment>',
  '<issue_closed>',
  '<jupyter_start>',
  '<jupyter_text>',
  '<jupyter_code>',
  '<jupyter_output>',
  '<empty_output>',
  '<commit_before>',
  '<commit_msg>',
  '<commit_after>',
  '<reponame>',
]);
// bigcode/starcoder2 tokenizer_config.json, abridged (ids illustrative after <file_sep>).
const STARCODER2 = numbered(0, [
  '<|endoftext|>',
  '<fim_prefix>',
  '<fim_middle>',
  '<fim_suffix>',
  '<fim_pad>',
  '<repo_name>',
  '<file_sep>',
  '<issue_start>',
  '<issue_comment>',
  '<issue_closed>',
  '<jupyter_start>',
  '<jupyter_text>',
  '<jupyter_code>',
  '<jupyter_output>',
  '<jupyter_script>',
  '<empty_output>',
]);
// bigcode/santacoder added_tokens.json.
const SANTACODER = numbered(49152, ['<|endoftext|>', '<fim-prefix>', '<fim-middle>', '<fim-suffix>', '<fim-pad>']);
// Qwen2.5-Coder tokenizer_config.json added tokens 151643–151664 (ids confirmed by Qwen2.5-Coder.md eos_token_ids).
const QWEN = numbered(151643, [
  '<|endoftext|>',
  '<|im_start|>',
  '<|im_end|>',
  '<|object_ref_start|>',
  '<|object_ref_end|>',
  '<|box_start|>',
  '<|box_end|>',
  '<|quad_start|>',
  '<|quad_end|>',
  '<|vision_start|>',
  '<|vision_end|>',
  '<|vision_pad|>',
  '<|image_pad|>',
  '<|video_pad|>',
  '<tool_call>',
  '</tool_call>',
  '<|fim_prefix|>',
  '<|fim_middle|>',
  '<|fim_suffix|>',
  '<|fim_pad|>',
  '<|repo_name|>',
  '<|file_sep|>',
]);
// deepseek-coder-*-base: bos 32013 / eos 32014 (config.json); FIM 32015–32017 and <|EOT|> 32021 illustrative.
const DEEPSEEK = [
  ...numbered(32013, [
    '<｜begin▁of▁sentence｜>',
    '<｜end▁of▁sentence｜>',
    '<｜fim▁hole｜>',
    '<｜fim▁begin｜>',
    '<｜fim▁end｜>',
  ]),
  [32021, '<|EOT|>'] as [number, string],
];
// codellama/CodeLlama-7b-hf tokenizer_config.json.
const CODELLAMA = [
  ...numbered(0, ['<unk>', '<s>', '</s>']),
  ...numbered(32007, ['▁<PRE>', '▁<SUF>', '▁<MID>', '▁<EOT>']),
];
// Mistral v3 control tokens (mistral-common SpecialTokens); ids of [SUFFIX]/[PREFIX]/[MIDDLE] illustrative.
const CODESTRAL = numbered(0, [
  '<unk>',
  '<s>',
  '</s>',
  '[INST]',
  '[/INST]',
  '[TOOL_CALLS]',
  '[AVAILABLE_TOOLS]',
  '[/AVAILABLE_TOOLS]',
  '[TOOL_RESULTS]',
  '[/TOOL_RESULTS]',
  '[SUFFIX]',
  '[PREFIX]',
  '[MIDDLE]',
]);
// google/codegemma tokenizer_config.json: FIM 67–69 are "special": false; <|file_separator|> 70 illustrative.
const CODEGEMMA: [number, string, boolean][] = [
  [0, '<pad>', true],
  [1, '<eos>', true],
  [2, '<bos>', true],
  [3, '<unk>', true],
  [67, '<|fim_prefix|>', false],
  [68, '<|fim_middle|>', false],
  [69, '<|fim_suffix|>', false],
  [70, '<|file_separator|>', false],
  [106, '<start_of_turn>', true],
  [107, '<end_of_turn>', true],
];
// ibm-granite/granite-3.x: bos = eos = <|end_of_text|> at 0, StarCoder-style FIM tokens, role tokens (ids after 4 illustrative).
const GRANITE = [
  ...numbered(0, [
    '<|end_of_text|>',
    '<fim_prefix>',
    '<fim_middle>',
    '<fim_suffix>',
    '<fim_pad>',
    '<filename>',
    '<gh_stars>',
  ]),
  [18, '<reponame>'] as [number, string],
  ...numbered(49152, ['<|start_of_role|>', '<|end_of_role|>', '<|tool_call|>']),
];
// ByteDance-Seed/Seed-Coder-8B-Base: bos 0, eos 2 (generation_config.json), pad; FIM ids illustrative.
const SEED_CODER = [
  ...numbered(0, ['<[begin▁of▁sentence]>', '<[PAD▁TOKEN]>', '<[end▁of▁sentence]>', '<[SEP▁TOKEN]>']),
  ...numbered(124, ['<[fim-suffix]>', '<[fim-prefix]>', '<[fim-middle]>']),
];

const cases: [string, FimTokenInfo[], string][] = [
  ['StarCoderBase', vocabulary(STARCODER), 'starcoder'],
  ['StarCoder2', vocabulary(STARCODER2), 'starcoder2'],
  ['SantaCoder', vocabulary(SANTACODER), 'santacoder'],
  ['Qwen2.5-Coder', vocabulary(QWEN), 'qwen2.5-coder'],
  ['DeepSeek-Coder', vocabulary(DEEPSEEK), 'deepseek-coder'],
  ['Code Llama', vocabulary(CODELLAMA), 'codellama'],
  ['Codestral', vocabulary(CODESTRAL), 'codestral'],
  ['CodeGemma', vocabulary(CODEGEMMA), 'codegemma'],
  ['Granite 3', vocabulary(GRANITE), 'granite'],
  ['Seed-Coder', vocabulary(SEED_CODER), 'seed-coder'],
  ['codeloop embedded', vocabulary(numbered(0, EMBEDDED_SPECIAL_TOKENS)), 'codeloop-embedded'],
];

for (const [name, tokens, family] of cases) {
  test(`${name}'s vocabulary is detected as ${family}`, () => {
    assert.equal(detectFimFormat({ tokens }).format.family, family);
  });
}

test('the reason names the deciding tokens with ids', () => {
  const result = detectFimFormat({ tokens: vocabulary(STARCODER2) });
  assert.equal(
    result.reason,
    "special tokens '<fim_prefix>' (1), '<fim_suffix>' (3), '<fim_middle>' (2), '<|endoftext|>' (0), '<repo_name>' (5), '<file_sep>' (6) " +
      "are StarCoder2's (starcoder2); more specific than starcoder",
  );
  assert.deepEqual(result.warnings, []);
});

test('a model named like one family but with the tokens of another is detected by its tokens', () => {
  // A StarCoder2 fine-tune published under a Qwen name: the name is never read.
  const starcoder2 = detectFimFormat({
    tokens: vocabulary(STARCODER2),
    metadata: { 'general.name': 'Qwen2.5-Coder-7B-Instruct', 'general.basename': 'qwen2.5-coder' },
  });
  assert.equal(starcoder2.format.family, 'starcoder2');
  assert.doesNotMatch(starcoder2.reason, /qwen/i);
  // CodeQwen1.5 (TechxGenus/CodeQwen1.5-7B-AWQ special_tokens_map.json): Qwen's chat tokens, StarCoder's FIM tokens.
  const codeqwen = vocabulary([
    [2, '<|endoftext|>'],
    [3, '<|im_start|>'],
    [4, '<|im_end|>'],
    [5, '<fim_prefix>'],
    [6, '<fim_middle>'],
    [7, '<fim_suffix>'],
    [8, '<fim_pad>'],
  ]);
  assert.equal(
    detectFimFormat({ tokens: codeqwen, metadata: { 'general.name': 'CodeQwen1.5-7B-Chat' } }).format.family,
    'starcoder',
  );
});

test('Granite Code v1 ships StarCoder’s tokenizer and renders as starcoder', () => {
  assert.equal(
    detectFimFormat({ tokens: vocabulary(STARCODER), metadata: { 'general.name': 'granite-8b-code-base' } }).format
      .family,
    'starcoder',
  );
});

test('GGUF metadata names the FIM ids; Qwen vocabulary as a plain string array with token types', () => {
  const texts = Array.from({ length: 151665 }, (_, id) => `t${id}`);
  for (const [id, text] of QWEN) texts[id] = text;
  const tokenType = texts.map((_, id) => (id >= 151643 ? 3 : 1));
  const result = detectFimFormat({
    metadata: {
      'tokenizer.ggml.tokens': texts,
      'tokenizer.ggml.token_type': tokenType,
      'tokenizer.ggml.fim_pre_token_id': 151659,
      'tokenizer.ggml.fim_suf_token_id': 151661,
      'tokenizer.ggml.fim_mid_token_id': 151660,
      'tokenizer.ggml.fim_pad_token_id': 151662,
      'tokenizer.ggml.fim_rep_token_id': 151663,
      'tokenizer.ggml.fim_sep_token_id': 151664,
      'tokenizer.ggml.eos_token_id': 151643,
    },
  });
  assert.equal(result.format.family, 'qwen2.5-coder');
  assert.equal(
    result.reason,
    "GGUF metadata names the FIM tokens '<|fim_prefix|>' (151659), '<|fim_suffix|>' (151661), '<|fim_middle|>' (151660); " +
      "with '<|endoftext|>' (151643) they are Qwen2.5-Coder's (qwen2.5-coder)",
  );
  assert.deepEqual(result.warnings, []);
});

test('the older GGUF keys prefix/suffix/middle_token_id (Code Llama conversions) are read too', () => {
  const result = detectFimFormat({
    tokens: vocabulary(CODELLAMA),
    metadata: {
      'tokenizer.ggml.prefix_token_id': 32007,
      'tokenizer.ggml.suffix_token_id': 32008,
      'tokenizer.ggml.middle_token_id': 32009,
      'tokenizer.ggml.eot_token_id': 32010,
      'tokenizer.ggml.eos_token_id': 2,
    },
  });
  assert.equal(result.format.family, 'codellama');
  assert.match(
    result.reason,
    /^GGUF metadata names the FIM tokens '▁<PRE>' \(32007\), '▁<SUF>' \(32008\), '▁<MID>' \(32009\); with '▁<EOT>' \(32010\)/,
  );
  assert.deepEqual(result.warnings, []);
});

test('GGUF ids as bigint, and sentinels not marked special (CodeGemma) are warned about', () => {
  const result = detectFimFormat({
    tokens: vocabulary(CODEGEMMA),
    metadata: {
      'tokenizer.ggml.fim_pre_token_id': 67n,
      'tokenizer.ggml.fim_suf_token_id': 69n,
      'tokenizer.ggml.fim_mid_token_id': 68n,
    },
  });
  assert.equal(result.format.family, 'codegemma');
  assert.deepEqual(
    result.warnings,
    ["'<|fim_prefix|>' (67)", "'<|fim_suffix|>' (69)", "'<|fim_middle|>' (68)", "'<|file_separator|>' (70)"].map(
      (token) =>
        `${token} is not marked as a special token; a tokenizer that parses specials only among special tokens will ` +
        `split it (llama.cpp overrides this with a warning).`,
    ),
  );
});

test('the embedded model’s identity token sets it apart from Qwen2.5-Coder', () => {
  const embedded = detectFimFormat({
    metadata: {
      'tokenizer.ggml.tokens': [...EMBEDDED_SPECIAL_TOKENS, 'def', 'Ġx'],
      'tokenizer.ggml.token_type': [3, 3, 3, 3, 3, 3, 3, 3, 1, 1],
      'tokenizer.ggml.fim_pre_token_id': 1,
      'tokenizer.ggml.fim_mid_token_id': 2,
      'tokenizer.ggml.fim_suf_token_id': 3,
      'tokenizer.ggml.fim_pad_token_id': 4,
      'tokenizer.ggml.fim_rep_token_id': 5,
      'tokenizer.ggml.fim_sep_token_id': 6,
    },
  });
  assert.equal(embedded.format.family, 'codeloop-embedded');
  assert.equal(
    embedded.reason,
    "GGUF metadata names the FIM tokens '<|fim_prefix|>' (1), '<|fim_suffix|>' (3), '<|fim_middle|>' (2); " +
      "with '<|endoftext|>' (0), '<|codeloop|>' (7) they are codeloop embedded model's (codeloop-embedded)",
  );
  assert.deepEqual(embedded.warnings, []);
  const withoutIdentity = EMBEDDED_SPECIAL_TOKENS.slice(0, 7);
  assert.equal(detectFimFormat({ tokens: withoutIdentity }).format.family, 'qwen2.5-coder');
});

test('tokens of two families and no metadata: an ambiguity error that lists both and how to override', () => {
  // Both have <|endoftext|>; a text that appears twice resolves to its first id.
  const merged = vocabulary([...STARCODER, ...QWEN]);
  assert.throws(
    () => detectFimFormat({ tokens: merged }),
    (error: unknown) => {
      assert.ok(error instanceof FimFormatError);
      assert.equal(error.code, 'fim-format-ambiguous');
      assert.deepEqual(error.candidates, ['starcoder', 'qwen2.5-coder']);
      assert.equal(
        error.message,
        "Cannot tell the FIM format: the vocabulary holds the tokens of more than one format: starcoder ('<fim_prefix>' (1), '<fim_suffix>' (3), " +
          "'<fim_middle>' (2), '<|endoftext|>' (0)); qwen2.5-coder ('<|fim_prefix|>' (151659), '<|fim_suffix|>' (151661), '<|fim_middle|>' (151660), " +
          "'<|endoftext|>' (0)). Set GGUF tokenizer.ggml.fim_pre_token_id/fim_suf_token_id/fim_mid_token_id to the model's tokens, " +
          'or name the format (`--fim-format FAMILY`, `fimFormat`) with one of: starcoder, qwen2.5-coder.',
      );
      return true;
    },
  );
  // GGUF metadata settles it, and the other family's tokens are reported.
  const result = detectFimFormat({
    tokens: merged,
    metadata: {
      'tokenizer.ggml.fim_pre_token_id': 151659,
      'tokenizer.ggml.fim_suf_token_id': 151661,
      'tokenizer.ggml.fim_mid_token_id': 151660,
    },
  });
  assert.equal(result.format.family, 'qwen2.5-coder');
  assert.deepEqual(result.warnings, [
    'The vocabulary also holds the tokens of starcoder; the GGUF metadata decided for qwen2.5-coder.',
  ]);
});

test('unknown FIM tokens (GLM-4.5 style): the error lists what was found and the override', () => {
  const glm = vocabulary([
    [151329, '<|endoftext|>'],
    [151347, '<|code_prefix|>'],
    [151348, '<|code_middle|>'],
    [151349, '<|code_suffix|>'],
  ]);
  assert.throws(
    () => detectFimFormat({ tokens: glm }),
    (error: unknown) => {
      assert.ok(error instanceof FimFormatError);
      assert.equal(error.code, 'fim-format-unknown');
      assert.deepEqual(error.found, [
        "'<|code_prefix|>' (151347)",
        "'<|code_middle|>' (151348)",
        "'<|code_suffix|>' (151349)",
      ]);
      assert.equal(
        error.message,
        'Cannot tell the FIM format: No known FIM format has all its tokens in this vocabulary. FIM-looking special tokens in the vocabulary ' +
          "(14 tokens): '<|code_prefix|>' (151347), '<|code_middle|>' (151348), '<|code_suffix|>' (151349). If you know the model's format, " +
          'name it (`--fim-format FAMILY` on the command line, `fimFormat` in the model options) with one of: starcoder, starcoder2, santacoder, qwen2.5-coder, deepseek-coder, codellama, codestral, codegemma, ' +
          'granite, seed-coder, codeloop-embedded.',
      );
      return true;
    },
  );
});

test('a vocabulary without FIM tokens (Llama 3 style) says none were found', () => {
  const llama3 = vocabulary([
    [128000, '<|begin_of_text|>'],
    [128001, '<|end_of_text|>'],
    [128009, '<|eot_id|>'],
  ]);
  assert.throws(
    () => detectFimFormat({ tokens: llama3 }),
    (error: unknown) =>
      error instanceof FimFormatError &&
      error.code === 'fim-format-unknown' &&
      error.found.length === 0 &&
      /tokens\): none\./.test(error.message),
  );
});

test('metadata naming FIM tokens no family uses is an unknown-format error', () => {
  const tokens = vocabulary([
    [0, '<|endoftext|>'],
    [10, '<|code_prefix|>'],
    [11, '<|code_suffix|>'],
    [12, '<|code_middle|>'],
  ]);
  assert.throws(
    () =>
      detectFimFormat({
        tokens,
        metadata: {
          'tokenizer.ggml.fim_pre_token_id': 10,
          'tokenizer.ggml.fim_suf_token_id': 11,
          'tokenizer.ggml.fim_mid_token_id': 12,
        },
      }),
    (error: unknown) =>
      error instanceof FimFormatError &&
      error.message.startsWith(
        "Cannot tell the FIM format: GGUF metadata names the FIM tokens '<|code_prefix|>' (10), '<|code_suffix|>' (11), '<|code_middle|>' (12), which no known format uses.",
      ),
  );
});

test('metadata that disagrees with the chosen family, and an out-of-range id, become warnings', () => {
  const result = detectFimFormat({
    tokens: vocabulary(QWEN),
    metadata: {
      'tokenizer.ggml.fim_sep_token_id': 151645,
      'tokenizer.ggml.fim_pad_token_id': 999999,
      'tokenizer.ggml.eos_token_id': 151652,
    },
  });
  assert.equal(result.format.family, 'qwen2.5-coder');
  assert.deepEqual(result.warnings, [
    'GGUF tokenizer.ggml.fim_pad_token_id = 999999 is not a token id of this vocabulary; ignored.',
    "GGUF tokenizer.ggml.fim_sep_token_id names '<|im_end|>' (151645), but qwen2.5-coder uses '<|file_sep|>'.",
    "GGUF tokenizer.ggml.eos_token_id is '<|vision_start|>' (151652), which is not among qwen2.5-coder's stop strings; add it as a stop string if generation runs on.",
  ]);
});

test('override wins, and its mismatches with the tokens are warnings', () => {
  const result = detectFimFormat({ tokens: vocabulary(QWEN), override: 'codellama' });
  assert.equal(result.format.family, 'codellama');
  assert.equal(result.reason, 'override: codellama (given explicitly)');
  assert.equal(result.warnings.length, 5);
  assert.equal(
    result.warnings[0],
    "Override codellama: the vocabulary has no token '▁<PRE>'; that text will be tokenized as plain text and the model will not see a FIM prompt.",
  );
  assert.match(
    result.warnings[4] ?? '',
    /^Override codellama differs from what the tokenizer says: special tokens '<\|fim_prefix\|>' \(151659\)/,
  );
  // Without tokens (an HTTP model with no tokenizer), override is the only way.
  assert.deepEqual(detectFimFormat({ override: 'codestral' }).warnings, []);
  assert.throws(
    () => detectFimFormat({ override: 'qwen' }),
    (error: unknown) =>
      error instanceof UsageError && /^Unknown FIM format 'qwen'\. Known formats: starcoder, /.test(error.message),
  );
});

test('no tokens and no override is an error that says what to pass', () => {
  assert.throws(
    () => detectFimFormat({ metadata: { 'general.name': 'qwen2.5-coder-1.5b' } }),
    (error: unknown) =>
      error instanceof FimFormatError &&
      error.message.startsWith(
        'Cannot tell the FIM format: no tokenizer tokens were given (neither `tokens` nor GGUF tokenizer.ggml.tokens).',
      ),
  );
});
