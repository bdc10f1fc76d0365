import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Executor } from './executor.js';
import { pinnedTypeScript, transpileTypeScript } from './program.js';
import type { ExecutionResult, Language } from './types.js';

/**
 * Per-test results: one sandboxed execution runs a candidate solution against several sets of tests (public, generated,
 * hidden) and reports every test on its own, with the assertion, expected and actual values where the test is an
 * equality (`assert f(x) == y`, `assert.deepStrictEqual(f(x), y)`), the exception, and a traceback tail.
 *
 * The runner (src/sandbox/runtime/test-runner.{py,cjs}) shares the candidate's process, so a hostile candidate could forge
 * these lines; that is acceptable because they only guide the loop. The final verdict of a solve comes from the task's
 * reference harness (`runReferenceProgram`), whose end marker an early exit, a bare marker or a fork search cannot fake;
 * a candidate written to walk the interpreter's frames to the nonce can (docs/sandbox.md, "What a verdict can be
 * trusted for").
 */

/** Where a test comes from. Hidden tests are never shown to the model. */
export type TestOrigin = 'public' | 'hidden' | 'generated';

/**
 * What one test came to. `failed`: an assertion failed; `error`: another exception; `not-run`: the process ended before
 * the test (exit, crash, output flood); `compile-error`: the solution does not parse; `infra-error`: the sandbox broke
 * (says nothing about the program, never counted as a failure).
 */
export type TestStatus =
  'passed' | 'failed' | 'error' | 'timed-out' | 'memory-exceeded' | 'compile-error' | 'not-run' | 'infra-error';

/**
 * How a test source is cut into tests.
 * - `check-function`: a function of tests (HumanEval's `def check(candidate)`, MultiPL-E's `function test()`): every
 *   statement of its body that is not a declaration is one test; declarations and other top-level code are setup.
 * - `statements`: every top-level statement that is not a declaration is one test (MBPP's assert lines).
 * - `single`: the whole source is one test.
 */
export type TestForm = 'check-function' | 'statements' | 'single';

export interface TestSource {
  origin: TestOrigin;
  /** Test code in the solution's language. */
  code: string;
  form: TestForm;
  /** Test ids are `idPrefix` + index (`single`: `idPrefix` itself), e.g. `hidden/3`, `public/0`. */
  idPrefix: string;
}

export interface TestException {
  type: string;
  message: string;
}

export interface TestResult {
  id: string;
  origin: TestOrigin;
  /** The test's source text (cut at 300 characters). */
  assertion: string;
  status: TestStatus;
  /** For an equality test that failed: the right-hand side, as the language prints it. */
  expected?: string;
  /** For an equality test that failed: what the solution returned. */
  actual?: string;
  exception?: TestException;
  /** Last lines of the traceback or stack of an exception (not of an assertion failure). */
  traceback?: string;
  durationMs?: number;
}

export interface TestRunResult {
  tests: TestResult[];
  /** How running the solution itself (defining the functions) went, before any test. */
  solution: { status: TestStatus; exception?: TestException; traceback?: string };
  /** The sandbox broke: no result here says anything about the program. */
  infraError: boolean;
  /** The execution as the sandbox reported it. */
  execution: Pick<ExecutionResult, 'verdict' | 'reason' | 'durationMs' | 'isolation'> & { stderrTail: string };
}

export interface RunTestsOptions {
  language: Language;
  /** The candidate's whole source: the functions under test (no tests). */
  solution: string;
  sources: readonly TestSource[];
  /** Name of the function under test (Python `check(candidate)` binds it). */
  entryPoint?: string;
  /** Time limit of each test, and of running the solution, in ms. Default 2000. */
  perTestMs?: number;
  memoryMiB?: number;
  /**
   * TypeScript: type-check the solution with the sandbox's tsc first (MultiPL-E's rule, as the reference harness
   * applies it); a type error makes every test `compile-error`. The solution is checked alone, so that no error
   * message can quote a hidden test. Default false.
   */
  typeCheck?: boolean;
  signal?: AbortSignal;
}

