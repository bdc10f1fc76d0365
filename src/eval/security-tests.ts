import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../core/index.js';
import type { ExecutionRequest, ExecutionResult, Verdict } from '../sandbox/index.js';
import { CWEVAL_TEST_TIMEOUT_SECONDS, type SecurityTests, type Task } from '../tasks/index.js';

/**
 * Scoring of tasks with functional and security tests (CWEval), with CWEval's semantics: every pytest case of the
 * task's test file runs against the task file under a 3 s limit; a sample is functional when every `functionality` case
 * passes and secure when every `security` case passes (a case that fails, errs, times out, is skipped or never ran is
 * not passed). The work happens in src/eval/runtime/security_tests.py, run in the sandbox; see its header for what a
 * verdict can be trusted for and for the adaptations of CWEval's dependencies.
 */

/** What one pytest case came to. `not-run`: the case was expected but is missing from pytest's report. */
export type SecurityTestStatus = 'passed' | 'failed' | 'error' | 'timed-out' | 'skipped' | 'not-run';

export interface SecurityTestResult {
  /** pytest's name of the case, e.g. `test_check_email[testmail@gmail.com.uk-True-functionality]` (cut at 240). */
  name: string;
  /** The case's marker. */
  kind: 'functionality' | 'security' | 'other';
  status: SecurityTestStatus;
  /** pytest's failure message and short traceback (cut at 600 characters); '' when it passed. */
  message?: string;
}

/** What one sample came to on a task with security tests. */
export interface SecurityOutcome {
  functional: boolean;
  secure: boolean;
  /** Cases of each kind that passed, and how many the task has. */
  functionality: { passed: number; total: number };
  security: { passed: number; total: number };
  /** Every case pytest reported (the `_unsafe` oracle cases only in a self-check), in pytest's order. */
  tests: SecurityTestResult[];
  /** The first security case that did not pass: the attack the code failed. */
  failedAttack?: SecurityTestResult;
}

/** Where the JavaScript tasks' Node modules are installed (scripts/install-system-deps.sh). */
export const DEFAULT_SECURITY_NODE_MODULES = '/usr/local/lib/codeloop-cweval/node_modules';

/** Environment variable that names another Node modules folder for the JavaScript tasks. */
export const SECURITY_NODE_MODULES_ENV = 'CODELOOP_CWEVAL_NODE_MODULES';

let driverSource: string | undefined;

function driver(): string {
  if (driverSource !== undefined) return driverSource;
  const here = dirname(fileURLToPath(import.meta.url));
  for (const candidate of [
    join(here, 'runtime', 'security_tests.py'),
    join(here, '..', '..', '..', 'src', 'eval', 'runtime', 'security_tests.py'),
  ]) {
    if (existsSync(candidate)) return (driverSource = readFileSync(candidate, 'utf8'));
  }
  throw new Error(`codeloop is installed incompletely: src/eval/runtime/security_tests.py was not found near ${here}`);
}

/** Whether `task` is scored by its functional and security tests. */
export function isSecurityTask(task: Task): task is Task & { security: SecurityTests } {
  return task.layout === 'security-tests' && task.security !== undefined;
}

/** Python modules the tests import, by the Debian package that provides them. */
const PYTHON_MODULES: readonly [string, string][] = [
  ['pytest', 'python3-pytest'],
  ['pytest_timeout', 'python3-pytest-timeout'],
  ['Cryptodome', 'python3-pycryptodome'],
  ['argon2', 'python3-argon2'],
  ['jwt', 'python3-jwt'],
  ['lxml', 'python3-lxml'],
  ['yaml', 'python3-yaml'],
  ['requests', 'python3-requests'],
];

/** The Node modules folder for JavaScript tasks: $CODELOOP_CWEVAL_NODE_MODULES, else the install script's folder. */
export function securityNodeModules(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env[SECURITY_NODE_MODULES_ENV];
  return configured !== undefined && configured !== '' ? configured : DEFAULT_SECURITY_NODE_MODULES;
}

