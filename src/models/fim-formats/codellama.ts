import { defineFimFormat } from './fim-format.js';

/**
 * Code Llama 7B and 13B, base and instruct (the models Meta trained for infilling).
 *
 * The leading-space quirk: the vocabulary's sentinels are the SentencePiece pieces `▁<PRE>`, `▁<SUF>`, `▁<MID>`,
 * `▁<EOT>` (ids 32007–32010), and Meta's reference encodes the prefix with SentencePiece's dummy-prefix space but the
 * suffix without it (`encode_infilling` = `encode('☺' + s)[2:]`). Decoded, the prompt is
 * `<PRE> {pre} <SUF>{suf} <MID>`: the space after `<PRE>` belongs to the prefix's first piece and the spaces before
 * `<SUF>` and `<MID>` belong to the sentinel pieces. So `prefix` renders as `' ' + prefix` (nothing when empty) and
 * every sentinel but the first renders with a leading space. For token-level use, map each special segment to the
 * `▁<…>` token id and tokenize text segments without a dummy prefix.
 *
 * Sources:
 * - meta-llama/codellama llama/generation.py `infilling_prompt_tokens` (PSM: `[bos, prefix_id] + encode(pre) +
 *   [suffix_id] + encode_infilling(suf) + [middle_id]`; `suffix_first`: `[bos, prefix_id, suffix_id] +
 *   encode_infilling(suf) + [middle_id] + encode(pre)`, "format as <PRE> <SUF>{suf} <MID> {pre}") and
 *   llama/tokenizer.py (`▁<PRE>` etc., `encode_infilling`).
 * - codellama/CodeLlama-7b-hf tokenizer_config.json (added tokens 32007–32010, `add_bos_token: true`).
 * - Same decoded template in TabbyML/registry-tabby meta/models.yaml and Ollama's docs/template.md
 *   (`<PRE> {{ .Prompt }} <SUF>{{ .Suffix }} <MID>`).
 */
export const codellamaFormat = defineFimFormat({
  family: 'codellama',
  displayName: 'Code Llama',
  covers: 'Code Llama 7B/13B base and instruct (34B/70B and the Python models were not trained for infilling)',
  tokens: {
    prefix: '▁<PRE>',
    suffix: '▁<SUF>',
    middle: '▁<MID>',
    endOfText: '▁<EOT>',
  },
  order: 'psm',
  orders: ['psm', 'spm-v2'],
  stop: ['<EOT>', '</s>', '<PRE>', '<SUF>', '<MID>'],
  bos: { token: '<s>', addedByTokenizer: true },
  signature: [
    ['▁<PRE>', '<PRE>'],
    ['▁<SUF>', '<SUF>'],
    ['▁<MID>', '<MID>'],
    ['▁<EOT>', '<EOT>'],
  ],
  sentencePiece: { spacedSentinels: true, prefixDummySpace: true },
  sources: [
    'meta-llama/codellama llama/generation.py (infilling_prompt_tokens) and llama/tokenizer.py (encode_infilling)',
    'codellama/CodeLlama-7b-hf tokenizer_config.json (▁<PRE> 32007, ▁<SUF> 32008, ▁<MID> 32009, ▁<EOT> 32010)',
    'TabbyML/registry-tabby meta/models.yaml; ollama docs/template.md (same decoded template)',
  ],
  notes: [
    'The vocabulary spells the sentinels ▁<PRE> etc.: whether a text prompt\'s " <SUF>" becomes the token depends on the ' +
      "server's tokenizer producing the piece ▁<SUF> after SentencePiece normalisation; llama.cpp matches special tokens " +
      'by exact text, so send it segments.',
    'Prefix renders as " " + prefix (SentencePiece dummy prefix); the suffix does not (encode_infilling).',
  ],
});
