export {
  EXPORT_FORMATS,
  exportRun,
  exportSource,
  isExportFormat,
  type ExportFormat,
  type ExportResult,
  type ExportRunOptions,
} from './export-run.js';
export { DEFAULT_PAIR_RULE, preferencePairs, type PairRule, type PreferencePair } from './preference-pairs.js';
export { readExportSource } from './read-export-source.js';
export { readEvalSource, type ReadEvalSourceOptions } from './read-eval-source.js';
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
