import { defineFimFormat } from './fim-format.js';

/**
 * ByteDance Seed-Coder 8B base: suffix first (SPM), with its own bracketed sentinels.
 *
 * Sources:
 * - Seed-Coder technical report (arXiv 2506.03524) §2.2.6: "we found that SPM performs slightly better … Each FIM sample
 *   was converted … into `<[fim-suffix]>SUFFIX<[fim-prefix]>PREFIX<[fim-middle]>MIDDLE` where <[fim-suffix]>,
 *   <[fim-prefix]> and <[fim-middle]> were added as special tokens", character-level splits, FIM rate 0.5.
 * - ByteDance-Seed/Seed-Coder-8B-Base special_tokens_map.json (bos `<[begin▁of▁sentence]>`, eos `<[end▁of▁sentence]>`,
 *   pad `<[PAD▁TOKEN]>`) and generation_config.json (bos 0, eos 2).
 */
export const seedCoderFormat = defineFimFormat({
  family: 'seed-coder',
  displayName: 'Seed-Coder',
  covers: 'Seed-Coder-8B-Base (and fine-tunes that keep its tokenizer)',
  tokens: {
    prefix: '<[fim-prefix]>',
    suffix: '<[fim-suffix]>',
    middle: '<[fim-middle]>',
    endOfText: '<[end▁of▁sentence]>',
  },
  order: 'spm',
  orders: ['spm'],
  stop: ['<[end▁of▁sentence]>', '<[fim-suffix]>', '<[fim-prefix]>', '<[fim-middle]>'],
  bos: { token: '<[begin▁of▁sentence]>' },
  signature: ['<[fim-prefix]>', '<[fim-suffix]>', '<[fim-middle]>', '<[end▁of▁sentence]>'],
  sources: [
    'Seed-Coder technical report arXiv 2506.03524 §2.2.6 (SPM FIM format)',
    'ByteDance-Seed/Seed-Coder-8B-Base special_tokens_map.json and generation_config.json',
  ],
  notes: [
    'Trained SPM only; Continue renders it PSM, which the report does not support.',
    'Whether the tokenizer adds BOS was not verified.',
    'No repository tokens: repository data was concatenated without special tokens.',
  ],
});
