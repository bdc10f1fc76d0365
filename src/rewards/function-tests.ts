import { createHash, randomBytes } from 'node:crypto';
import {
  planJavaScriptSteps,
  transpileTypeScript,
  type ExecutionRequest,
  type ExecutionResult,
  type Executor,
  type Language,
  type TestResult,
  type TestStatus,
} from '../sandbox/index.js';
import { runtimeSource } from './runtime-files.js';
import { checkTagged } from './tagged.js';
import type { FunctionTestsRow } from './types.js';

/**
 * Function tests that the candidate cannot game. The tests and the candidate never share a process:
 * 1. a TRUSTED execution (runtime/trusted-tests.*, no code of the candidate) runs the row's tests with the functions
 *    under test replaced by proxies; a call it has no result for is recorded (name and arguments) instead;
 * 2. an UNTRUSTED execution (runtime/call-solution.*) loads the solution and makes exactly those calls, writing what
 *    each returned as tagged data (it never sees a test, an expected value or the trusted side's output);
 * 3. the trusted execution runs again, answering each call with the candidate's value rebuilt from builtin types,
 *    and reports every test. Steps 2-3 repeat (at most MAX_ROUNDS) for tests whose later calls depend on earlier
 *    results. Step 1 depends only on the row and is cached.
 * Whatever the candidate does (exit early, patch assert or __eq__, print result lines, read files, fork, catch the
 * time-out) it can only change the values its own calls return. A test without a verdict from the trusted side is not
 * passed. See docs/rewards.md.
 */

/** Untrusted call runs per item at most (tests that feed a result back into the next call need one per level). */
const MAX_ROUNDS = 3;
/** Interpreter start-up and JSON on top of the tests' own limits (ms). */
const OVERHEAD_MS = 3_000;
const MAX_EXECUTION_MS = 120_000;
const OUTPUT_BYTES = 4 * 1024 * 1024;
const LOAD_MS = 5_000;
const RECORD_CACHE_SIZE = 512;
/** A test's calls at most, as the trusted runtimes list them. */
const MAX_CALLS_PER_TEST = 10_000;

export interface CallRequest {
  fn: string;
  args: unknown;
  kwargs: unknown;
}
export type CallOutcome =
  | { ok: unknown; argsAfter?: unknown[] }
  | { error: { type: string; message: string } }
  | { timeout: true }
  | { missing: true };
interface CallRecord extends CallRequest {
  outcome: CallOutcome;
}

interface PlannedTest {
  id: string;
  origin: TestResult['origin'];
  assertion: string;
}

interface TrustedLine {
  type: 'plan' | 'test' | 'done';
  tests?: PlannedTest[];
  proxies?: string[];
  id?: string;
  status?: TestStatus | 'needs-calls';
  calls?: CallRequest[];
  expected?: string;
  actual?: string;
  exception?: { type: string; message: string };
  traceback?: string;
  durationMs?: number;
}

interface TrustedRun {
  plan: PlannedTest[];
  records: Map<string, TrustedLine>;
  done: boolean;
  execution: ExecutionResult;
}

export interface FunctionTestsOptions {
  perTestMs: number;
  memoryMiB?: number;
  /** Reorders the tests' call groups in the candidate's execution (reruns for flakiness). */
  shuffle?: (ids: string[]) => string[];
  signal?: AbortSignal;
  /** What the candidate's executions may still take (ScoreOptions.programBudgetMs), spent as they run. */
  budget?: ProgramBudget;
}

export interface ProgramBudget {
  totalMs: number;
  leftMs: number;
}

/** A wall limit cut to what is left of the budget (never below 100 ms: the program still gets to start). */
export function withinBudget(wallMs: number, budget: ProgramBudget | undefined): number {
  return budget === undefined ? wallMs : Math.max(100, Math.min(wallMs, Math.floor(budget.leftMs)));
}

export function spend(budget: ProgramBudget | undefined, execution: ExecutionResult): void {
  if (budget !== undefined) budget.leftMs -= execution.durationMs;
}

export function budgetSpent(budget: ProgramBudget | undefined): boolean {
  return budget !== undefined && budget.leftMs <= 0;
}

export function budgetException(budget: ProgramBudget): { type: string; message: string } {
  return {
    type: 'TimeoutError',
    message: `the program used up the item's ${budget.totalMs} ms time budget (its tests ran near their limits)`,
  };
}

export interface FunctionTestsOutcome {
  tests: TestResult[];
  /** How loading the solution went (`passed` when it was never needed). */
  load: TestStatus;
  loadException?: { type: string; message: string };
  infraError: boolean;
  reason: string;
}

const recordCache = new Map<string, TrustedRun>();

function nonce(): string {
  return `@@codeloop-reward-${randomBytes(12).toString('hex')}@@`;
}

