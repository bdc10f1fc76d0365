import { defineFimFormat } from './fim-format.js';

/**
 * DeepSeek-Coder v1 (1.3B/6.7B/33B base) and DeepSeek-Coder-V2(-Lite) base: the same sentinels and PSM layout, so one
 * family. The bars are FULLWIDTH VERTICAL LINE (U+FF5C) and the word joiner is LOWER ONE EIGHTH BLOCK (U+2581).
 *
 * Sources:
 * - Layout: continuedev/continue core/autocomplete/templating/AutocompleteTemplate.ts (citing the
 *   deepseek-coder-1.3b-base model card) and TabbyML/registry-tabby meta/models.yaml:
 *   `<｜fim▁begin｜>{prefix}<｜fim▁hole｜>{suffix}<｜fim▁end｜>`; Ollama's deepseek-coder-v2 template is the same.
 * - Tokens: ggml-org/llama.cpp src/llama-vocab.cpp FIM tables (`<｜fim▁begin｜>` = FIM_PRE, `<｜fim▁hole｜>` = FIM_SUF,
 *   `<｜fim▁end｜>` = FIM_MID, `<｜end▁of▁sentence｜>` = EOT); deepseek-coder config.json bos 32013 / eos 32014 and
 *   tokenizer_config.json `add_bos_token: true`.
 */
export const deepseekCoderFormat = defineFimFormat({
  family: 'deepseek-coder',
  displayName: 'DeepSeek-Coder',
  covers: 'DeepSeek-Coder 1.3B/6.7B/33B base and DeepSeek-Coder-V2(-Lite) base',
  tokens: {
    prefix: '<｜fim▁begin｜>',
    suffix: '<｜fim▁hole｜>',
    middle: '<｜fim▁end｜>',
    endOfText: '<｜end▁of▁sentence｜>',
  },
  order: 'psm',
  orders: ['psm'],
  stop: ['<｜end▁of▁sentence｜>', '<｜fim▁begin｜>', '<｜fim▁hole｜>', '<｜fim▁end｜>', '<|EOT|>'],
  bos: { token: '<｜begin▁of▁sentence｜>', addedByTokenizer: true },
  signature: ['<｜fim▁begin｜>', '<｜fim▁hole｜>', '<｜fim▁end｜>', '<｜end▁of▁sentence｜>'],
  sources: [
    'continuedev/continue core/autocomplete/templating/AutocompleteTemplate.ts (deepseekFimTemplate)',
    'TabbyML/registry-tabby meta/models.yaml (DeepseekCoder prompt_template)',
    'ggml-org/llama.cpp src/llama-vocab.cpp (FIM token detection table)',
    'deepseek-ai/deepseek-coder-*-base config.json and tokenizer_config.json (BOS/EOS, add_bos_token)',
  ],
  notes: [
    'The tokenizer adds <｜begin▁of▁sentence｜> itself; the prompt string does not contain it.',
    "Continue also stops on '//', which cuts completions at any comment or URL; this format does not.",
    'DeepSeek-Coder has no repository tokens (its README shows repo-level completion with plain `#path` comments).',
  ],
});
