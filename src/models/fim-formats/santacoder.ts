import { defineFimFormat } from './fim-format.js';

/**
 * SantaCoder (bigcode, 2022): the dash-spelled sentinels that came before StarCoder's underscores.
 *
 * Sources:
 * - Tokens: bigcode/santacoder special_tokens_map.json / added_tokens.json (`<|endoftext|>` 49152, `<fim-prefix>` 49153,
 *   `<fim-middle>` 49154, `<fim-suffix>` 49155, `<fim-pad>` 49156).
 * - Layout: PSM as in the FIM paper (arXiv 2207.14255); llama.cpp src/llama-vocab.cpp detects `<fim-prefix>` etc.
 */
export const santacoderFormat = defineFimFormat({
  family: 'santacoder',
  displayName: 'SantaCoder',
  covers: 'bigcode/santacoder and fine-tunes',
  tokens: {
    prefix: '<fim-prefix>',
    suffix: '<fim-suffix>',
    middle: '<fim-middle>',
    endOfText: '<|endoftext|>',
    pad: '<fim-pad>',
  },
  order: 'psm',
  orders: ['psm', 'spm-v2'],
  stop: ['<|endoftext|>', '<fim-prefix>', '<fim-suffix>', '<fim-middle>', '<fim-pad>'],
  bos: { token: '<|endoftext|>', addedByTokenizer: false },
  signature: ['<fim-prefix>', '<fim-suffix>', '<fim-middle>', '<|endoftext|>'],
  sources: [
    'bigcode/santacoder special_tokens_map.json and added_tokens.json',
    'arXiv 2207.14255 (FIM paper, PSM/SPM)',
  ],
});