/** Lines `nonce + JSON` of an execution's stdout; a line cut by the output limit is dropped. */
function linesOf<T>(execution: ExecutionResult, marker: string): T[] {
  const lines: T[] = [];
  for (const line of execution.stdout.split('\n')) {
    const at = line.indexOf(marker);
    if (at < 0) continue;
    try {
      lines.push(JSON.parse(line.slice(at + marker.length)) as T);
    } catch {
      // cut short by the output limit
    }
  }
  return lines;
}

function runtimeOf(language: Language): { language: Language; ext: 'py' | 'cjs'; valuesFile: string } {
  return language === 'python'
    ? { language: 'python', ext: 'py', valuesFile: 'codeloop_values.py' }
    : { language: 'javascript', ext: 'cjs', valuesFile: 'codeloop-values.cjs' };
}

async function trustedRun(
  executor: Pick<Executor, 'run'>,
  row: FunctionTestsRow,
  proxyNames: { entryPoint: string; solutionNames: string[] },
  results: Record<string, CallRecord[]>,
  options: FunctionTestsOptions,
): Promise<TrustedRun> {
  const marker = nonce();
  const runtime = runtimeOf(row.language);
  let suite: Record<string, unknown>;
  let count: number;
  if (row.language === 'python') {
    suite = {
      nonce: marker,
      prompt: row.prompt,
      entryPoint: row.entryPoint,
      proxyNames: row.entryPoint ? [row.entryPoint] : [],
      perTestMs: options.perTestMs,
      sources: row.sources,
    };
    count = row.sources.reduce((sum, source) => sum + source.code.split('\n').length, 0);
  } else {
    const steps = planJavaScriptSteps(row.sources, row.language);
    suite = { nonce: marker, steps, ...proxyNames, perTestMs: options.perTestMs };
    count = steps.length;
  }
  suite['results'] = results;
  const request: ExecutionRequest = {
    language: runtime.language,
    code: runtimeSource(`trusted-tests.${runtime.ext}`),
    files: { [runtime.valuesFile]: runtimeSource(runtime.valuesFile), 'suite.json': JSON.stringify(suite) },
    limits: {
      wallMs: Math.min(MAX_EXECUTION_MS, OVERHEAD_MS + options.perTestMs * (count + 1)),
      outputBytes: OUTPUT_BYTES,
      ...(options.memoryMiB === undefined ? {} : { memoryMiB: options.memoryMiB }),
    },
  };
  const execution = await executor.run(request, options.signal ? { signal: options.signal } : {});
  const lines = linesOf<TrustedLine>(execution, marker);
  const plan = lines.find((line) => line.type === 'plan');
  const records = new Map<string, TrustedLine>();
  for (const line of lines) if (line.type === 'test' && line.id !== undefined) records.set(line.id, line);
  return {
    plan: plan?.tests ?? [],
    records,
    done: lines.some((line) => line.type === 'done') && plan !== undefined,
    execution,
  };
}

export interface CallRun {
  load: TestStatus;
  loadException?: { type: string; message: string };
  outcomes: Map<string, CallOutcome[]>;
  execution: ExecutionResult;
}

export async function callRun(
  executor: Pick<Executor, 'run'>,
  language: Language,
  solution: string,
  groups: { id: string; calls: CallRequest[] }[],
  options: FunctionTestsOptions,
): Promise<CallRun> {
  const marker = nonce();
  const runtime = runtimeOf(language);
  const job = { nonce: marker, solution, perTestMs: options.perTestMs, loadMs: LOAD_MS, groups };
  // WARNING: this execution runs the candidate's code. Its output is read as the candidate's claims only.
  const execution = await executor.run(
    {
      language: runtime.language,
      code: runtimeSource(`call-solution.${runtime.ext}`),
      files: { [runtime.valuesFile]: runtimeSource(runtime.valuesFile), 'calls.json': JSON.stringify(job) },
      limits: {
        wallMs: withinBudget(
          Math.min(MAX_EXECUTION_MS, OVERHEAD_MS + LOAD_MS + options.perTestMs * (groups.length + 1)),
          options.budget,
        ),
        outputBytes: OUTPUT_BYTES,
        ...(options.memoryMiB === undefined ? {} : { memoryMiB: options.memoryMiB }),
      },
    },
    options.signal ? { signal: options.signal } : {},
  );
  spend(options.budget, execution);
  const lines = linesOf<{
    type: string;
    status?: TestStatus;
    exception?: CallRun['loadException'];
    test?: string;
    k?: number;
    outcome?: CallOutcome;
  }>(execution, marker);
  const loadLine = lines.find((line) => line.type === 'load');
  const outcomes = new Map<string, CallOutcome[]>();
  for (const line of lines) {
    if (line.type !== 'call' || typeof line.test !== 'string' || !isIndex(line.k) || !isOutcome(line.outcome)) continue;
    const list = outcomes.get(line.test) ?? [];
    list[line.k] ??= checkedOutcome(line.outcome);
    outcomes.set(line.test, list);
  }
  let load: TestStatus = loadLine?.status ?? (execution.verdict === 'timed-out' ? 'timed-out' : 'error');
  if (!['passed', 'compile-error', 'error', 'timed-out', 'memory-exceeded'].includes(load)) load = 'error';
  const loadException = loadLine
    ? loadLine.exception === undefined
      ? undefined
      : exceptionOf(loadLine.exception)
    : { type: 'ProcessEnded', message: `the solution's process ended before it loaded: ${execution.reason}` };
  return { load, ...(loadException ? { loadException } : {}), outcomes, execution };
}