/**
 * What is missing on this machine to run `tasks`' tests, as one message per problem (empty when nothing is). Checked on
 * the host before scoring: a missing dependency would otherwise fail every sample as if the code were wrong.
 */
export function securityDependencyProblems(tasks: readonly Task[], env: NodeJS.ProcessEnv = process.env): string[] {
  const security = tasks.filter(isSecurityTask);
  if (security.length === 0) return [];
  const problems: string[] = [];
  const python = '/usr/bin/python3';
  if (!existsSync(python)) problems.push(`${python} is missing (the tests run under Debian's Python 3)`);
  else {
    const missing = PYTHON_MODULES.filter(([module]) => !pythonHasModule(python, module)).map(([, pkg]) => pkg);
    if (missing.length > 0) problems.push(`Python packages missing: ${missing.join(' ')}`);
  }
  const needsNode = security.some((task) => task.language === 'javascript');
  const needsRecheck = security.some((task) => task.security.cwe === 'CWE-1333');
  const modules = securityNodeModules(env);
  if ((needsNode || needsRecheck) && !modules.startsWith('/usr/'))
    problems.push(
      `${modules} is outside /usr, the only system folder the sandbox mounts, so its programs cannot see it`,
    );
  if (needsNode && !existsSync(join(modules, 'jsdom')))
    problems.push(`the JavaScript tasks' Node modules are not in ${modules}`);
  if (needsRecheck && !existsSync(join(modules, 'recheck-linux-x64', 'recheck')))
    problems.push(`the ReDoS checker ${join(modules, 'recheck-linux-x64', 'recheck')} is missing`);
  return problems;
}

const moduleCache = new Map<string, boolean>();

/** Whether Debian's Python finds `module` (a search of its dist-packages folders; importing it would be slow). */
function pythonHasModule(python: string, module: string): boolean {
  const key = `${python} ${module}`;
  const cached = moduleCache.get(key);
  if (cached !== undefined) return cached;
  const folders = ['/usr/lib/python3/dist-packages', '/usr/local/lib/python3/dist-packages'];
  const found = folders.some((folder) => existsSync(join(folder, module)) || existsSync(join(folder, `${module}.py`)));
  moduleCache.set(key, found);
  return found;
}

/** Throws a UsageError naming what is missing and the script that installs it. */
export function assertSecurityDependencies(tasks: readonly Task[], env: NodeJS.ProcessEnv = process.env): void {
  const problems = securityDependencyProblems(tasks, env);
  if (problems.length === 0) return;
  throw new UsageError(
    `Cannot run the security tests: ${problems.join('; ')}. Run scripts/install-system-deps.sh (Debian packages ` +
      `and the pinned Node modules from scripts/cweval-node), or set ${SECURITY_NODE_MODULES_ENV} to a ` +
      'node_modules folder under /usr that has them.',
  );
}

/** A Python string literal for `text` (JSON string syntax is valid Python for every string JSON.stringify writes). */
function pythonString(text: string): string {
  return JSON.stringify(text);
}

export interface SecurityRequestOptions {
  /**
   * pytest's `-k` expression: CWEval's `not _unsafe` by default (the `_unsafe` cases check the oracle against the
   * insecure reference). `null` runs every case, oracle cases included (the self-check).
   */
  select?: string | null;
  /** Put the JavaScript insecure reference next to the tests (the oracle cases run it). Default false. */
  withInsecureReference?: boolean;
  env?: NodeJS.ProcessEnv;
}

/** A request plus the nonce that marks its result line. */
export interface SecurityRequest {
  request: ExecutionRequest;
  nonce: string;
}

/** Every case the selection runs, for the driver's time budget. */
function caseCount(security: SecurityTests, select: string | null): number {
  const cases = security.functionalityTests + security.securityTests;
  return select === null ? 2 * cases : cases;
}

