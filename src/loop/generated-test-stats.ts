import type { Executor } from '../sandbox/index.js';
import type { AttemptRecord } from './attempt-record.js';
import { runTests, type TestSource } from './run-tests.js';
import { referenceSolution, type SolveTask } from './solve-task.js';

export interface GeneratedTestStats {
  /** Distinct tests kept after vetting. */
  kept: number;
  rejected: number;
  /** Attempts that passed every generated test, and of those, how many fail hidden tests (Reflexion's false positives). */
  attemptsPassingGenerated: number;
  falsePositives: number;
  /** falsePositives / attemptsPassingGenerated; null when no attempt passed them all or there are no hidden tests. */
  falsePositiveRate: number | null;
  /** Generated tests the task's reference solution passes (null when the task has none). */
  passedByReference: number | null;
}

/** How far the generated tests can be trusted: false positives against hidden tests, and agreement with the reference. */
export async function generatedTestStats(executor: Executor, task: SolveTask, attempts: readonly AttemptRecord[], generated: TestSource[], rejected: number, perTestMs: number, signal: AbortSignal | undefined): Promise<GeneratedTestStats> {
  const programs = attempts.filter((record) => (record.kind === 'sample' || record.kind === 'repair') && !record.infra_error);
  const passingGenerated = programs.filter((record) => {
    const generatedResults = record.tests.filter((test) => test.origin === 'generated');
    return generatedResults.length > 0 && generatedResults.every((test) => test.status === 'passed');
  });
  const withHidden = passingGenerated.filter((record) => record.pass_rate !== null);
  const falsePositives = withHidden.filter((record) => !record.all_pass).length;
  let passedByReference: number | null = null;
  const solution = task.judge.kind === 'reference' ? referenceSolution(task.judge.task) : undefined;
  if (solution !== undefined && generated.length > 0) {
    const run = await runTests(executor, { language: task.language, solution, sources: generated, ...(task.entryPoint ? { entryPoint: task.entryPoint } : {}), perTestMs, ...(signal ? { signal } : {}) });
    passedByReference = run.infraError ? null : run.tests.filter((test) => test.status === 'passed').length;
  }
  return {
    kept: generated.length,
    rejected,
    attemptsPassingGenerated: passingGenerated.length,
    falsePositives,
    falsePositiveRate: withHidden.length === 0 ? null : falsePositives / withHidden.length,
    passedByReference,
  };
}
