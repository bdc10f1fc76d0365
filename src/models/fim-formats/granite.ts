import { defineFimFormat } from './fim-format.js';

/**
 * IBM Granite 3.x (base and instruct, including their code data): StarCoder-spelled sentinels with Granite's own
 * end token `<|end_of_text|>`. Granite Code v1 (granite-*-code-base, 2024) ships StarCoder's exact tokenizer instead and
 * is detected as `starcoder`.
 *
 * Sources:
 * - ggml-org/llama.cpp src/llama-vocab.cpp: `<fim_prefix>`, `<fim_suffix>`, `<fim_middle>`, `<fim_pad>`, `<reponame>`
 *   marked "// Granite" in the FIM tables; `<|end_of_text|>` marked "// granite" as EOT.
 * - ibm-granite/granite-3.x special_tokens_map.json: bos = eos = `<|end_of_text|>`, pad `<fim_pad>` (granite-3.2-2b),
 *   additional `<|start_of_role|>`, `<|end_of_role|>`, `<|tool_call|>`.
 * - Layout: PSM with these sentinels (the StarCoder template; no Granite-specific FIM documentation found).
 */
export const graniteFormat = defineFimFormat({
  family: 'granite',
  displayName: 'Granite',
  covers: 'IBM Granite 3.x base/instruct (Granite Code v1 is `starcoder`; Granite 4 not verified)',
  tokens: {
    prefix: '<fim_prefix>',
    suffix: '<fim_suffix>',
    middle: '<fim_middle>',
    endOfText: '<|end_of_text|>',
    pad: '<fim_pad>',
    repoName: '<reponame>',
    fileName: '<filename>',
  },
  order: 'psm',
  orders: ['psm'],
  stop: ['<|end_of_text|>', '<fim_prefix>', '<fim_suffix>', '<fim_middle>', '<fim_pad>', '<reponame>', '<filename>'],
  bos: { token: '<|end_of_text|>', addedByTokenizer: false },
  signature: ['<fim_prefix>', '<fim_suffix>', '<fim_middle>', '<|end_of_text|>'],
  sources: [
    'ggml-org/llama.cpp src/llama-vocab.cpp (Granite entries in the FIM and EOT tables)',
    'ibm-granite/granite-3.x special_tokens_map.json (bos/eos <|end_of_text|>, pad <fim_pad>)',
  ],
  notes: [
    'No Granite-specific FIM template is published; the layout is the StarCoder PSM one its sentinels come from.',
    '<reponame>/<filename> exist but no multi-file layout is documented: render leaves context files out.',
    'Granite 4 tokenizers were not checked; if detection fails on one, it lists the tokens it found.',
  ],
});