/** The sandbox request that runs `task`'s tests against `taskFile` (the whole task file, see `securityTaskFile`). */
export function securityRequest(task: Task, taskFile: string, options: SecurityRequestOptions = {}): SecurityRequest {
  if (!isSecurityTask(task)) throw new UsageError(`Task ${task.id} has no security tests.`);
  const { select = 'not _unsafe', withInsecureReference = false, env = process.env } = options;
  const { security } = task;
  const nonce = randomBytes(16).toString('hex');
  const files: Record<string, string> = {
    [security.taskFile]: taskFile,
    [security.testFile.name]: security.testFile.text,
    'pytest.ini': security.pytestIni,
  };
  if (withInsecureReference && security.insecureReference !== undefined)
    files[security.insecureReference.name] = security.insecureReference.text;
  const modules = securityNodeModules(env);
  const wallMs = task.limits?.wallMs ?? 60_000;
  const budgetMs = select === null ? 2 * wallMs : wallMs;
  const job = {
    files,
    test_file: security.testFile.name,
    select,
    timeout: CWEVAL_TEST_TIMEOUT_SECONDS,
    // The driver stops pytest 5 s before the sandbox's limit, so a run out of time still reports the cases it finished.
    wall_seconds: Math.max(5, budgetMs / 1000 - 5),
    node_path: task.language === 'javascript' ? modules : '',
    recheck: join(modules, 'recheck-linux-x64', 'recheck'),
    cases: caseCount(security, select),
  };
  return {
    nonce,
    request: {
      language: 'python',
      code: `${driver()}\nmain(${pythonString(nonce)}, json.loads(${pythonString(JSON.stringify(job))}))\n`,
      harness: 'exit-code',
      limits: {
        ...task.limits,
        wallMs: budgetMs,
        // pytest, and Node for every JavaScript case (Node alone runs ~10 threads).
        processes: 256,
        outputBytes: 4 * 1024 * 1024,
      },
    },
  };
}

interface DriverCase {
  name: string;
  kind: string;
  status: string;
  message: string;
}

interface DriverResult {
  exit: number;
  killed: boolean;
  report: 'ok' | 'missing' | 'unreadable';
  tests: DriverCase[];
  output: string;
  reportError?: string;
}

function resultLine(result: ExecutionResult, nonce: string): string | undefined {
  const marker = `${nonce} `;
  return result.stdout
    .split('\n')
    .findLast((line) => line.startsWith(marker))
    ?.slice(marker.length);
}

const STATUSES = new Set(['passed', 'failed', 'error', 'timed-out', 'skipped']);

function kindOf(kind: string): SecurityTestResult['kind'] {
  // A case carries one marker in CWEval; `functionality,security` would count as both, which no test file does.
  if (kind.includes('security')) return 'security';
  if (kind.includes('functionality')) return 'functionality';
  return 'other';
}

/** The line of a pytest message that says what went wrong: its last `E   …` line, else its first line. */
function headline(message: string): string {
  const lines = message.split('\n');
  const error = lines.findLast((line) => line.startsWith('E '));
  return (error ?? lines[0] ?? '').replace(/^E\s+/, '').slice(0, 200);
}

/** What a run came to: the sample's verdict and one line why, and the per-case outcome (absent for an infra-error). */
export interface SecurityRun {
  verdict: Verdict;
  reason: string;
  security?: SecurityOutcome;
}

/**
 * Reads a driver run into CWEval's verdicts. Cases are counted from pytest's report: a task's case that is missing
 * from it (pytest stopped, the report was cut) is `not-run`, so the sample is not functional (or not secure). The
 * sample's `verdict` is about function: `passed` when functional, `timed-out` when a functionality case hit its time
 * limit or the run ran out of time, else `failed` (or the sandbox's own verdict when the driver itself was stopped).
 */
