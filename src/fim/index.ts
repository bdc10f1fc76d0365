export {
  createCompletionEngine,
  type CompletionEngine,
  type CompletionEngineOptions,
  type CompletionEngineStats,
  type CompletionFinishReason,
  type CompletionRequest,
  type CompletionResult,
} from './completion-engine.js';
export { CompletionCache, type CacheHit, type CachedCompletion } from './completion-cache.js';
export {
  completionSite,
  decideCompletionMode,
  detectIndentUnit,
  MID_LINE_OK,
  type CompletionMode,
  type CompletionSite,
  type ModeDecision,
} from './completion-mode.js';
export {
  cleanModelText,
  guardRepetition,
  normalizeIndentation,
  POST_PROCESS_RULES,
  postProcessText,
  truncateAtStops,
  type PostProcessInput,
  type PostProcessRule,
  type TextStep,
} from './post-process.js';
export { insertOnlyText, mergeSuffixOverlap, sameLineEdit, type SuffixMerge } from './suffix-merge.js';
export { checkCompletionSyntax, type SyntaxCheckResult } from './syntax-check.js';
export {
  completionHole,
  completionMiddle,
  generateCompletionSamples,
  normalizeWhitespace,
  type CompletionHole,
  type CompletionSampleRecord,
  type GenerateCompletionSamplesOptions,
  type GenerateCompletionSamplesResult,
} from './quality-samples.js';
export {
  completionQualityMetrics,
  readCompletionSamples,
  summarizeLatency,
  type CompletionQualityMetrics,
  type LatencySummary,
} from './quality-metrics.js';
export { modelFimFormat, type ModelFimFormatResult } from './model-fim-format.js';
