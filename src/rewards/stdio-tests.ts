import type { Executor, TestResult, TestStatus } from '../sandbox/index.js';
import {
  budgetException,
  budgetSpent,
  spend,
  withinBudget,
  type FunctionTestsOptions,
  type FunctionTestsOutcome,
} from './function-tests.js';
import type { StdioRow } from './types.js';

/** Start-up of the interpreter on top of the per-test limit (ms): Node takes longer to start than Python. */
const STARTUP_MS = { python: 1_000, javascript: 2_000, typescript: 2_000 } as const;
/** Cases of one item run at once when it has a time budget. */
const BUDGET_LANES = 4;

/**
 * Lines as judged: trailing whitespace of each line and trailing blank lines do not count (Open-R1 strips each line
 * too; unlike its zip-based check, a missing or extra line here is a wrong answer).
 */
export function outputLines(text: string): string[] {
  const lines = text
    .replace(/\r\n/g, '\n')
    .split('\n')
    .map((line) => line.trimEnd());
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function sameOutput(actual: string, expected: string): boolean {
  const a = outputLines(actual);
  const b = outputLines(expected);
  return a.length === b.length && a.every((line, index) => line === b[index]);
}

const short = (text: string): string => (text.length <= 300 ? text : `${text.slice(0, 300)}…`);

/**
 * stdin/stdout rows: one execution of the program per case, the case's input on stdin; the host compares the
 * program's stdout with the expected output. The expected output never enters the sandbox, and each case runs in a
 * fresh process, so the only way to pass a case is to print its answer. A non-zero exit is a failed case.
 */
export async function runStdioTests(
  executor: Pick<Executor, 'run'>,
  row: StdioRow,
  code: string,
  options: FunctionTestsOptions,
): Promise<FunctionTestsOutcome> {
  const ids = row.cases.map((_, index) => `case/${index}`);
  const order = options.shuffle ? options.shuffle(ids) : ids;
  const maxExpected = Math.max(0, ...row.cases.flatMap((testCase) => testCase.outputs.map((output) => output.length)));
  const limits = {
    wallMs: options.perTestMs + STARTUP_MS[row.language],
    outputBytes: Math.max(64 * 1024, 2 * maxExpected + 4096),
    ...(options.memoryMiB === undefined ? {} : { memoryMiB: options.memoryMiB }),
  };
  const results = new Map<string, TestResult>();
  let infra: string | null = null;
  let compileError: { type: string; message: string } | null = null;
  const { budget } = options;
  const runCase = async (id: string): Promise<void> => {
    const index = Number(id.slice('case/'.length));
    const testCase = row.cases[index]!;
    const base = { id, origin: 'hidden' as const, assertion: short(`stdin: ${JSON.stringify(testCase.input)}`) };
    if (budgetSpent(budget)) {
      results.set(id, { ...base, status: 'timed-out', exception: budgetException(budget!) });
      return;
    }
    const execution = await executor.run(
      {
        language: row.language,
        code,
        stdin: testCase.input,
        limits: { ...limits, wallMs: withinBudget(limits.wallMs, budget) },
      },
      options.signal ? { signal: options.signal } : {},
    );
    spend(budget, execution);
    const exception = { type: execution.exception ?? 'ProcessEnded', message: short(execution.reason) };
    let status: TestStatus;
    switch (execution.verdict) {
      case 'infra-error':
        infra = execution.reason;
        return;
      case 'compile-error':
        compileError = { type: 'SyntaxError', message: short(execution.reason) };
        results.set(id, { ...base, status: 'compile-error', exception: compileError });
        return;
      case 'timed-out':
      case 'memory-exceeded':
        results.set(id, { ...base, status: execution.verdict, exception, durationMs: execution.durationMs });
        return;
      case 'passed':
        status = testCase.outputs.some((output) => sameOutput(execution.stdout, output)) ? 'passed' : 'failed';
        results.set(id, {
          ...base,
          status,
          durationMs: execution.durationMs,
          actual: short(execution.stdout),
          ...(status === 'failed'
            ? {
                expected: short(testCase.outputs[0] ?? ''),
                exception: { type: 'WrongAnswer', message: 'wrong output' },
              }
            : {}),
        });
        return;
      default:
        results.set(id, { ...base, status: 'error', exception, durationMs: execution.durationMs });
    }
  };
  // Without a budget every case is queued at once (the executor runs as many as it has workers for). With one, a few
  // lanes take the cases in turn, so that the budget is checked when a case starts, not when all were queued.
  if (budget === undefined) await Promise.all(order.map(runCase));
  else {
    const queue = [...order];
    const lane = async (): Promise<void> => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) await runCase(id);
    };
    await Promise.all(Array.from({ length: Math.min(BUDGET_LANES, queue.length) }, lane));
  }
  if (infra !== null) return { tests: [], load: 'passed', infraError: true, reason: `sandbox failure: ${infra}` };
  return {
    tests: ids.map((id) => results.get(id)!),
    load: compileError ? 'compile-error' : 'passed',
    ...(compileError ? { loadException: compileError } : {}),
    infraError: false,
    reason: '',
  };
}
