/** The solve loop's evaluate step: one candidate program run against its tests, visible and hidden apart. */
import { runTests, type Executor, type TestRunResult, type TestSource } from '../sandbox/index.js';
import { commandRun } from './command-run.js';
import type { SolveTask } from './solve-task.js';

/** What evaluating needs from the solve: the sandbox, the task, and the signals that end it. */
export interface EvaluateContext {
  executor: Executor;
  task: SolveTask;
  perTestMs: number;
  /** Type-check TypeScript too (MultiPL-E counts a type error as a failure). */
  typeCheck: boolean;
  /** The caller's signal and the wall-clock deadline together: passed to every run. */
  callSignal: AbortSignal | undefined;
  /** The caller's signal: its abort is rethrown. */
  signal: AbortSignal | undefined;
  /** The wall-clock budget's signal: its abort gives null. */
  deadline: AbortSignal | undefined;
}

/**
 * Runs a program against its visible tests and, in a SEPARATE execution, its hidden ones (retrying once when the
 * sandbox breaks); null when the wall clock ran out. Two executions, because the runner shares the candidate's
 * process: a candidate run next to the hidden tests could read them and put them in an exception message that
 * becomes feedback. Everything the model can be shown (visible results, how loading the solution went) comes from the
 * execution that never held a hidden test.
 */
export async function evaluateCandidate(
  context: EvaluateContext,
  code: string,
  visible: TestSource[],
  hidden: TestSource[],
): Promise<TestRunResult | null> {
  const { executor, task, perTestMs, typeCheck, callSignal, signal, deadline } = context;
  const run = (sources: TestSource[]): Promise<TestRunResult> =>
    runTests(executor, {
      language: task.language,
      solution: code,
      sources,
      ...(task.entryPoint ? { entryPoint: task.entryPoint } : {}),
      perTestMs,
      typeCheck,
      ...(callSignal ? { signal: callSignal } : {}),
    });
  for (let attempt = 0; ; attempt++) {
    try {
      let result: TestRunResult;
      if (task.judge.kind === 'command') result = await commandRun(executor, task, code, callSignal);
      else {
        const [shown, secret] = await Promise.all([run(visible), hidden.length > 0 ? run(hidden) : null]);
        result =
          secret === null
            ? shown
            : {
                ...shown,
                tests: [...shown.tests, ...secret.tests],
                infraError: shown.infraError || secret.infraError,
              };
      }
      if (!result.infraError || attempt >= 1) return result;
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (deadline?.aborted) return null;
      throw error;
    }
  }
}
