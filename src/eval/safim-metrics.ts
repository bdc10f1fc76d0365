import { UsageError } from '../core/index.js';
import type { Verdict } from '../sandbox/index.js';
import {
  IO_TESTS_ERROR_PREFIX,
  SAFIM_LANGUAGES,
  safimCategory,
  type LoadedDataset,
  type OmittedRecords,
  type SafimCategory,
  type SafimLanguage,
  type Task,
} from '../tasks/index.js';

/**
 * SAFIM's `result` for one completion (safim `evaluate.py`, and `show_detailed_results.py`'s columns): passed as
 * `PASSED` (unit tests) or `EXACT_MATCH` (API syntax match), else the reason it failed. `MIXED` is what
 * `show_detailed_results.py` counts when a test other than the last one failed: ExecEval stops at the first failure
 * and leaves the later tests without an outcome, and that missing outcome counts as a second kind of failure.
 */
export type SafimLabel =
  | 'PASSED'
  | 'EXACT_MATCH'
  | 'EMPTY'
  | 'COMPILATION_ERROR'
  | 'RUNTIME_ERROR'
  | 'MEMORY_LIMIT_EXCEEDED'
  | 'TIME_LIMIT_EXCEEDED'
  | 'WRONG_ANSWER'
  | 'MIXED';

/** The failure columns of `show_detailed_results.py`, in its order. */
export const SAFIM_FAILURE_LABELS = [
  'EMPTY',
  'COMPILATION_ERROR',
  'RUNTIME_ERROR',
  'MEMORY_LIMIT_EXCEEDED',
  'TIME_LIMIT_EXCEEDED',
  'WRONG_ANSWER',
  'MIXED',
] as const;

export type SafimFailureLabel = (typeof SAFIM_FAILURE_LABELS)[number];

/** pass@1 of the tasks of one language. */
export interface SafimLanguageScore {
  tasks: number;
  /** Mean over the tasks of the share of their samples that passed, from 0 to 1 (SAFIM prints it ×100). */
  passAt1: number;
}

/** SAFIM's metrics for one subtask (`codeloop eval` on `safim-block`, `safim-control` or `safim-api`). */
export interface SafimMetrics {
  category: SafimCategory;
  /**
   * pass@1 over every counted task, from 0 to 1: SAFIM's `Pass@1` (`evaluate.py`: passes / problems). With one sample
   * per task, as SAFIM has, it is the share of tasks that passed; with more, the mean per-task pass rate. For block and
   * control this covers Python only (see `notScored`), so compare it with SAFIM's Python column, not its "all".
   */
  passAt1: number;
  /** Tasks pass@1 is averaged over: the dataset's tasks minus `excludedTasks`. */
  tasks: number;
  /** pass@1 per language, in `show_detailed_results.py`'s order (cpp, java, python, csharp); languages without tasks are absent. */
  byLanguage: Partial<Record<SafimLanguage, SafimLanguageScore>>;
  /** Failed samples per SAFIM label (`show_detailed_results.py`'s columns; every label listed, 0 when absent). */
  failures: Record<SafimFailureLabel, number>;
  /** Tasks without a sample. SAFIM scores every problem of the subtask, so these count as failed (`EMPTY`). */
  missingTasks: string[];
  /** Tasks left out because a sample's execution broke in the sandbox (`infra-error`); rerun to retry them. */
  excludedTasks: string[];
  /**
   * Samples equal to the task's ground truth that did not pass when run, but count as passed: SAFIM's `evaluate.py`
   * passes such a completion without running it. Non-zero only for ground truths that fail here (`knownBroken`).
   */
  groundTruthPasses: number;
  /** Records of the subtask that codeloop did not load, so not in any figure (Java, C++ and C# block/control). */
  notScored: OmittedRecords[];
}

/** What `safimMetrics` needs of a sample: its task and completion (a `Sample` of `codeloop eval`). */
export interface SafimSample {
  taskId: string;
  /** The completion as scored; without it SAFIM's ground-truth and `EMPTY` rules cannot be applied. */
  completion?: string;
}

/** What `safimMetrics` needs of a sample's result (a `SampleResult` of `evaluateSamples`). */
export interface SafimSampleResult {
  taskId: string;
  verdict: Verdict;
  reason: string;
}

