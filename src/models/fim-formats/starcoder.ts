import { defineFimFormat } from './fim-format.js';

/**
 * StarCoder / StarCoderBase (bigcode, 2023). Also what Granite Code v1 (granite-{3b,8b,20b,34b}-code-base) and
 * CodeQwen1.5 ship: the same `<fim_*>` sentinels with `<|endoftext|>`, so detection reports them as `starcoder`.
 *
 * Sources:
 * - Tokens (ids 0–18): bigcode/starcoderbase tokenizer_config.json `additional_special_tokens`
 *   (`<|endoftext|>`, `<fim_prefix>`, `<fim_middle>`, `<fim_suffix>`, `<fim_pad>`, `<filename>`, `<gh_stars>`, …,
 *   `<reponame>`); ibm-granite/granite-20b-code-instruct special_tokens_map.json lists the identical set.
 * - PSM prompt: TabbyML/registry-tabby meta/models.yaml `<fim_prefix>{prefix}<fim_suffix>{suffix}<fim_middle>`;
 *   bigcode-playground formats.md.
 * - SPM (spm-v2): NVIDIA/Megatron-LM megatron/training/datasets/README.md (`[prefix_tok, suffix_tok] suffix
 *   [middle_tok] prefix middle`), the FIM trainer bigcode's Megatron-LM fork derives from.
 * - Metadata `<reponame>REPONAME<filename>FILENAME<gh_stars>STARS\ncode<|endoftext|>`: bigcode-playground formats.md.
 *   It is single-file metadata, not a multi-file layout, so `render` does not use it.
 */
export const starcoderFormat = defineFimFormat({
  family: 'starcoder',
  displayName: 'StarCoder',
  covers:
    'StarCoder, StarCoderBase, StarCoderPlus, tiny_starcoder; Granite Code v1 and CodeQwen1.5 (same tokenizer sentinels)',
  tokens: {
    prefix: '<fim_prefix>',
    suffix: '<fim_suffix>',
    middle: '<fim_middle>',
    endOfText: '<|endoftext|>',
    pad: '<fim_pad>',
    repoName: '<reponame>',
    fileName: '<filename>',
  },
  order: 'psm',
  orders: ['psm', 'spm-v2'],
  stop: [
    '<|endoftext|>',
    '<fim_prefix>',
    '<fim_suffix>',
    '<fim_middle>',
    '<fim_pad>',
    '<reponame>',
    '<filename>',
    '<gh_stars>',
  ],
  bos: { token: '<|endoftext|>', addedByTokenizer: false },
  signature: ['<fim_prefix>', '<fim_suffix>', '<fim_middle>', '<|endoftext|>'],
  sources: [
    'bigcode/starcoderbase tokenizer_config.json (additional_special_tokens)',
    'TabbyML/registry-tabby meta/models.yaml (StarCoder prompt_template)',
    'NVIDIA/Megatron-LM megatron/training/datasets/README.md (PSM and SPM layouts)',
    'huggingface.co/spaces/bigcode/bigcode-playground formats.md (<reponame>/<filename>/<gh_stars> metadata)',
  ],
  notes: [
    '<reponame>/<filename>/<gh_stars> are single-file metadata from training, not a multi-file layout: render leaves context files out.',
    'Granite Code v1 and CodeQwen1.5 use these exact sentinels and <|endoftext|>; they render the same.',
  ],
});
