import { availableParallelism } from 'node:os';
import { UsageError } from '../core/index.js';
import type { TestResult } from '../sandbox/index.js';
import { runCallsTests } from './calls-tests.js';
import { completionCode } from './completion.js';
import { runFunctionTests, type FunctionTestsOptions, type FunctionTestsOutcome } from './function-tests.js';
import { normalizeRow } from './rows.js';
import { runStdioTests } from './stdio-tests.js';
import {
  REWARD_MODES,
  type NormalizedRow,
  type RewardItem,
  type RewardMode,
  type RewardResult,
  type RewardVerdict,
  type ScoreOptions,
} from './types.js';

const DEFAULT_PER_TEST_MS = { function: 2_000, stdio: 3_000 } as const;
/** Weighted mode: reward of a completion with no code, and of one that does not compile. */
export const NO_CODE_PENALTY = -1;
export const COMPILE_ERROR_PENALTY = -0.5;

/** The reward for a verdict and pass rate (see RewardMode); null for infra errors and flaky items. */
export function rewardOf(mode: RewardMode, verdict: RewardVerdict, passRate: number | null): number | null {
  if (verdict === 'infra-error' || verdict === 'flaky' || passRate === null) return null;
  if (mode === 'binary') return verdict === 'passed' ? 1 : 0;
  if (mode === 'weighted') {
    if (verdict === 'no-code') return NO_CODE_PENALTY;
    if (verdict === 'compile-error') return COMPILE_ERROR_PENALTY;
  }
  return passRate;
}

function checkOptions(options: ScoreOptions): void {
  const { mode = 'fraction', perTestMs, rerun = 0 } = options;
  if (!REWARD_MODES.includes(mode))
    throw new UsageError(`mode ${JSON.stringify(mode)} is not a reward mode: use one of ${REWARD_MODES.join(', ')}.`);
  if (perTestMs !== undefined && (!Number.isInteger(perTestMs) || perTestMs < 10 || perTestMs > 60_000))
    throw new UsageError(`perTestMs=${perTestMs} must be a whole number of ms from 10 to 60000.`);
  if (!Number.isInteger(rerun) || rerun < 0 || rerun > 10)
    throw new UsageError(`rerun=${rerun} must be a whole number from 0 to 10.`);
  const { programBudgetMs } = options;
  if (programBudgetMs !== undefined && (!Number.isInteger(programBudgetMs) || programBudgetMs < 100))
    throw new UsageError(`programBudgetMs=${programBudgetMs} must be a whole number of ms ≥ 100.`);
}

function shuffler(seed: number): (ids: string[]) => string[] {
  let state = seed >>> 0 || 1;
  const next = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
  return (ids) => {
    const copy = [...ids];
    for (let index = copy.length - 1; index > 0; index--) {
      const other = Math.floor(next() * (index + 1));
      [copy[index], copy[other]] = [copy[other]!, copy[index]!];
    }
    // A rerun must change the order when it can: rotate a shuffle that came back unchanged.
    if (copy.length > 1 && copy.every((id, index) => id === ids[index])) copy.push(copy.shift()!);
    return copy;
  };
}

async function runOnce(
  options: ScoreOptions,
  row: NormalizedRow,
  code: string,
  shuffle: ((ids: string[]) => string[]) | undefined,
): Promise<FunctionTestsOutcome> {
  const { executor, memoryMiB, signal } = options;
  const perTestMs =
    options.perTestMs ?? (row.kind === 'stdio' ? DEFAULT_PER_TEST_MS.stdio : DEFAULT_PER_TEST_MS.function);
  const runOptions: FunctionTestsOptions = {
    perTestMs,
    ...(memoryMiB === undefined ? {} : { memoryMiB }),
    ...(shuffle ? { shuffle } : {}),
    ...(signal ? { signal } : {}),
    ...(options.programBudgetMs === undefined
      ? {}
      : { budget: { totalMs: options.programBudgetMs, leftMs: options.programBudgetMs } }),
  };
  if (row.language === 'typescript' && (options.typeCheck ?? row.typeCheck)) {
    // Type-check only: the 10 ms wall limit stops the program before it runs anything of note.
    const checked = await executor.run(
      { language: 'typescript', code, typeCheck: true, limits: { wallMs: 10 } },
      signal ? { signal } : {},
    );
    if (checked.verdict === 'compile-error') {
      const exception = {
        type: 'TypeScriptError',
        message: (checked.stderr || checked.reason).trim().split('\n')[0]!.slice(0, 300),
      };
      return {
        tests: [],
        load: 'compile-error',
        loadException: exception,
        infraError: false,
        reason: exception.message,
      };
    }
    if (checked.verdict === 'infra-error')
      return { tests: [], load: 'passed', infraError: true, reason: checked.reason };
  }
  if (row.kind === 'stdio') return runStdioTests(executor, row, code, runOptions);
  if (row.kind === 'calls') return runCallsTests(executor, row, code, runOptions);
  return runFunctionTests(executor, row, code, runOptions);
}

