export {
  buildProgram,
  fillTemplate,
  firstFencedBlock,
  securityTaskFile,
  type SecurityTests,
  type PlusInputs,
  type ProgramLayout,
  type ProgramTemplate,
  type SourceLanguage,
  type Task,
  type TaskHarness,
  type TaskLanguage,
  type TaskLimits,
} from './task.js';
export {
  DATASETS,
  DATASET_NAMES,
  isDatasetName,
  type DatasetFileSpec,
  type DatasetName,
  type DatasetSpec,
  type LoadedDataset,
  type OmittedRecords,
} from './datasets.js';
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
export { canonicalDatasetName, loadDataset } from './load-dataset.js';
export { HUMAN_EVAL_STOP_SEQUENCES, loadHumanEval } from './humaneval.js';
export { EVALPLUS_HUMANEVAL_STOP_SEQUENCES, loadHumanEvalPlus, loadHumanEvalPlusOriginFmt } from './humaneval-plus.js';
export { MBPP_STOP_SEQUENCES, loadMbpp, loadMbppSanitized, type MbppOptions, type MbppSplit } from './mbpp.js';
export { EVALPLUS_MBPP_STOP_SEQUENCES, loadMbppPlus, loadMbppPlusOriginFmt } from './mbpp-plus.js';
export { loadKnownUnsolvable, loadMultiplE, type MultiplEDatasetName } from './multipl-e.js';
export { loadHumanEvalInfilling, type HumanEvalInfillingDatasetName } from './humaneval-infilling.js';
export { loadUserJsonl, type UserTaskRecord } from './user-jsonl.js';
export { loadExamples } from './examples.js';
export { CWEVAL_TEST_TIMEOUT_SECONDS, CWEVAL_VACUOUS_TASKS, loadCweval, type CwevalDatasetName } from './cweval.js';
export {
  IO_TESTS_ERROR_PREFIX,
  IO_TESTS_RESULT_PREFIX,
  ioTestsProgram,
  ioTestsWallMs,
  parseIoTestsResult,
  type IoTestCase,
  type IoTestOutcome,
  type IoTestsResult,
  type IoTestSuite,
} from './io-tests-program.js';
export { SYNTAX_MATCH_RESULT_PREFIX, syntaxMatchProgram, type SyntaxMatchInput } from './syntax-match-program.js';
export {
  SAFIM_DATASET_NAMES,
  SAFIM_EVAL_PLACEHOLDER,
  SAFIM_KNOWN_BROKEN,
  SAFIM_LANGUAGES,
  SAFIM_PROMPT_PLACEHOLDERS,
  SAFIM_TEST_TIMEOUT_MS,
  loadSafim,
  postProcessSafimCompletion,
  safimCategory,
  type SafimCategory,
  type SafimDatasetName,
  type SafimLanguage,
  type SafimOptions,
} from './safim.js';
export { parseIdRanges, selectTasks, type SelectTasksResult, type TaskSelection } from './select-tasks.js';
export { codeBlocks, type CodeBlock, type CodeBlocksResult } from './code-blocks.js';
export {
  definesEntryPoint,
  extractCode,
  solutionFromAnswer,
  withoutMainBlock,
  type PromptStyle,
} from './extract-code.js';