/** Default per-test limit (ms): generous for the 2-core machines the loop runs on, short enough to cut endless loops. */
export const DEFAULT_PER_TEST_MS = 2_000;
/** Interpreter start-up and JSON on top of the tests' own limits (ms). */
const RUNNER_OVERHEAD_MS = 3_000;
/** The whole execution never runs longer than this (ms), however many tests there are. */
const MAX_EXECUTION_MS = 120_000;
const STDERR_TAIL = 2_000;
const OUTPUT_BYTES = 1024 * 1024;

let runnerSources: Partial<Record<'python' | 'node', string>> = {};

function runnerSource(kind: 'python' | 'node'): string {
  const cached = runnerSources[kind];
  if (cached !== undefined) return cached;
  const file = kind === 'python' ? 'test-runner.py' : 'test-runner.cjs';
  const here = dirname(fileURLToPath(import.meta.url));
  // From dist/src/sandbox the sources are three levels up; from src/sandbox they are here.
  for (const candidate of [
    join(here, 'runtime', file),
    join(here, '..', '..', '..', 'src', 'sandbox', 'runtime', file),
  ]) {
    if (existsSync(candidate)) {
      const text = readFileSync(candidate, 'utf8');
      runnerSources = { ...runnerSources, [kind]: text };
      return text;
    }
  }
  throw new Error(`codeloop is installed incompletely: src/sandbox/runtime/${file} was not found near ${here}`);
}

type TypeScriptModule = typeof import('typescript');

interface Step {
  kind: 'setup' | 'test';
  id?: string;
  origin: TestOrigin;
  assertion?: string;
  code: string;
}

function isDeclaration(ts: TypeScriptModule, statement: import('typescript').Statement): boolean {
  return (
    ts.isVariableStatement(statement) ||
    ts.isFunctionDeclaration(statement) ||
    ts.isClassDeclaration(statement) ||
    ts.isImportDeclaration(statement) ||
    ts.isInterfaceDeclaration(statement) ||
    ts.isTypeAliasDeclaration(statement) ||
    ts.isEnumDeclaration(statement) ||
    ts.isModuleDeclaration(statement) ||
    ts.isEmptyStatement(statement)
  );
}

/** `test();` / `check();`: the call that runs a check function, dropped since its statements run one by one. */
function isCheckCall(ts: TypeScriptModule, statement: import('typescript').Statement, name: string): boolean {
  return (
    ts.isExpressionStatement(statement) &&
    ts.isCallExpression(statement.expression) &&
    ts.isIdentifier(statement.expression.expression) &&
    statement.expression.expression.text === name
  );
}

const EQUALITY_ASSERTS = new Set(['deepStrictEqual', 'deepEqual', 'strictEqual', 'equal']);

/**
 * `assert.deepStrictEqual(A, B)` becomes `assert.deepStrictEqual(__codeloopActual(A), B)`, so the runner learns A's
 * value even when the test passes (see test-runner.cjs). Other statements are returned unchanged.
 */
function withActualProbe(
  ts: TypeScriptModule,
  file: import('typescript').SourceFile,
  statement: import('typescript').Statement,
  text: string,
): string {
  if (!ts.isExpressionStatement(statement) || !ts.isCallExpression(statement.expression)) return text;
  const call = statement.expression;
  const callee = call.expression;
  if (
    !ts.isPropertyAccessExpression(callee) ||
    !ts.isIdentifier(callee.expression) ||
    callee.expression.text !== 'assert' ||
    !EQUALITY_ASSERTS.has(callee.name.text)
  )
    return text;
  const first = call.arguments[0];
  if (first === undefined || call.arguments.length < 2) return text;
  const offset = statement.getStart(file);
  const start = first.getStart(file) - offset;
  const end = first.getEnd() - offset;
  return `${text.slice(0, start)}__codeloopActual(${text.slice(start, end)})${text.slice(end)}`;
}

const short = (text: string): string => (text.length <= 300 ? text : `${text.slice(0, 300)}…`);

