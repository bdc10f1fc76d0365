import { defineFimFormat } from './fim-format.js';

/**
 * StarCoder2 (bigcode, 2024): StarCoder's sentinels plus `<repo_name>` and `<file_sep>` for repository context.
 *
 * Sources:
 * - arXiv 2402.19173 (StarCoder 2 and The Stack v2) §5.1: repository context
 *   `<repo_name>reponame<file_sep>filepath0\ncode0<file_sep><fim_prefix>filepath1\ncode1_pre<fim_suffix>code1_suf<fim_middle>code1_mid<file_sep> …<|endoftext|>`;
 *   the only newline added is after a file path; metadata (name, paths) was kept in 50% of samples, the rest is
 *   `<file_sep>code1<file_sep>code2…`.
 * - Tokens: bigcode/starcoder2-* tokenizer_config.json (`<|endoftext|>`, `<fim_prefix>`, `<fim_middle>`, `<fim_suffix>`,
 *   `<fim_pad>`, `<repo_name>`, `<file_sep>`, …).
 * - PSM prompt without context: TabbyML/registry-tabby meta/models.yaml (StarCoder2-3B/7B use the StarCoder template).
 * - SPM: same Megatron-LM trainer as StarCoder (spm-v2).
 */
export const starcoder2Format = defineFimFormat({
  family: 'starcoder2',
  displayName: 'StarCoder2',
  covers: 'StarCoder2 3B/7B/15B and fine-tunes that keep its tokenizer',
  tokens: {
    prefix: '<fim_prefix>',
    suffix: '<fim_suffix>',
    middle: '<fim_middle>',
    endOfText: '<|endoftext|>',
    pad: '<fim_pad>',
    repoName: '<repo_name>',
    fileSeparator: '<file_sep>',
  },
  order: 'psm',
  orders: ['psm', 'spm-v2'],
  stop: ['<|endoftext|>', '<file_sep>', '<fim_prefix>', '<fim_suffix>', '<fim_middle>', '<fim_pad>', '<repo_name>'],
  bos: { token: '<|endoftext|>', addedByTokenizer: false },
  repoContext: 'starcoder2',
  signature: ['<fim_prefix>', '<fim_suffix>', '<fim_middle>', '<|endoftext|>', '<repo_name>', '<file_sep>'],
  sources: [
    'arXiv 2402.19173 §5.1 (repository-context and FIM layout)',
    'bigcode/starcoder2 tokenizer_config.json (special tokens)',
    'TabbyML/registry-tabby meta/models.yaml (StarCoder2 prompt_template)',
  ],
  notes: [
    'In repository context the current file is `<file_sep><fim_prefix>{path}\\n{prefix}`: the path sits inside the prefix, with no newline after <repo_name>{name}.',
    'llama.cpp does not recognise <repo_name>/<file_sep> as FIM_REP/FIM_SEP, so its /infill endpoint renders no repository context for StarCoder2.',
  ],
});