export function parseSecurityRun(task: Task, result: ExecutionResult, nonce: string, oracle = false): SecurityRun {
  if (!isSecurityTask(task)) throw new UsageError(`Task ${task.id} has no security tests.`);
  if (result.verdict === 'infra-error') return { verdict: 'infra-error', reason: result.reason };
  const { security } = task;
  const line = resultLine(result, nonce);
  let parsed: DriverResult | undefined;
  try {
    parsed = line === undefined ? undefined : (JSON.parse(line) as DriverResult);
  } catch {
    parsed = undefined;
  }
  const tests: SecurityTestResult[] = (parsed?.tests ?? []).map((test) => ({
    name: String(test.name),
    kind: kindOf(String(test.kind)),
    status: (STATUSES.has(test.status) ? test.status : 'error') as SecurityTestStatus,
    ...(test.message ? { message: String(test.message) } : {}),
  }));
  const counted = tests.filter((test) => oracle || !test.name.includes('_unsafe'));
  const tally = (kind: 'functionality' | 'security', total: number): { passed: number; total: number } => {
    const ran = counted.filter((test) => test.kind === kind);
    const passed = ran.filter((test) => test.status === 'passed').length;
    // Missing cases count as not passed: the total is the larger of the task's count and what pytest reported.
    return { passed, total: Math.max(total, ran.length) };
  };
  const functionality = tally('functionality', oracle ? 0 : security.functionalityTests);
  const securityTally = tally('security', oracle ? 0 : security.securityTests);
  if (!oracle) {
    for (const [kind, expected] of [
      ['functionality', security.functionalityTests],
      ['security', security.securityTests],
    ] as const) {
      const ran = counted.filter((test) => test.kind === kind).length;
      for (let index = ran; index < expected; index++)
        tests.push({ name: `(${kind} case ${index + 1} of ${expected})`, kind, status: 'not-run' });
    }
  }
  const functional = functionality.total > 0 && functionality.passed === functionality.total;
  const secure = securityTally.total > 0 && securityTally.passed === securityTally.total;
  const failedAttack = tests.find(
    (test) => test.kind === 'security' && test.status !== 'passed' && (oracle || !test.name.includes('_unsafe')),
  );
  const outcome: SecurityOutcome = {
    functional,
    secure,
    functionality,
    security: securityTally,
    tests,
    ...(failedAttack === undefined ? {} : { failedAttack }),
  };
  const summary =
    `functionality ${functionality.passed}/${functionality.total}, ` +
    `security ${securityTally.passed}/${securityTally.total}`;
  if (parsed === undefined) {
    const verdict = result.verdict === 'passed' ? 'failed' : result.verdict;
    return {
      verdict,
      reason: `the test run ended without a result (${result.verdict}: ${result.reason}); ${summary}`,
      security: outcome,
    };
  }
  const firstFailure = tests.find(
    (test) => test.kind === 'functionality' && test.status !== 'passed' && !test.name.includes('_unsafe'),
  );
  let reason = summary;
  if (parsed.report !== 'ok')
    reason += `; pytest's report is ${parsed.report}${parsed.reportError ? ` (${parsed.reportError})` : ''}`;
  if (parsed.killed) reason += '; stopped at the time limit';
  // A test module that does not import (the candidate's syntax error, a missing name) is a collection error, reported
  // by pytest as a case without a marker: it says more than the cases that then never ran.
  const collection = tests.find((test) => test.kind === 'other' && test.status !== 'passed');
  if (firstFailure?.status === 'not-run' && collection !== undefined)
    reason +=
      `; ${collection.name}: ${collection.status}` + (collection.message ? ` (${headline(collection.message)})` : '');
  else if (firstFailure !== undefined) reason += `; ${firstFailure.name}: ${firstFailure.status}`;
  else if (failedAttack !== undefined) reason += `; attack ${failedAttack.name}: ${failedAttack.status}`;
  const timedOut = parsed.killed || tests.some((test) => test.kind === 'functionality' && test.status === 'timed-out');
  return { verdict: functional ? 'passed' : timedOut ? 'timed-out' : 'failed', reason, security: outcome };
}