/**
 * Cuts JavaScript/TypeScript test sources into setup and test steps, with the pinned TypeScript parser (on the host:
 * parsing runs none of the code). TypeScript steps are transpiled one by one.
 */
export function planJavaScriptSteps(sources: readonly TestSource[], language: 'javascript' | 'typescript'): Step[] {
  const ts = pinnedTypeScript();
  const steps: Step[] = [];
  const toJs = (code: string): string => {
    if (language === 'javascript') return code;
    const output = transpileTypeScript(code);
    // A step that does not parse still runs, as JavaScript, and fails there with its SyntaxError.
    return 'code' in output ? output.code : code;
  };
  for (const source of sources) {
    if (source.form === 'single') {
      steps.push({
        kind: 'test',
        id: source.idPrefix,
        origin: source.origin,
        assertion: short(source.code.trim()),
        code: toJs(source.code),
      });
      continue;
    }
    const file = ts.createSourceFile(
      `tests.${language === 'typescript' ? 'ts' : 'js'}`,
      source.code,
      ts.ScriptTarget.ES2022,
      true,
    );
    let count = 0;
    const addTest = (statement: import('typescript').Statement): void => {
      const text = statement.getText(file);
      steps.push({
        kind: 'test',
        id: `${source.idPrefix}${count++}`,
        origin: source.origin,
        assertion: short(text),
        code: toJs(withActualProbe(ts, file, statement, text)),
      });
    };
    const addSetup = (statement: import('typescript').Statement): void => {
      steps.push({ kind: 'setup', origin: source.origin, code: toJs(statement.getText(file)) });
    };
    if (source.form === 'statements') {
      for (const statement of file.statements) (isDeclaration(ts, statement) ? addSetup : addTest)(statement);
      continue;
    }
    const check = file.statements.find(
      (statement): statement is import('typescript').FunctionDeclaration =>
        ts.isFunctionDeclaration(statement) && (statement.name?.text === 'test' || statement.name?.text === 'check'),
    );
    const checkName = check?.name?.text ?? '';
    for (const statement of file.statements) {
      if (statement === check || (check && isCheckCall(ts, statement, checkName))) continue;
      addSetup(statement);
    }
    for (const statement of check?.body?.statements ?? [])
      (isDeclaration(ts, statement) ? addSetup : addTest)(statement);
  }
  return steps;
}

interface RunnerLine {
  type: 'plan' | 'solution' | 'test' | 'done';
  tests?: { id: string; origin: TestOrigin; assertion: string }[];
  id?: string;
  status?: TestStatus;
  expected?: string;
  actual?: string;
  exception?: TestException;
  traceback?: string;
  durationMs?: number;
}

/** Rough count of tests, for the execution's wall-clock limit (every line could be one). */
function estimateTests(sources: readonly TestSource[]): number {
  return sources.reduce((sum, source) => sum + (source.form === 'single' ? 1 : source.code.split('\n').length), 0);
}

/**
 * Runs `solution` against `sources` in one sandboxed execution and returns one result per test. Never throws for
 * anything the program does; rejects only when aborted (with the signal's reason) or when the executor itself fails.
 */