/** An exception the candidate's process reports, as two short strings whatever it wrote. */
function exceptionOf(value: unknown): { type: string; message: string } {
  const record = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  const text = (item: unknown, length: number): string => (typeof item === 'string' ? item.slice(0, length) : '');
  return { type: text(record['type'], 100) || 'Error', message: text(record['message'], 400) };
}

function isIndex(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < MAX_CALLS_PER_TEST;
}

/**
 * A claimed return value the host can use, or that call's failure: the candidate's process can write any line in the
 * result format, so a claim that is not well-formed tagged data of a bounded size (see checkTagged) fails the call
 * instead of reaching JSON.stringify, BigInt or a recursive decoder here.
 */
function checkedOutcome(outcome: CallOutcome): CallOutcome {
  // Rebuilt from the known fields only: nothing else of the line reaches the host's JSON or the trusted process.
  if ('error' in outcome) return { error: exceptionOf(outcome.error) };
  if (!('ok' in outcome)) return { timeout: true };
  const { ok, argsAfter } = outcome;
  const problem =
    checkTagged(ok) ??
    (argsAfter === undefined ? undefined : Array.isArray(argsAfter) ? checkTagged(argsAfter) : 'argsAfter is no list');
  if (problem === undefined) return argsAfter === undefined ? { ok } : { ok, argsAfter };
  return {
    error: { type: 'MalformedResult', message: `the solution's process reported a malformed value: ${problem}` },
  };
}

function isOutcome(value: unknown): value is CallOutcome {
  if (typeof value !== 'object' || value === null) return false;
  const outcome = value as Record<string, unknown>;
  if ('ok' in outcome) return true;
  if ('timeout' in outcome) return outcome['timeout'] === true;
  const error = outcome['error'] as Record<string, unknown> | undefined;
  return typeof error === 'object' && error !== null && typeof error['type'] === 'string';
}

/**
 * Names the trusted side may turn into proxies: the entry point, and (JavaScript) the solution's top-level functions
 * that the tests mention, read with a regular expression on the host (nothing of the solution runs here). The trusted
 * side still refuses any that is a builtin or a name the tests or the prompt define, so a solution cannot take over
 * `range` or `Math` of the tests. Python finds its names itself: the tests' free names.
 */
