export {
  parseSamples,
  readSamples,
  sampleProgram,
  type ReadSamplesOptions,
  type Sample,
  type SampleFormat,
} from './samples.js';
export { sanitize, sanitizeSamples, type SanitizeResult, type SanitizeStep } from './sanitize.js';
export {
  evaluateSamples,
  type EvaluateOptions,
  type EvaluateResult,
  type ExecutionRecord,
  type SampleResult,
} from './evaluate.js';
export {
  DEFAULT_GROUND_TRUTH_CACHE,
  evalPlusSolution,
  isEvalPlusTask,
  type EvalPlusGroundTruth,
  type EvalPlusOptions,
  type EvalPlusPhaseResult,
  type EvalPlusResult,
  type EvalPlusStatus,
} from './evalplus.js';
export {
  SAFIM_FAILURE_LABELS,
  safimLabel,
  safimMetrics,
  type SafimFailureLabel,
  type SafimLabel,
  type SafimLanguageScore,
  type SafimMetrics,
  type SafimSample,
  type SafimSampleResult,
} from './safim-metrics.js';
export {
  buildMetrics,
  evalPlusResultsJson,
  humanEvalResult,
  incompleteScoreNote,
  resultLines,
  resultsFileName,
  runTitle,
  writeEvalOutputs,
  type BuildMetricsOptions,
  type EvalMetrics,
  type TaskSubset,
} from './write-eval-outputs.js';
export {
  DEFAULT_SECURITY_NODE_MODULES,
  SECURITY_NODE_MODULES_ENV,
  assertSecurityDependencies,
  isSecurityTask,
  parseSecurityRun,
  securityDependencyProblems,
  securityNodeModules,
  securityRequest,
  type SecurityOutcome,
  type SecurityRequest,
  type SecurityRequestOptions,
  type SecurityRun,
  type SecurityTestResult,
  type SecurityTestStatus,
} from './security-tests.js';
export {
  formatSecurityScores,
  securityMetrics,
  securitySummaryLines,
  type SecurityMetrics,
  type SecurityScores,
} from './security-metrics.js';
export {
  securitySelfCheck,
  securitySelfCheckLines,
  type SecuritySelfCheckEntry,
  type SecuritySelfCheckResult,
} from './security-self-check.js';
export { claimRunFolder, samplesDigest, type RunIdentity } from './run-identity.js';
