export type {
  ExecutionLimits,
  ExecutionRequest,
  ExecutionResult,
  Harness,
  IsolationLevel,
  Language,
  Verdict,
} from './types.js';
export { LANGUAGES } from './types.js';
export { DEFAULT_LIMITS, resolveLimits } from './limits.js';
export {
  createExecutor,
  SandboxUnavailableError,
  type Executor,
  type ExecutorOptions,
  type RunOptions,
} from './executor.js';
export {
  probeIsolation,
  sandboxPythonVersion,
  seccompOptionsFor,
  type IsolationCheck,
  type IsolationReport,
} from './probe.js';
export { describeSeccompPolicy } from './seccomp.js';
export { pinnedTypeScript, transpileTypeScript } from './program.js';
export {
  collectResults,
  DEFAULT_PER_TEST_MS,
  planJavaScriptSteps,
  runTests,
  type RunTestsOptions,
  type TestException,
  type TestForm,
  type TestOrigin,
  type TestResult,
  type TestRunResult,
  type TestSource,
  type TestStatus,
} from './run-tests.js';
