import { UsageError } from '../core/index.js';

/** Languages a task can be written in (the sandbox runs the same three). */
export type TaskLanguage = 'python' | 'javascript' | 'typescript';

/**
 * How a run of the task's program is judged (the sandbox's `harness`).
 * - `completion`: passed only when the program ran to its last line without an uncaught exception (human-eval, EvalPlus,
 *   bigcode's MBPP: they `exec` the program and catch every exception). Python only.
 * - `exit-code`: passed when the process exits 0 (MultiPL-E).
 */
export type TaskHarness = 'completion' | 'exit-code';

/**
 * How `buildProgram` puts a task and a completion together, named after the concatenation it performs. Each dataset uses
 * the rule of its reference harness (see the loader of that dataset for the source).
 * - `human-eval`: `prompt + completion + (suffix ?? '') + "\n" + tests + "\n" + "check(" + entryPoint + ")"`
 *   (openai/human-eval `execution.py`; openai/human-eval-infilling adds the suffix after the completion).
 * - `prompt-completion-tests`: `prompt + completion + (suffix ?? '') + "\n" + tests` (MultiPL-E `main.py`, which has no
 *   suffix; EvalPlus's `prompt + completion` solution followed by test code).
 * - `completion-tests`: `completion + "\n" + tests`: the prompt is prose, not code, so the completion is the whole
 *   solution (MBPP; bigcode-evaluation-harness `code_eval.py` runs `candidate + "\n" + test_case`).
 */
export type ProgramLayout = 'human-eval' | 'prompt-completion-tests' | 'completion-tests';

/** Per-task resource limits; a missing field takes the sandbox's default for the language. */
export interface TaskLimits {
  /** Wall-clock limit of the program in ms (the reference harness's timeout, where it has one). */
  wallMs?: number;
  /** Memory limit in MiB. */
  memoryMiB?: number;
}

/**
 * EvalPlus test inputs kept as data (HumanEval+, MBPP+). Scoring with EvalPlus semantics (compare with the ground
 * truth's output on every input, `atol`, per-input time limits, MBPP input de-serialisation) is the evaluator's job.
 */
export interface PlusInputs {
  /**
   * The record's `base_input` as its JSON text, exactly as stored: a list with one argument list per call of the
   * original tests. Kept as text because 32 tasks' inputs hold integers beyond 2^53 and `Infinity` (Python's
   * non-standard JSON), which JavaScript numbers would round or reject: hand it to Python's `json.loads`.
   */
  baseInputJson: string;
  /** The record's `plus_input` (EvalPlus's extra inputs) as its JSON text; see `baseInputJson`. */
  plusInputJson: string;
  /** Absolute float tolerance EvalPlus uses for this task (0: exact, except that float outputs get 1e-6). */
  atol: number;
  /** Python assertions (lines ending `# $_CONTRACT_$`) that filter invalid inputs; '' when there are none. */
  contract: string;
}

/** One problem of a dataset: what a model sees, and what turns a completion into a program to run. */
export interface Task {
  /** Identifier as the reference harness spells it, e.g. `HumanEval/0`, `Mbpp/2`, `HumanEval_0_has_close_elements`. */
  id: string;
  /** Dataset name (`humaneval`, `multipl-e-humaneval-ts`, …) or, for a user file, its path. */
  dataset: string;
  language: TaskLanguage;
  /** What the model continues (a code prefix) or, for layout `completion-tests`, the problem statement in prose. */
  prompt: string;
  /** Name of the function under test, where the dataset has one (required by layout `human-eval`). */
  entryPoint?: string;
  /** Test code, appended after the completion (and the suffix) as the layout says. */
  tests: string;
  /** A completion known to pass: `buildProgram(task, task.canonicalSolution)` is the reference solution's program. */
  canonicalSolution?: string;
  /** Code after the hole, for infilling tasks; the completion is the middle. */
  suffix?: string;
  /** Strings at which a generated completion is cut (the dataset's or its reference harness's). */
  stopSequences: string[];
  limits?: TaskLimits;
  /** TypeScript: type-check before running, and count any type error as a failure (MultiPL-E). */
  typeCheck?: boolean;
  harness: TaskHarness;
  layout: ProgramLayout;
  /** EvalPlus inputs (HumanEval+, MBPP+ only). */
  plus?: PlusInputs;
}

/**
 * The program the reference harness runs for `completion` on `task`, byte for byte (see `ProgramLayout`). The
 * completion is used as given: cutting it at stop sequences or extracting code from markdown is the caller's choice.
 */
export function buildProgram(task: Task, completion: string): string {
  switch (task.layout) {
    case 'human-eval': {
      if (task.entryPoint === undefined || task.entryPoint === '') {
        throw new UsageError(
          `Task ${task.id} uses layout "human-eval", which ends in check(entry_point), but has no entry point: ` +
            'give it one, or use layout "prompt-completion-tests".',
        );
      }
      return task.prompt + completion + (task.suffix ?? '') + '\n' + task.tests + '\n' + `check(${task.entryPoint})`;
    }
    case 'prompt-completion-tests':
      return task.prompt + completion + (task.suffix ?? '') + '\n' + task.tests;
    case 'completion-tests':
      return completion + '\n' + task.tests;
  }
  // Only reachable from untyped callers.
  throw new UsageError(`Task ${task.id} has layout ${JSON.stringify(task.layout)}; use human-eval, prompt-completion-tests or completion-tests.`);
}
