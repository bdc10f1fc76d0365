export {
  defineFimFormat,
  type FimBos,
  type FimContextFile,
  type FimFamily,
  type FimFormat,
  type FimFormatSpec,
  type FimOrder,
  type FimPromptSegment,
  type FimRenderInput,
  type FimRenderResult,
  type FimRepoLayout,
  type FimTokens,
  type SentencePieceQuirks,
} from './fim-format.js';
export { FIM_FAMILIES, FIM_FORMATS, getFimFormat, isFimFamily } from './fim-formats.js';
export { EMBEDDED_FIM_TOKENS, EMBEDDED_SPECIAL_TOKENS, codeloopEmbeddedFormat } from './codeloop-embedded.js';
export {
  detectFimFormat,
  type DetectFimFormatOptions,
  type DetectFimFormatResult,
  type FimTokenInfo,
} from './detect-fim-format.js';
export { checkSentinels, type CheckSentinelsResult } from './check-sentinels.js';
export { FimFormatError, type FimFormatErrorCode } from './fim-format-error.js';
