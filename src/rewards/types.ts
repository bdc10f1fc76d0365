import type { Executor, Language, TestResult, TestSource } from '../sandbox/index.js';

/**
 * What a completion came to. `infra-error`: the sandbox broke (twice), nothing is known about the program, reward null.
 * `flaky`: reruns with the tests in another order gave another verdict, reward null.
 */
export type RewardVerdict = 'passed' | 'failed' | 'timed-out' | 'compile-error' | 'no-code' | 'infra-error' | 'flaky';

/**
 * How `reward` is computed from the tests.
 * - `binary`: 1 when every test of the row passed, else 0.
 * - `fraction`: tests passed / tests of the row (Open-R1's `code_reward`).
 * - `weighted`: the fraction, with penalties for a completion that holds no code (-1) or does not compile (-0.5).
 */
export type RewardMode = 'binary' | 'fraction' | 'weighted';

export const REWARD_MODES: readonly RewardMode[] = ['binary', 'fraction', 'weighted'];

/** One completion's score; the wire form (`rewardResultJson`) is this in snake_case. */
export interface RewardResult {
  /** null ONLY when the sandbox failed (`infraError`) or the item is flaky; never 0 for those. */
  reward: number | null;
  /** Tests passed / tests of the row; null when unknown (infra error, flaky). */
  passRate: number | null;
  verdict: RewardVerdict;
  /** One record per test of the row, in the row's order. */
  tests: TestResult[];
  infraError: boolean;
  /** One line saying why. */
  reason: string;
  /** 1 when the completion held code in the form the row expects (a fenced block, or a continuation), else 0. */
  formatReward: number;
  /** Wall time spent on this completion, ms. */
  durationMs: number;
}

/** A row after detection: what runs, whatever format it came in. */
export type NormalizedRow = StdioRow | CallsRow | FunctionTestsRow;

interface RowBase {
  /** The format it was detected as, for messages and reports. */
  format: 'open-r1' | 'verl' | 'function-tests' | 'mbpp' | 'codeloop-task';
  language: Language;
  /** Code the completion continues (function tests); '' when the prompt is prose or absent. */
  prompt: string;
  /** Name of the function under test, when the row has one. */
  entryPoint: string;
  /** TypeScript: type-check the solution with the pinned tsc first. */
  typeCheck: boolean;
}

/** stdin/stdout cases: the program runs once per case; its stdout is compared on the host. */
export interface StdioRow extends RowBase {
  kind: 'stdio';
  cases: { input: string; outputs: string[] }[];
}

/** Calls with data arguments (verl `{inputs, outputs, fn_name}`): results compared on the host. */
export interface CallsRow extends RowBase {
  kind: 'calls';
  /** JSON arguments per case (each a list), and the JSON expected value. */
  cases: { args: unknown[]; expected: unknown }[];
}

/** Test code (HumanEval check function, MBPP asserts, MultiPL-E tests, verl assert_case). */
export interface FunctionTestsRow extends RowBase {
  kind: 'function-tests';
  sources: TestSource[];
}

export interface ScoreOptions {
  /** The sandbox to run in (createExecutor(), or anything with the same run()/isolation). */
  executor: Pick<Executor, 'run' | 'isolation'>;
  /** Default `fraction`. */
  mode?: RewardMode;
  /**
   * Time limit of one test (function tests: all the calls a test makes; stdin/stdout: one run of the program), ms.
   * Default 2000 (function tests) and 3000 (stdin/stdout, which includes the interpreter's start).
   */
  perTestMs?: number;
  /** Memory limit of each execution, MiB. Default: the sandbox's (1024). */
  memoryMiB?: number;
  /**
   * Run each item this many more times with its tests in another order; an item whose verdict changes is `flaky`
   * (reward null). Default 0.
   */
  rerun?: number;
  /**
   * Wall-clock time the candidate's programs may take in all for one scoring of an item (each rerun has its own), ms.
   * Programs past it are cut short and their tests are `timed-out` (reward 0: a slow program is a result). Without it
   * (the default) only the per-test and per-execution limits apply. The service sets it below its item time limit,
   * so that an item whose many tests each run near their limit gets 0 instead of null (docs/rewards.md).
   */
  programBudgetMs?: number;
  /** Items scored at once. Default: the executor's concurrency, else 4. */
  concurrency?: number;
  /** TypeScript rows: type-check the solution (MultiPL-E's rule). Default true. */
  typeCheck?: boolean;
  signal?: AbortSignal;
}

/** One (row, completion) pair. `completion` is raw model text, or chat messages (the last assistant message counts). */
export interface RewardItem {
  row: unknown;
  completion: string | readonly { role: string; content: string }[];
}
