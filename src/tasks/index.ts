export { buildProgram, type PlusInputs, type ProgramLayout, type Task, type TaskHarness, type TaskLanguage, type TaskLimits } from './task.js';
export { DATASETS, DATASET_NAMES, isDatasetName, type DatasetFileSpec, type DatasetName, type DatasetSpec, type LoadedDataset } from './datasets.js';
export {
  DATA_DIR_ENV,
  DEFAULT_CACHE_DIR,
  DatasetChecksumError,
  DatasetDownloadError,
  downloadDataset,
  readDatasetFile,
  resolveDataDir,
  type DataDirOptions,
  type DatasetFileContents,
  type DownloadOptions,
  type LoadDatasetOptions,
} from './data-dir.js';
export { loadDataset } from './load-dataset.js';
export { HUMAN_EVAL_STOP_SEQUENCES, loadHumanEval } from './humaneval.js';
export { EVALPLUS_HUMANEVAL_STOP_SEQUENCES, loadHumanEvalPlus, loadHumanEvalPlusOriginFmt } from './humaneval-plus.js';
export { MBPP_STOP_SEQUENCES, loadMbpp, loadMbppSanitized, type MbppOptions, type MbppSplit } from './mbpp.js';
export { EVALPLUS_MBPP_STOP_SEQUENCES, loadMbppPlus, loadMbppPlusOriginFmt } from './mbpp-plus.js';
export { loadKnownUnsolvable, loadMultiplE, type MultiplEDatasetName } from './multipl-e.js';
export { loadHumanEvalInfilling, type HumanEvalInfillingDatasetName } from './humaneval-infilling.js';
export { loadUserJsonl, type UserTaskRecord } from './user-jsonl.js';
export { loadExamples } from './examples.js';
