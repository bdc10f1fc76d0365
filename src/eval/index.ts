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
  chatMessages,
  generateSamples,
  type GeneratedSample,
  type GenerateSamplesOptions,
  type GenerateSamplesResult,
} from './generate.js';
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
  resultLines,
  resultsFileName,
  writeEvalOutputs,
  type BuildMetricsOptions,
  type EvalMetrics,
} from './report.js';
/** codeloop's version (package.json), for callers that describe a run. */
export { codeloopVersion } from '../core/index.js';
export {
  readRunFolder,
  type RunExecution,
  type RunFolder,
  type RunMetrics,
  type RunResultLine,
} from './read-run-folder.js';
export {
  loadRunDataset,
  reportRun,
  taskOutcome,
  type LoadRunDatasetOptions,
  type ReportRun,
  type ReportRunOptions,
  type ReportSample,
  type ReportTask,
  type TaskOutcome,
} from './report-run.js';
export { compareRuns, type FlipDirection, type RunComparison, type TaskFlip } from './compare-runs.js';
export {
  escapeHtml,
  renderReportHtml,
  reportPageData,
  scriptSafeJson,
  type RenderReportOptions,
  type ReportPageData,
  type ReportPageTask,
} from './report-html.js';