export async function runTests(executor: Executor, options: RunTestsOptions): Promise<TestRunResult> {
  const { language, solution, sources, entryPoint = '', perTestMs = DEFAULT_PER_TEST_MS, memoryMiB, signal } = options;
  const nonce = `@@codeloop-test-${randomBytes(12).toString('hex')}@@`;
  const wallMs = Math.min(MAX_EXECUTION_MS, RUNNER_OVERHEAD_MS + perTestMs * (estimateTests(sources) + 1));
  // 1 MiB of output: the result lines must survive a candidate that prints (console.log in JavaScript goes to stdout).
  const limits = { wallMs, outputBytes: OUTPUT_BYTES, ...(memoryMiB === undefined ? {} : { memoryMiB }) };
  let request;
  let plannedSteps: Step[] | null = null;
  if (language === 'python') {
    const suite = { nonce, solution, perTestMs, entryPoint, sources };
    request = {
      language,
      code: runnerSource('python'),
      files: { 'suite.json': JSON.stringify(suite) },
      limits,
      harness: 'exit-code' as const,
    };
  } else {
    plannedSteps = planJavaScriptSteps(sources, language);
    let code = solution;
    if (language === 'typescript') {
      const transpiled = transpileTypeScript(solution);
      if ('compileError' in transpiled) return compileErrorResult(plannedSteps, transpiled.compileError, executor);
      if (options.typeCheck) {
        const checked = await executor.run(
          { language: 'typescript', code: solution, typeCheck: true, limits: { wallMs: 5_000 } },
          signal === undefined ? {} : { signal },
        );
        if (checked.verdict === 'compile-error')
          return compileErrorResult(
            plannedSteps,
            typeErrors(checked.stderr || checked.reason),
            executor,
            'TypeScriptError',
          );
      }
      code = transpiled.code;
    }
    const suite = { nonce, solution: code, perTestMs, steps: plannedSteps };
    // The runner is run as plain JavaScript (language `javascript`): the TypeScript was transpiled above.
    request = {
      language: 'javascript' as const,
      code: runnerSource('node'),
      files: { 'suite.json': JSON.stringify(suite) },
      limits,
      harness: 'exit-code' as const,
    };
  }
  const execution = await executor.run(request, signal === undefined ? {} : { signal });
  return collectResults(execution, nonce);
}

/** tsc's error lines, each once (it can print an error twice), at most 10. */
function typeErrors(output: string): string {
  const lines = [
    ...new Set(
      output
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => /error TS\d+/.test(line)),
    ),
  ];
  return (lines.length > 0 ? lines : [output.trim()]).slice(0, 10).join('\n');
}

function compileErrorResult(steps: Step[], message: string, executor: Executor, type = 'SyntaxError'): TestRunResult {
  const exception = { type, message: short(message) };
  return {
    tests: steps
      .filter((step) => step.kind === 'test')
      .map((step) => ({
        id: step.id ?? '',
        origin: step.origin,
        assertion: step.assertion ?? '',
        status: 'compile-error',
        exception,
      })),
    solution: { status: 'compile-error', exception },
    infraError: false,
    execution: {
      verdict: 'compile-error',
      reason: message.split('\n')[0] ?? 'the solution does not compile',
      durationMs: 0,
      isolation: executor.isolation,
      stderrTail: '',
    },
  };
}

const TEST_STATUSES: ReadonlySet<string> = new Set<TestStatus>([
  'passed',
  'failed',
  'error',
  'timed-out',
  'memory-exceeded',
  'compile-error',
  'not-run',
  'infra-error',
]);
const ORIGINS: ReadonlySet<string> = new Set<TestOrigin>(['public', 'hidden', 'generated']);

const text = (value: unknown): string | undefined => (typeof value === 'string' ? short(value) : undefined);

/**
 * A runner line as the types say it is. The runner shares the candidate's process, so a candidate can write lines in
 * its format (docs/sandbox.md): whatever such a line holds (a value nested 300,000 deep where a string belongs, an
 * unknown status) must not reach code that formats, stores or switches on it. Fields of the wrong type are dropped,
 * texts are cut as the runner cuts them, and an unknown status is `error`.
 */