/** Python's `str.isspace` characters: SAFIM's `completion.strip()` test for an empty completion. */
const PYTHON_SPACE = /^[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$/;

const IO_TESTS_ERROR = new RegExp(`${IO_TESTS_ERROR_PREFIX}([A-Z_]+)(?: on test (\\d+) of (\\d+))?`);
const SYNTAX_MATCH_ERROR = /SyntaxMatchError: ([A-Z_]+)/;

function failureFromExecution(task: Task, verdict: Verdict, reason: string): SafimFailureLabel {
  if (task.layout === 'syntax-match') {
    const label = SYNTAX_MATCH_ERROR.exec(reason)?.[1];
    return label === 'COMPILATION_ERROR' ? 'COMPILATION_ERROR' : 'WRONG_ANSWER';
  }
  const match = IO_TESTS_ERROR.exec(reason);
  const outcome = match?.[1];
  if (match !== null && outcome !== undefined && (SAFIM_FAILURE_LABELS as readonly string[]).includes(outcome)) {
    const failedTest = Number(match[2] ?? 0);
    const tests = Number(match[3] ?? 0);
    return failedTest > 0 && failedTest < tests ? 'MIXED' : (outcome as SafimFailureLabel);
  }
  // The driver did not finish (the sandbox stopped it): name it by the sandbox's verdict.
  if (verdict === 'timed-out') return 'TIME_LIMIT_EXCEEDED';
  if (verdict === 'memory-exceeded') return 'MEMORY_LIMIT_EXCEEDED';
  return 'RUNTIME_ERROR';
}

/**
 * SAFIM's label for one scored sample (safim `evaluate.py`): a completion equal to the ground truth of a unit-test task
 * is `PASSED` without regard to its execution; a passed one is `PASSED` or `EXACT_MATCH`; a failed one gets the outcome
 * the driver reported, except that an empty completion (only whitespace) is `EMPTY` unless the program does not
 * compile (SAFIM then says `COMPILATION_ERROR`).
 */
export function safimLabel(task: Task, verdict: Verdict, reason: string, completion?: string): SafimLabel {
  if (task.layout === 'io-tests' && completion !== undefined && completion === task.canonicalSolution) return 'PASSED';
  if (verdict === 'passed') return task.layout === 'syntax-match' ? 'EXACT_MATCH' : 'PASSED';
  const failure = failureFromExecution(task, verdict, reason);
  if (failure !== 'COMPILATION_ERROR' && completion !== undefined && PYTHON_SPACE.test(completion)) return 'EMPTY';
  return failure;
}

/**
 * SAFIM's metrics for one subtask from scored samples: pass@1 (overall and per language) and the failure counts of
 * `show_detailed_results.py`. `samples` and `results` are parallel (as `codeloop eval` has them: `results[i]` is the
 * verdict of `samples[i]`). Tasks without samples count as failed, as in SAFIM; tasks with an `infra-error` sample are
 * left out and listed. Throws a UsageError for a dataset that is not SAFIM's.
 */
export function safimMetrics(
  dataset: LoadedDataset,
  samples: readonly SafimSample[],
  results: readonly SafimSampleResult[],
): SafimMetrics {
  const category = safimCategory(dataset.name);
  if (category === undefined)
    throw new UsageError(`SAFIM metrics are for safim-block, safim-control and safim-api, not "${dataset.name}".`);
  if (samples.length !== results.length) {
    throw new UsageError(
      `safimMetrics needs one result per sample: got ${samples.length} samples and ${results.length} results.`,
    );
  }
  const taskById = new Map(dataset.tasks.map((task) => [task.id, task]));
  const perTask = new Map<string, { labels: SafimLabel[]; infra: boolean; groundTruthPasses: number }>();
  for (const [position, result] of results.entries()) {
    const sample = samples[position] as SafimSample;
    const task = taskById.get(result.taskId);
    if (task === undefined || sample.taskId !== result.taskId) {
      throw new UsageError(
        `Result ${position} is for task ${JSON.stringify(result.taskId)}, which is not the sample's task or not a task of ${dataset.name}.`,
      );
    }
    const entry = perTask.get(task.id) ?? { labels: [], infra: false, groundTruthPasses: 0 };
    perTask.set(task.id, entry);
    if (result.verdict === 'infra-error') {
      entry.infra = true;
      continue;
    }
    const label = safimLabel(task, result.verdict, result.reason, sample.completion);
    if (label === 'PASSED' && result.verdict !== 'passed') entry.groundTruthPasses++;
    entry.labels.push(label);
  }

  const failures = Object.fromEntries(SAFIM_FAILURE_LABELS.map((label) => [label, 0])) as Record<
    SafimFailureLabel,
    number
  >;
  const byLanguageTotals = new Map<SafimLanguage, { tasks: number; sum: number }>();
  const missingTasks: string[] = [];
  const excludedTasks: string[] = [];
  let groundTruthPasses = 0;
  let sum = 0;
  let counted = 0;
  for (const task of dataset.tasks) {
    const entry = perTask.get(task.id);
    if (entry?.infra) {
      excludedTasks.push(task.id);
      continue;
    }
    let rate = 0;
    if (entry === undefined) {
      missingTasks.push(task.id);
      failures.EMPTY++;
    } else {
      const passed = entry.labels.filter((label) => label === 'PASSED' || label === 'EXACT_MATCH').length;
      for (const label of entry.labels) if (label !== 'PASSED' && label !== 'EXACT_MATCH') failures[label]++;
      groundTruthPasses += entry.groundTruthPasses;
      rate = passed / entry.labels.length;
    }
    const language = (task.sourceLanguage ?? task.language) as SafimLanguage;
    const totals = byLanguageTotals.get(language) ?? { tasks: 0, sum: 0 };
    totals.tasks++;
    totals.sum += rate;
    byLanguageTotals.set(language, totals);
    sum += rate;
    counted++;
  }
  const byLanguage: Partial<Record<SafimLanguage, SafimLanguageScore>> = {};
  for (const language of SAFIM_LANGUAGES) {
    const totals = byLanguageTotals.get(language);
    if (totals !== undefined) byLanguage[language] = { tasks: totals.tasks, passAt1: totals.sum / totals.tasks };
  }
  return {
    category,
    passAt1: counted === 0 ? 0 : sum / counted,
    tasks: counted,
    byLanguage,
    failures,
    missingTasks,
    excludedTasks,
    groundTruthPasses,
    notScored: dataset.omitted ?? [],
  };
}
