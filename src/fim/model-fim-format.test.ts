import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMockBackend, getFimFormat, type ModelBackend } from '../models/index.js';
import { modelFimFormat } from './model-fim-format.js';

test("the backend's detected family wins; else GGUF metadata is read; else none (the backend's own infill)", () => {
  const base = createMockBackend({ respond: () => '' });
  const qwen = getFimFormat('qwen2.5-coder');
  const detected = modelFimFormat({
    ...base,
    fimFormat: qwen,
    fimFormatReason: '<|fim_prefix|> id 151659',
  } as ModelBackend);
  assert.equal(detected.format, qwen);
  assert.equal(detected.reason, 'detected by the backend (<|fim_prefix|> id 151659)');
  assert.equal(modelFimFormat({ ...base, fimFormat: 'starcoder2' } as ModelBackend).format?.family, 'starcoder2');
  const tokens = [
    '<|endoftext|>',
    '<fim_prefix>',
    '<fim_middle>',
    '<fim_suffix>',
    '<fim_pad>',
    '<repo_name>',
    '<file_sep>',
    'a',
    'b',
  ];
  const fromMetadata = modelFimFormat({
    ...base,
    ggufMetadata: {
      'tokenizer.ggml.tokens': tokens,
      'tokenizer.ggml.token_type': tokens.map((_, index) => (index < 7 ? 3 : 1)),
    },
  } as ModelBackend);
  assert.equal(fromMetadata.format?.family, 'starcoder2', fromMetadata.reason);
  const none = modelFimFormat(base);
  assert.equal(none.format, undefined);
  assert.match(none.reason, /none known for mock backends.*--fim-format/);
});