function runnerLine(value: unknown): RunnerLine | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const raw = value as Record<string, unknown>;
  const type = raw['type'];
  if (type !== 'plan' && type !== 'solution' && type !== 'test' && type !== 'done') return undefined;
  const line: RunnerLine = { type };
  if (type === 'plan') {
    if (!Array.isArray(raw['tests'])) return undefined;
    line.tests = [];
    for (const test of raw['tests'] as unknown[]) {
      const entry = (typeof test === 'object' && test !== null ? test : {}) as Record<string, unknown>;
      const id = entry['id'];
      const origin = entry['origin'];
      if (typeof id !== 'string' || typeof origin !== 'string' || !ORIGINS.has(origin)) return undefined;
      line.tests.push({ id, origin: origin as TestOrigin, assertion: text(entry['assertion']) ?? '' });
    }
    return line;
  }
  if (typeof raw['id'] === 'string') line.id = raw['id'];
  if (raw['status'] !== undefined)
    line.status = (
      typeof raw['status'] === 'string' && TEST_STATUSES.has(raw['status']) ? raw['status'] : 'error'
    ) as TestStatus;
  for (const key of ['expected', 'actual', 'traceback'] as const) {
    const field = text(raw[key]);
    if (field !== undefined) line[key] = field;
  }
  const exception = raw['exception'];
  if (typeof exception === 'object' && exception !== null) {
    const { type: name, message } = exception as Record<string, unknown>;
    line.exception = { type: text(name) ?? 'Error', message: text(message) ?? '' };
  }
  const duration = raw['durationMs'];
  if (typeof duration === 'number' && Number.isFinite(duration)) line.durationMs = duration;
  return line;
}

/** Reads the runner's lines from stdout; tests without a line get a status from how the execution ended. */
export function collectResults(execution: ExecutionResult, nonce: string): TestRunResult {
  const lines: RunnerLine[] = [];
  for (const line of execution.stdout.split('\n')) {
    const at = line.indexOf(nonce);
    if (at < 0) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line.slice(at + nonce.length));
    } catch {
      // A line cut by the output limit: the tests it would have reported are `not-run`.
      continue;
    }
    const checked = runnerLine(parsed);
    if (checked) lines.push(checked);
  }
  const stderrTail = execution.stderr.slice(-STDERR_TAIL);
  const summary = {
    verdict: execution.verdict,
    reason: execution.reason,
    durationMs: execution.durationMs,
    isolation: execution.isolation,
    stderrTail,
  };
  const plan = lines.find((line) => line.type === 'plan');
  const infra = execution.verdict === 'infra-error' || plan === undefined;
  const planned = plan?.tests ?? [];
  if (infra) {
    const exception = {
      type: 'InfraError',
      message:
        plan === undefined && execution.verdict !== 'infra-error'
          ? `the test runner did not start (${execution.reason})`
          : execution.reason,
    };
    return {
      tests: planned.map((test) => ({ ...test, status: 'infra-error', exception })),
      solution: { status: 'infra-error', exception },
      infraError: true,
      execution: summary,
    };
  }
  const solutionLine = lines.find((line) => line.type === 'solution');
  const ended = endedStatus(execution);
  const solution = solutionLine
    ? {
        status: solutionLine.status ?? 'error',
        ...(solutionLine.exception ? { exception: solutionLine.exception } : {}),
        ...(solutionLine.traceback ? { traceback: solutionLine.traceback } : {}),
      }
    : { status: ended, exception: { type: 'ProcessEnded', message: execution.reason } };
  const byId = new Map(
    lines.filter((line) => line.type === 'test' && line.id !== undefined).map((line) => [line.id as string, line]),
  );
  const tests: TestResult[] = planned.map((test) => {
    const line = byId.get(test.id);
    if (line) {
      const { type: _type, id: _id, ...rest } = line;
      return { ...test, ...rest, status: rest.status ?? 'error' } as TestResult;
    }
    if (solution.status !== 'passed') {
      const status: TestStatus =
        solution.status === 'compile-error' || solution.status === 'timed-out' || solution.status === 'memory-exceeded'
          ? solution.status
          : 'error';
      return {
        ...test,
        status,
        exception: {
          type: solution.exception?.type ?? 'Error',
          message: `the solution failed before the tests ran: ${solution.exception?.message ?? execution.reason}`,
        },
      };
    }
    return {
      ...test,
      status: ended,
      exception: { type: 'ProcessEnded', message: `the process ended before this test ran: ${execution.reason}` },
    };
  });
  return { tests, solution, infraError: false, execution: summary };
}

function endedStatus(execution: ExecutionResult): TestStatus {
  if (execution.verdict === 'timed-out') return 'timed-out';
  if (execution.verdict === 'memory-exceeded') return 'memory-exceeded';
  return 'not-run';
}