function proxyNamesOf(row: FunctionTestsRow, solution: string): { entryPoint: string; solutionNames: string[] } {
  const names = new Set<string>();
  if (row.language !== 'python') {
    const definition =
      /^(?:export\s+)?(?:(?:async\s+)?function\s*\*?\s*([A-Za-z_$][\w$]*)|(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*=)/gm;
    const tests = row.sources.map((source) => source.code).join('\n');
    for (const match of solution.matchAll(definition)) {
      const name = match[1] ?? match[2];
      if (name && new RegExp(`(?<![\\w$.])${name.replace(/\$/g, '\\$')}(?![\\w$])`).test(tests)) names.add(name);
    }
  }
  return { entryPoint: row.entryPoint, solutionNames: [...names].sort() };
}

function cacheKey(row: FunctionTestsRow, proxyNames: object, perTestMs: number): string {
  return createHash('sha256')
    .update(JSON.stringify([row.language, row.prompt, row.entryPoint, row.sources, proxyNames, perTestMs]))
    .digest('hex');
}

function resultsFromRecords(run: TrustedRun, overrides: Map<string, TestResult>): TestResult[] {
  return run.plan.map((test) => {
    const override = overrides.get(test.id);
    if (override) return override;
    const line = run.records.get(test.id);
    if (!line || line.status === undefined || line.status === 'needs-calls')
      return {
        ...test,
        status: 'not-run' as const,
        exception: { type: 'NotRun', message: `the tests did not report this test (${run.execution.reason})` },
      };
    const { type: _type, id: _id, calls: _calls, tests: _tests, proxies: _proxies, status, ...rest } = line;
    return { ...test, ...rest, status };
  });
}

/**
 * Runs `solution` against the row's tests as described above. Rejects only when aborted or when the executor fails;
 * `infraError` is set when an execution came back as the sandbox's `infra-error`.
 */
export async function runFunctionTests(
  executor: Pick<Executor, 'run'>,
  row: FunctionTestsRow,
  solution: string,
  options: FunctionTestsOptions,
): Promise<FunctionTestsOutcome> {
  const proxyNames = proxyNamesOf(row, solution);
  const key = cacheKey(row, proxyNames, options.perTestMs);
  let run = recordCache.get(key);
  if (run === undefined) {
    run = await trustedRun(executor, row, proxyNames, {}, options);
    if (run.execution.verdict === 'infra-error')
      return { tests: [], load: 'passed', infraError: true, reason: `sandbox failure: ${run.execution.reason}` };
    if (run.done) {
      // The cache keeps what later runs read, not the execution's output (up to OUTPUT_BYTES of it).
      recordCache.set(key, { ...run, execution: { ...run.execution, stdout: '', stderr: '' } });
      if (recordCache.size > RECORD_CACHE_SIZE) recordCache.delete(recordCache.keys().next().value as string);
    }
  }
  if (!run.done)
    return {
      tests: resultsFromRecords(run, new Map()),
      load: 'passed',
      infraError: false,
      reason: `the row's tests did not run to the end without the solution (${run.execution.reason})`,
    };

  let code = solution;
  if (row.language !== 'python') {
    if (row.language === 'typescript') {
      const transpiled = transpileTypeScript(solution);
      if ('compileError' in transpiled) return compileError(run, transpiled.compileError);
      code = transpiled.code;
    }
  }
  const results: Record<string, CallRecord[]> = {};
  const overrides = new Map<string, TestResult>();
  let load: TestStatus = 'passed';
  let loadException: FunctionTestsOutcome['loadException'];
  for (let round = 0; ; round++) {
    const needing = run.plan.filter(
      (test) => run!.records.get(test.id)?.status === 'needs-calls' && !overrides.has(test.id),
    );
    // Round 0 always runs the solution, so that one that does not load fails even a test that never calls it.
    if (needing.length === 0 && round > 0) break;
    if (round === MAX_ROUNDS) {
      for (const test of needing)
        overrides.set(test.id, {
          ...test,
          status: 'error',
          exception: {
            type: 'UnsupportedTest',
            message: `the test passes results of the solution back into it more than ${MAX_ROUNDS} levels deep`,
          },
        });
      break;
    }
    if (budgetSpent(options.budget)) {
      for (const test of needing)
        overrides.set(test.id, { ...test, status: 'timed-out', exception: budgetException(options.budget!) });
      break;
    }
    const groups = needing.map((test) => ({ id: test.id, calls: run!.records.get(test.id)?.calls ?? [] }));
    const ordered = options.shuffle
      ? options.shuffle(groups.map((group) => group.id)).map((id) => groups.find((group) => group.id === id)!)
      : groups;
    const calls = await callRun(executor, row.language, code, ordered, options);
    if (calls.execution.verdict === 'infra-error')
      return { tests: [], load, infraError: true, reason: `sandbox failure: ${calls.execution.reason}` };
    if (calls.load !== 'passed') {
      load = calls.load;
      loadException = calls.loadException;
      const exception = {
        type: calls.loadException?.type ?? 'Error',
        message: `the solution failed before the tests ran: ${calls.loadException?.message ?? calls.execution.reason}`,
      };
      for (const test of run.plan) overrides.set(test.id, { ...test, status: load, exception });
      break;
    }
    const fallback: CallOutcome = calls.execution.verdict === 'timed-out' ? { timeout: true } : { missing: true };
    for (const group of groups)
      results[group.id] = group.calls.map((call, index) => ({
        ...call,
        outcome: calls.outcomes.get(group.id)?.[index] ?? fallback,
      }));
    const judged = await trustedRun(executor, row, proxyNames, results, options);
    if (judged.execution.verdict === 'infra-error')
      return { tests: [], load, infraError: true, reason: `sandbox failure: ${judged.execution.reason}` };
    // A test the judging run did not report (it ran out of time or memory on what the solution returned) is not passed.
    run = { ...judged, plan: run.plan };
  }
  const tests = resultsFromRecords(run, overrides);
  return { tests, load, ...(loadException ? { loadException } : {}), infraError: false, reason: '' };
}

function compileError(run: TrustedRun, message: string): FunctionTestsOutcome {
  const exception = { type: 'SyntaxError', message: message.split('\n')[0]?.slice(0, 300) ?? 'syntax error' };
  return {
    tests: run.plan.map((test) => ({ ...test, status: 'compile-error' as const, exception })),
    load: 'compile-error',
    loadException: exception,
    infraError: false,
    reason: '',
  };
}
