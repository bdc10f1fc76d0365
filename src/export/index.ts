export {
  EXPORT_FORMATS,
  exportSource,
  isExportFormat,
  type ExportFormat,
  type ExportOptions,
  type ExportResult,
} from './export-run.js';
export { DEFAULT_PAIR_RULE, preferencePairs, type PairRule, type PreferencePair } from './preference-pairs.js';
export { runFolderKind } from './run-folder-kind.js';
export { evalSource, type EvalRunSamples } from './eval-source.js';
export { readRewardsSource } from './read-rewards-source.js';
export { readSolveSource } from './read-solve-source.js';
export { promptKey, type ExportPrompt, type ExportSource, type ExportTask, type ScoredCompletion } from './records.js';
export {
  dpoRows,
  grpoRows,
  ktoRows,
  openrlhfRows,
  sftRows,
  VERL_DATA_SOURCE,
  verlRows,
  type VerlRow,
} from './training-rows.js';
export { verlParquet } from './verl-parquet.js';
