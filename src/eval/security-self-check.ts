import type { Executor } from '../sandbox/index.js';
import type { LoadedDataset, Task } from '../tasks/index.js';
import {
  isSecurityTask,
  parseSecurityRun,
  securityRequest,
  type SecurityOutcome,
  type SecurityTestResult,
} from './security-tests.js';

/** What the self-check found for one task. */
export interface SecuritySelfCheckEntry {
  taskId: string;
  /** The secure reference: functional and secure (every non-`_unsafe` case passed). */
  reference: { functional: boolean; secure: boolean };
  /**
   * The insecure reference, judged by the test file's own `_unsafe` cases (they pass when the insecure code passes a
   * functionality case, and when it FAILS a security case: `pytest.raises`): how many ran and passed.
   */
  oracle: { cases: number; securityCases: number; passed: number };
  /** JavaScript: the insecure reference file scored as a candidate (expected: functional, not secure). */
  insecureAsCandidate?: { functional: boolean; secure: boolean };
  /** What is wrong; empty when the task's oracle works. */
  problems: string[];
  /** Every problem is a case that hit its time limit (the machine may be loaded: CWEval allows 3 s per case). */
  onlyTimeouts: boolean;
  /** The task's problems are known and explained (an upstream defect); not counted as failures. */
  knownBroken?: string;
  /** Seconds of the task's runs (wall clock, the last attempt). */
  seconds: number;
  /** True when the task ran a second time because its first attempt failed only by timeouts. */
  retried: boolean;
}

export interface SecuritySelfCheckResult {
  entries: SecuritySelfCheckEntry[];
  /** Tasks with problems that are not known broken. */
  failures: SecuritySelfCheckEntry[];
  /** Tasks whose executions broke in the sandbox (infra-error); their entries say nothing about the oracle. */
  infraErrors: string[];
  seconds: number;
}

function describe(test: SecurityTestResult): string {
  const message = test.message === undefined ? '' : `: ${test.message.split('\n')[0]?.slice(0, 160) ?? ''}`;
  return `${test.name} ${test.status}${message}`;
}

