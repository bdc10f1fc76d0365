import { defineFimFormat } from './fim-format.js';

/**
 * Codestral (Mistral). Suffix first and no middle sentinel: mistral-common's `InstructTokenizerV2.encode_fim` builds
 * `[BOS, [SUFFIX], *encode_infilling(suffix), [PREFIX], *encode(prompt)]`. With the SentencePiece v3 tokenizer of
 * Codestral-22B-v0.1 the prefix gets the dummy-prefix space and the suffix does not, so the decoded prompt is
 * `[SUFFIX]{suffix}[PREFIX] {prefix}` (mistral-common's own test: `<s>[SUFFIX]return▁a▁+▁b[PREFIX]▁def▁f(`).
 *
 * Sources:
 * - mistralai/mistral-common src/mistral_common/tokens/tokenizers/sentencepiece.py (`encode_fim`, `_encode_infilling`,
 *   `SpecialTokens.prefix/middle/suffix` = `[PREFIX]`/`[MIDDLE]`/`[SUFFIX]`) and its tests.
 * - mistralai/cookbook concept-deep-dive/tokenization/chat_templates.md (`<s>[SUFFIX]suffix[PREFIX] prefix`).
 * - Ollama docs/template.md (`[SUFFIX]{{ .Suffix }}[PREFIX] {{ .Prompt }}`).
 */
export const codestralFormat = defineFimFormat({
  family: 'codestral',
  displayName: 'Codestral',
  covers: 'Codestral-22B-v0.1 (Mistral tokenizer v3 with [PREFIX]/[SUFFIX] control tokens)',
  tokens: {
    prefix: '[PREFIX]',
    suffix: '[SUFFIX]',
    endOfText: '</s>',
  },
  order: 'spm',
  orders: ['spm'],
  stop: ['</s>', '[PREFIX]', '[SUFFIX]', '[MIDDLE]'],
  bos: { token: '<s>', addedByTokenizer: true },
  signature: ['[PREFIX]', '[SUFFIX]', '</s>'],
  sentencePiece: { spacedSentinels: false, prefixDummySpace: true },
  sources: [
    'mistralai/mistral-common tokens/tokenizers/sentencepiece.py (InstructTokenizerV2.encode_fim) and tests/test_tokenize_fim',
    'mistralai/cookbook concept-deep-dive/tokenization/chat_templates.md (FIM line for tokenizer V2/V3)',
    'ollama docs/template.md (Codestral fill-in-middle template)',
  ],
  notes: [
    'The reference prompt ends after the prefix; the vocabulary has [MIDDLE] but encode_fim does not use it.',
    'Prefix renders as " " + prefix (dummy-prefix space of the v3 SentencePiece tokenizer). Tekken-tokenized Mistral models add no such space.',
    "Mistral's API serves FIM as POST /v1/fim/completions {prompt, suffix}; prefer it over a rendered prompt there.",
  ],
});
