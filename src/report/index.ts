/**
 * report: what is done with an eval run's folder after scoring. Reads it back (results file, metrics.json, journal),
 * joins it with its dataset, renders the HTML report and compares two runs. Layer 3: it reads eval's output formats
 * through eval's index and never scores or generates anything.
 */
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
export { compareRuns, type FlipChange, type FlipDirection, type RunComparison, type TaskFlip } from './compare-runs.js';
export {
  escapeHtml,
  PROGRAMS_UNAVAILABLE_META,
  renderReportHtml,
  reportPageData,
  scriptSafeJson,
  type RenderReportOptions,
  type ReportPageData,
  type ReportPageTask,
} from './report-html.js';
