import { type Executor, runTests, type TestSource } from '../sandbox/index.js';
import type { AttemptRecord } from './attempt-record.js';
import { referenceSolution, type SolveTask } from './solve-task.js';

export interface GeneratedTestStats {
  /** Distinct tests kept after vetting. */
  kept: number;
  rejected: number;
  /** Attempts that passed every generated test. */
  attemptsPassingGenerated: number;
  /** Of those, the ones with a hidden-test verdict (the denominator of the false-positive rate). */
  attemptsJudged: number;
  /** Of the judged ones, how many fail hidden tests (Reflexion's false positives). */
  falsePositives: number;
  /** falsePositives / attemptsJudged; null when no attempt passed them all with hidden tests to judge it. */
  falsePositiveRate: number | null;
  /** Generated tests the task's reference solution passes (null when the task has none). */
  passedByReference: number | null;
}

/** How far the generated tests can be trusted: false positives against hidden tests, and agreement with the reference. */
export async function generatedTestStats(
  executor: Executor,
  task: SolveTask,
  attempts: readonly AttemptRecord[],
  generated: TestSource[],
  rejected: number,
  perTestMs: number,
  signal: AbortSignal | undefined,
): Promise<GeneratedTestStats> {
  const programs = attempts.filter(
    (record) => (record.kind === 'sample' || record.kind === 'repair') && !record.infra_error,
  );
  const passingGenerated = programs.filter((record) => {
    const generatedResults = record.tests.filter((test) => test.origin === 'generated');
    return generatedResults.length > 0 && generatedResults.every((test) => test.status === 'passed');
  });
  const withHidden = passingGenerated.filter((record) => record.pass_rate !== null);
  const falsePositives = withHidden.filter((record) => !record.all_pass).length;
  let passedByReference: number | null = null;
  const solution = task.judge.kind === 'reference' ? referenceSolution(task.judge.task) : undefined;
  if (solution !== undefined && generated.length > 0) {
    const run = await runTests(executor, {
      language: task.language,
      solution,
      sources: generated,
      ...(task.entryPoint ? { entryPoint: task.entryPoint } : {}),
      perTestMs,
      ...(signal ? { signal } : {}),
    });
    passedByReference = run.infraError ? null : run.tests.filter((test) => test.status === 'passed').length;
  }
  return {
    kept: generated.length,
    rejected,
    attemptsPassingGenerated: passingGenerated.length,
    attemptsJudged: withHidden.length,
    falsePositives,
    falsePositiveRate: falsePositiveRate(falsePositives, withHidden.length),
    passedByReference,
  };
}

/** The one definition of the rate, for one solve and for a whole evaluation: false positives over judged attempts. */
function falsePositiveRate(falsePositives: number, judged: number): number | null {
  return judged === 0 ? null : falsePositives / judged;
}

/** Generated-test trust over several solves (evaluateStrategy): the counts summed, the rate with the same denominator. */
export function combineGeneratedTestStats(stats: readonly GeneratedTestStats[]): {
  attemptsPassingGenerated: number;
  attemptsJudged: number;
  falsePositives: number;
  falsePositiveRate: number | null;
} | null {
  if (stats.length === 0) return null;
  const sum = (key: 'attemptsPassingGenerated' | 'attemptsJudged' | 'falsePositives'): number =>
    stats.reduce((total, item) => total + item[key], 0);
  return {
    attemptsPassingGenerated: sum('attemptsPassingGenerated'),
    attemptsJudged: sum('attemptsJudged'),
    falsePositives: sum('falsePositives'),
    falsePositiveRate: falsePositiveRate(sum('falsePositives'), sum('attemptsJudged')),
  };
}
