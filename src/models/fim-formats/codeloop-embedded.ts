import { defineFimFormat } from './fim-format.js';

/**
 * The special tokens of codeloop's own embedded model. The tokenizer trainer must put exactly these texts in the
 * vocabulary, at ids 0–7 in this order, as control tokens (GGUF `tokenizer.ggml.token_type` 3), and never let them be
 * produced from ordinary text.
 *
 * Why these: Qwen2.5-Coder's spellings, so llama.cpp finds every FIM token by its text even without metadata
 * (`<|fim_prefix|>`… and, unlike StarCoder2's `<repo_name>`/`<file_sep>`, also `<|repo_name|>` as FIM_REP and
 * `<|file_sep|>` as FIM_SEP, which its `/infill` repo-level context needs), and servers' Qwen stop lists fit.
 * `<|codeloop|>` is never trained on: it only tells detection this vocabulary is ours and not a Qwen model's.
 *
 * The GGUF should also carry `tokenizer.ggml.bos_token_id` = `eos_token_id` = 0, `add_bos_token` = false, and
 * `tokenizer.ggml.fim_pre_token_id` 1, `fim_mid_token_id` 2, `fim_suf_token_id` 3, `fim_pad_token_id` 4,
 * `fim_rep_token_id` 5, `fim_sep_token_id` 6.
 *
 * Training examples use exactly what `codeloopEmbeddedFormat.render` produces, followed by the middle and
 * `<|endoftext|>`: `<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>{middle}<|endoftext|>`, and for
 * repository context `<|repo_name|>{repo}\n<|file_sep|>{path}\n{content}\n…<|file_sep|>{path}\n<|fim_prefix|>…`.
 */
export const EMBEDDED_FIM_TOKENS = {
  /** id 0: end of document / end of the middle; also BOS and EOS. */
  endOfText: '<|endoftext|>',
  /** id 1 */
  prefix: '<|fim_prefix|>',
  /** id 2 */
  middle: '<|fim_middle|>',
  /** id 3 */
  suffix: '<|fim_suffix|>',
  /** id 4: padding in training batches. */
  pad: '<|fim_pad|>',
  /** id 5: opens the repository name in repo-level context. */
  repoName: '<|repo_name|>',
  /** id 6: opens each file in repo-level context. */
  fileSeparator: '<|file_sep|>',
  /** id 7: identifies the vocabulary as codeloop's; never appears in training text. */
  identity: '<|codeloop|>',
} as const;

/** `EMBEDDED_FIM_TOKENS` in vocabulary order: index = token id. */
export const EMBEDDED_SPECIAL_TOKENS: readonly string[] = Object.freeze([
  EMBEDDED_FIM_TOKENS.endOfText,
  EMBEDDED_FIM_TOKENS.prefix,
  EMBEDDED_FIM_TOKENS.middle,
  EMBEDDED_FIM_TOKENS.suffix,
  EMBEDDED_FIM_TOKENS.pad,
  EMBEDDED_FIM_TOKENS.repoName,
  EMBEDDED_FIM_TOKENS.fileSeparator,
  EMBEDDED_FIM_TOKENS.identity,
]);

/**
 * codeloop-embedded: Qwen2.5-Coder's layout and spellings (PSM, Qwen repository layout), plus the identity token.
 * Source: this file defines it; the layout follows QwenLM/Qwen2.5-Coder examples/Qwen2.5-Coder.md (see qwen-coder.ts).
 * PSM only, because node-llama-cpp's infill and llama.cpp's `/infill` send PSM (`<fim_prefix> prefix <fim_suffix> suffix
 * <fim_middle>`), so the model is trained on that order alone.
 */
export const codeloopEmbeddedFormat = defineFimFormat({
  family: 'codeloop-embedded',
  displayName: 'codeloop embedded model',
  covers: "codeloop's own small model (`embedded`)",
  tokens: {
    prefix: EMBEDDED_FIM_TOKENS.prefix,
    suffix: EMBEDDED_FIM_TOKENS.suffix,
    middle: EMBEDDED_FIM_TOKENS.middle,
    endOfText: EMBEDDED_FIM_TOKENS.endOfText,
    pad: EMBEDDED_FIM_TOKENS.pad,
    repoName: EMBEDDED_FIM_TOKENS.repoName,
    fileSeparator: EMBEDDED_FIM_TOKENS.fileSeparator,
  },
  order: 'psm',
  orders: ['psm'],
  // Every special token ends a middle.
  stop: [...EMBEDDED_SPECIAL_TOKENS],
  bos: { token: EMBEDDED_FIM_TOKENS.endOfText, addedByTokenizer: false },
  repoContext: 'qwen',
  signature: [
    EMBEDDED_FIM_TOKENS.prefix,
    EMBEDDED_FIM_TOKENS.suffix,
    EMBEDDED_FIM_TOKENS.middle,
    EMBEDDED_FIM_TOKENS.endOfText,
    EMBEDDED_FIM_TOKENS.identity,
  ],
  sources: [
    'src/models/fim-formats/codeloop-embedded.ts (this definition)',
    'QwenLM/Qwen2.5-Coder examples/Qwen2.5-Coder.md (layout)',
  ],
  notes: ['Renders exactly like qwen2.5-coder; the identity token <|codeloop|> is what tells the two apart.'],
});