interface Judged {
  verdict: RewardVerdict;
  passRate: number | null;
  tests: TestResult[];
  infraError: boolean;
  reason: string;
}

function judge(outcome: FunctionTestsOutcome, testCount: number): Judged {
  if (outcome.infraError)
    return { verdict: 'infra-error', passRate: null, tests: outcome.tests, infraError: true, reason: outcome.reason };
  const tests = outcome.tests;
  const total = Math.max(testCount, tests.length);
  const passed = tests.filter((test) => test.status === 'passed').length;
  const passRate = total === 0 ? 0 : passed / total;
  const failing = tests.find((test) => test.status !== 'passed');
  if (outcome.load === 'compile-error' || tests.some((test) => test.status === 'compile-error'))
    return {
      verdict: 'compile-error',
      passRate: 0,
      tests,
      infraError: false,
      reason: `does not compile: ${outcome.loadException?.message ?? failing?.exception?.message ?? ''}`,
    };
  if (total > 0 && passed === total && tests.length === total)
    return { verdict: 'passed', passRate: 1, tests, infraError: false, reason: `all ${total} tests passed` };
  const timedOut = tests.some((test) => test.status === 'timed-out');
  const why =
    outcome.reason ||
    (failing
      ? `${failing.id} ${failing.status}${failing.exception ? `: ${failing.exception.type} ${failing.exception.message}` : ''}`
      : 'no test ran');
  return {
    verdict: timedOut ? 'timed-out' : 'failed',
    passRate,
    tests,
    infraError: false,
    reason: `${passed}/${total} tests passed; ${why}`.split('\n')[0]!.slice(0, 500),
  };
}

/** Scores one (row, completion). Never throws for anything the completion does; a bad row throws RowError. */
export async function scoreItem(item: RewardItem, options: ScoreOptions): Promise<RewardResult> {
  checkOptions(options);
  const started = performance.now();
  const mode = options.mode ?? 'fraction';
  const row = normalizeRow(item.row);
  const { code, formatReward, noCode } = completionCode(row, item.completion);
  const finish = (judged: Judged): RewardResult => ({
    reward: rewardOf(mode, judged.verdict, judged.passRate),
    passRate: judged.passRate,
    verdict: judged.verdict,
    tests: judged.tests,
    infraError: judged.infraError,
    reason: judged.reason,
    formatReward,
    durationMs: Math.round(performance.now() - started),
  });
  if (noCode)
    return finish({
      verdict: 'no-code',
      passRate: 0,
      tests: [],
      infraError: false,
      reason: 'the completion holds no code',
    });
  const testCount = row.kind === 'function-tests' ? 0 : row.cases.length;
  // An infra error is retried once (the executor has already replaced a worker that died) before it is reported.
  let outcome = await runOnce(options, row, code, undefined);
  if (outcome.infraError) outcome = await runOnce(options, row, code, undefined);
  const first = judge(outcome, testCount);
  if (first.infraError || !options.rerun) return finish(first);
  for (let attempt = 1; attempt <= options.rerun; attempt++) {
    let again = await runOnce(options, row, code, shuffler(attempt * 7919));
    if (again.infraError) again = await runOnce(options, row, code, shuffler(attempt * 7919));
    const judged = judge(again, testCount);
    if (judged.infraError) return finish(judged);
    if (judged.verdict !== first.verdict || judged.passRate !== first.passRate)
      return finish({
        ...first,
        verdict: 'flaky',
        passRate: null,
        reason: `flaky: ${first.verdict} (${first.passRate}) first, ${judged.verdict} (${judged.passRate}) with the tests in another order`,
      });
  }
  return finish(first);
}

/**
 * Scores a batch of (row, completion) pairs; results come back in input order. Items run concurrently (default: the
 * executor's concurrency). A row that matches no format throws RowError naming the item's index before anything
 * runs: a caller's mistake is not scored.
 */
export async function scoreBatch(items: readonly RewardItem[], options: ScoreOptions): Promise<RewardResult[]> {
  checkOptions(options);
  items.forEach((item, index) => {
    try {
      normalizeRow(item.row);
    } catch (error) {
      (error as Error).message = `item ${index}: row: ${(error as Error).message}`;
      throw error;
    }
  });
  const width =
    options.concurrency ?? (options.executor as { concurrency?: number }).concurrency ?? availableParallelism();
  const results: RewardResult[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(width, items.length)) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await scoreItem(items[index]!, options);
      }
    }),
  );
  return results;
}
