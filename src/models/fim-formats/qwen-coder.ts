import { defineFimFormat } from './fim-format.js';

/**
 * Qwen2.5-Coder (and Qwen3-Coder, Qwen2.5 base, which share the tokenizer's FIM tokens).
 *
 * Sources:
 * - QwenLM/Qwen2.5-Coder examples/Qwen2.5-Coder.md: file-level FIM
 *   `'<|fim_prefix|>' + prefix_code + '<|fim_suffix|>' + suffix_code + '<|fim_middle|>'`; repository-level infilling
 *   `<|repo_name|>{repo_name}\n<|file_sep|>{file_path1} \n{file_content1}\n<|file_sep|>{file_path2} \n{file_content2}\n<|file_sep|>{file_path2} \n<|fim_prefix|>…`.
 *   The template's space before `\n` after each path is not in the README's worked example
 *   (examples/Qwen2.5-Coder-repolevel-fim.py: `<|file_sep|>library.py\nclass Book:`) nor in llama.cpp's `format_infill`
 *   (`filename + "\n"`), so it is treated as a typo and not rendered.
 * - Stop tokens: the same README's `eos_token_ids` 151664 `<|file_sep|>`, 151662 `<|fim_pad|>`, 151659–151661 FIM,
 *   151663 `<|repo_name|>`, 151645 `<|im_end|>`, 151643 `<|endoftext|>`.
 * - ggml-org/llama.cpp tools/server `format_infill` (same repo-level pattern, citing arXiv 2409.12186).
 */
export const qwenCoderFormat = defineFimFormat({
  family: 'qwen2.5-coder',
  displayName: 'Qwen2.5-Coder',
  covers: 'Qwen2.5-Coder base models (0.5B–32B), Qwen3-Coder, and Qwen2.5 base (same FIM tokens)',
  tokens: {
    prefix: '<|fim_prefix|>',
    suffix: '<|fim_suffix|>',
    middle: '<|fim_middle|>',
    endOfText: '<|endoftext|>',
    pad: '<|fim_pad|>',
    repoName: '<|repo_name|>',
    fileSeparator: '<|file_sep|>',
  },
  order: 'psm',
  orders: ['psm'],
  stop: [
    '<|endoftext|>',
    '<|fim_prefix|>',
    '<|fim_middle|>',
    '<|fim_suffix|>',
    '<|fim_pad|>',
    '<|repo_name|>',
    '<|file_sep|>',
    '<|im_end|>',
  ],
  repoContext: 'qwen',
  signature: ['<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>', '<|endoftext|>'],
  sources: [
    'QwenLM/Qwen2.5-Coder examples/Qwen2.5-Coder.md (file-level and repository-level FIM, eos_token_ids)',
    'QwenLM/Qwen2.5-Coder examples/Qwen2.5-Coder-repolevel-fim.py (worked repository-level example)',
    'ggml-org/llama.cpp tools/server format_infill (repo-level pattern, arXiv 2409.12186)',
  ],
  notes: [
    'No BOS: Qwen tokenizers add none.',
    'Repository context: each file is `<|file_sep|>{path}\\n{content}\\n`, then `<|file_sep|>{current path}\\n` before <|fim_prefix|>.',
  ],
});