async function checkTask(
  task: Task,
  executor: Pick<Executor, 'run'>,
  signal: AbortSignal | undefined,
): Promise<SecuritySelfCheckEntry | 'infra-error'> {
  if (!isSecurityTask(task)) throw new Error(`internal: ${task.id} has no security tests`);
  const started = Date.now();
  const problems: string[] = [];
  const timeouts: boolean[] = [];
  const reference = securityRequest(task, task.canonicalSolution ?? '', { select: null, withInsecureReference: true });
  const referenceResult = await executor.run(reference.request, signal === undefined ? {} : { signal });
  const referenceRun = parseSecurityRun(task, referenceResult, reference.nonce);
  if (referenceRun.verdict === 'infra-error' || referenceRun.security === undefined) return 'infra-error';
  const outcome: SecurityOutcome = referenceRun.security;
  for (const test of outcome.tests) {
    if (test.status === 'passed') continue;
    problems.push(`${test.name.includes('_unsafe') ? 'oracle' : 'reference'}: ${describe(test)}`);
    timeouts.push(test.status === 'timed-out');
  }
  const oracleCases = outcome.tests.filter((test) => test.name.includes('_unsafe'));
  // Most oracle cases carry the security marker; a few test files (cwe_020_0, cwe_643_0) have one unmarked
  // `test_…_unsafe_security` function instead.
  const oracleSecurity = oracleCases.filter(
    (test) => test.kind === 'security' || /_unsafe_security(\[|$)/.test(test.name),
  );
  if (oracleSecurity.length === 0) {
    problems.push('oracle: the test file has no security case for the insecure reference');
    timeouts.push(false);
  }
  let insecureAsCandidate: SecuritySelfCheckEntry['insecureAsCandidate'];
  const insecure = task.security.insecureReference;
  if (insecure !== undefined) {
    const request = securityRequest(task, insecure.text);
    const result = await executor.run(request.request, signal === undefined ? {} : { signal });
    const run = parseSecurityRun(task, result, request.nonce);
    if (run.verdict === 'infra-error' || run.security === undefined) return 'infra-error';
    insecureAsCandidate = { functional: run.security.functional, secure: run.security.secure };
    if (!run.security.functional) {
      const failed = run.security.tests.filter((test) => test.kind === 'functionality' && test.status !== 'passed');
      problems.push(`insecure reference as the task file is not functional: ${failed.map(describe).join('; ')}`);
      timeouts.push(failed.every((test) => test.status === 'timed-out'));
    }
    if (run.security.secure) {
      problems.push('insecure reference as the task file passes every security case');
      timeouts.push(false);
    }
  }
  return {
    taskId: task.id,
    reference: { functional: outcome.functional, secure: outcome.secure },
    oracle: {
      cases: oracleCases.length,
      securityCases: oracleSecurity.length,
      passed: oracleCases.filter((test) => test.status === 'passed').length,
    },
    ...(insecureAsCandidate === undefined ? {} : { insecureAsCandidate }),
    problems,
    onlyTimeouts: problems.length > 0 && timeouts.every(Boolean),
    seconds: (Date.now() - started) / 1000,
    retried: false,
  };
}

/**
 * CWEval's oracle, checked on every task: the secure reference is functional and secure; the insecure reference passes
 * the functionality cases and fails at least one security case, judged twice where the data allows: by the test file's
 * own `_unsafe` cases (both languages) and, for JavaScript, by scoring the insecure reference file as a candidate.
 * Tasks run `executor`'s width at a time; a task whose only problems are timeouts runs once more, alone, after the
 * others (a loaded machine can push a key generation past CWEval's 3 s).
 */
export async function securitySelfCheck(
  dataset: LoadedDataset,
  executor: Pick<Executor, 'run'> & Partial<Pick<Executor, 'concurrency'>>,
  options: { signal?: AbortSignal; onTask?: (entry: SecuritySelfCheckEntry) => void } = {},
): Promise<SecuritySelfCheckResult> {
  const started = Date.now();
  const tasks = dataset.tasks.filter(isSecurityTask);
  const entries = new Map<string, SecuritySelfCheckEntry>();
  const infraErrors: string[] = [];
  let next = 0;
  const loop = async (): Promise<void> => {
    while (next < tasks.length) {
      const task = tasks[next++] as Task;
      const entry = await checkTask(task, executor, options.signal);
      if (entry === 'infra-error') infraErrors.push(task.id);
      else entries.set(task.id, entry);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(tasks.length, executor.concurrency ?? 2)) }, loop));
  for (const task of tasks) {
    const entry = entries.get(task.id);
    if (entry === undefined || !entry.onlyTimeouts) continue;
    const again = await checkTask(task, executor, options.signal);
    if (again !== 'infra-error') entries.set(task.id, { ...again, retried: true });
  }
  const ordered: SecuritySelfCheckEntry[] = [];
  for (const task of tasks) {
    const entry = entries.get(task.id);
    if (entry === undefined) continue;
    const reason = dataset.knownBroken[task.id];
    const final = reason !== undefined && entry.problems.length > 0 ? { ...entry, knownBroken: reason } : entry;
    ordered.push(final);
    options.onTask?.(final);
  }
  return {
    entries: ordered,
    failures: ordered.filter((entry) => entry.problems.length > 0 && entry.knownBroken === undefined),
    infraErrors,
    seconds: (Date.now() - started) / 1000,
  };
}

/** The self-check's report for people, one line per task with a problem and a summary line first. */
export function securitySelfCheckLines(name: string, result: SecuritySelfCheckResult, isolation: string): string[] {
  const ok = result.entries.filter((entry) => entry.problems.length === 0).length;
  const lines = [
    `${name}: ${ok}/${result.entries.length} tasks: secure reference functional and secure, insecure reference ` +
      `functional and caught by a security case (${result.seconds.toFixed(1)} s, isolation ${isolation})`,
  ];
  const retried = result.entries.filter((entry) => entry.retried).map((entry) => entry.taskId);
  if (retried.length > 0) lines.push(`Run again after timeouts only: ${retried.join(', ')}`);
  if (result.failures.length > 0) {
    lines.push(`Failed (${result.failures.length}):`);
    for (const entry of result.failures)
      lines.push(
        `  ${entry.taskId}${entry.onlyTimeouts ? ' (time limits only: is the machine loaded?)' : ''}: ` +
          entry.problems.join(' | '),
      );
  }
  const known = result.entries.filter((entry) => entry.knownBroken !== undefined);
  if (known.length > 0) {
    lines.push(`Known broken, not counted (${known.length}):`);
    for (const entry of known) lines.push(`  ${entry.taskId}: ${entry.problems.join(' | ')}; ${entry.knownBroken}`);
  }
  if (result.infraErrors.length > 0)
    lines.push(`The sandbox broke on ${result.infraErrors.length} task(s): ${result.infraErrors.join(', ')}`);
  return lines;
}
