import { defineFimFormat } from './fim-format.js';

/**
 * CodeGemma 2B / 7B (pretrained variants; the 7B-IT is a chat model).
 *
 * Sources:
 * - ai.google.dev/gemma/docs/codegemma/prompt-structure: FIM tokens `<|fim_prefix|>`, `<|fim_suffix|>`,
 *   `<|fim_middle|>`, and `<|file_separator|>` "for multi-file contexts"; worked example
 *   `<|fim_prefix|>import <|fim_suffix|>\nif __name__ == '__main__':\n   sys.exit(0)<|fim_middle|>`.
 * - google/codegemma-7b-it tokenizer_config.json: `<|fim_prefix|>` 67, `<|fim_middle|>` 68, `<|fim_suffix|>` 69, marked
 *   `"special": false` (quoted in the llama.cpp infill-metadata discussion); Gemma's `<bos>` is added by the tokenizer.
 * - Stop strings: continuedev/continue AutocompleteTemplate.ts (codegemmaFimTemplate: FIM tokens, `<|file_separator|>`,
 *   `<end_of_turn>`, `<eos>`).
 */
export const codegemmaFormat = defineFimFormat({
  family: 'codegemma',
  displayName: 'CodeGemma',
  covers: 'CodeGemma 2B and 7B pretrained (1.0 and 1.1)',
  tokens: {
    prefix: '<|fim_prefix|>',
    suffix: '<|fim_suffix|>',
    middle: '<|fim_middle|>',
    endOfText: '<|file_separator|>',
    fileSeparator: '<|file_separator|>',
  },
  order: 'psm',
  orders: ['psm'],
  stop: ['<|file_separator|>', '<eos>', '<end_of_turn>', '<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>'],
  bos: { token: '<bos>', addedByTokenizer: true },
  signature: ['<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>', '<|file_separator|>'],
  sources: [
    'ai.google.dev/gemma/docs/codegemma/prompt-structure (FIM tokens, example)',
    'google/codegemma-7b-it tokenizer_config.json (ids 67–69)',
    'continuedev/continue core/autocomplete/templating/AutocompleteTemplate.ts (codegemmaFimTemplate stop strings)',
  ],
  notes: [
    'The multi-file layout around <|file_separator|> is not documented, so render leaves context files out.',
    'The FIM tokens are marked special: false in the HF tokenizer (llama.cpp warns and treats them as control tokens).',
    "endOfText is <|file_separator|> after Continue's stop list; Google's page does not say which token ends the middle.",
  ],
});
