export {
  solve,
  type GeneratedTestStats,
  type Pricing,
  type SolveBudget,
  type SolveOptions,
  type SolveModelError,
  type SolveResult,
  type StopReason,
} from './solve.js';
export {
  evaluateStrategy,
  passAtTokens,
  type EvaluateStrategyOptions,
  type PassAtTokensPoint,
  type RunSummary,
  type StrategyEvaluation,
} from './evaluate-strategy.js';
export { resolveStrategy, sampleTemperature, STRATEGY_NAMES, type Strategy, type StrategyName } from './strategy.js';
export {
  commandSolveTask,
  judgeSolution,
  loadSolveTaskFile,
  parseSolveTaskFile,
  publicTestsFromPrompt,
  referenceProgram,
  referenceSolution,
  solveTaskFromDataset,
  type CommandSpec,
  type Judgement,
  type SolveTask,
} from './solve-task.js';
export {
  DEFAULT_PER_TEST_MS,
  runTests,
  type RunTestsOptions,
  type TestException,
  type TestForm,
  type TestOrigin,
  type TestResult,
  type TestRunResult,
  type TestSource,
  type TestStatus,
} from '../sandbox/index.js';
export {
  DEFAULT_FEEDBACK_TEMPLATE,
  FEEDBACK_TEMPLATES,
  feedbackTemplate,
  feedbackTemplateFor,
  renderFeedback,
  type FeedbackInput,
  type FeedbackMode,
  type FeedbackTemplate,
} from './feedback.js';
export {
  codetPassAtK,
  rankByDualAgreement,
  type AgreementCluster,
  type ClusterScoring,
  type DualAgreementInput,
  type RankedTask,
} from './codet.js';
export { createAttemptLog, type AttemptLog, type AttemptRecord, type ReproMetadata } from './attempt-record.js';
export {
  chatMessages,
  generateSamples,
  type GeneratedSample,
  type GenerateSamplesOptions,
  type GenerateSamplesResult,
} from './generate-samples.js';
