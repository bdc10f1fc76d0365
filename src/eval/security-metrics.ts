import { passAtK, type PassAtKResult, type TaskCounts } from '../core/index.js';
import type { Task } from '../tasks/index.js';
import type { EvaluateResult, SampleResult } from './evaluate.js';
import { isSecurityTask } from './security-tests.js';

/** func@k and func-sec@k over a group of tasks (CWEval's metrics, the unbiased pass@k estimator). */
export interface SecurityScores {
  tasks: number;
  /** pass@k where a sample counts when every functionality case passes (keys `pass@1`, …). */
  funcAtK: PassAtKResult;
  /** pass@k where a sample counts when every functionality AND every security case passes. */
  funcSecAtK: PassAtKResult;
}

/** What metrics.json holds for a dataset with security tests (`EvalMetrics.security`). */
export interface SecurityMetrics extends SecurityScores {
  /** Per language (`python`, `javascript`). */
  byLanguage: Record<string, SecurityScores>;
  /** Per CWE of the task id (`CWE-022`), as CWEval groups its results. */
  byCwe: Record<string, SecurityScores>;
  /**
   * Tasks scored but left out of the scores above: their tests cannot fail a wrong program (js/cwe_078_0), with the
   * reason. CWEval itself counts them; `passAtK` in metrics.json does too (it is func@k over every task, as upstream).
   */
  notCounted: { taskId: string; reason: string }[];
  /** Samples by outcome (counted and not counted tasks alike, infra-errors excluded). */
  samples: { total: number; functional: number; secure: number; functionalAndSecure: number };
  /** Tasks whose test file names another CWE than the task id (upstream mislabels), kept under the id's CWE. */
  cweLabelMismatches: { taskId: string; cwe: string; cweInTestHeader: string }[];
}

function scores(counts: readonly { func: TaskCounts; funcSec: TaskCounts }[], ks: readonly number[]): SecurityScores {
  if (counts.length === 0) return { tasks: 0, funcAtK: {}, funcSecAtK: {} };
  return {
    tasks: counts.length,
    funcAtK: passAtK(
      counts.map((entry) => entry.func),
      ks,
    ),
    funcSecAtK: passAtK(
      counts.map((entry) => entry.funcSec),
      ks,
    ),
  };
}

/**
 * func@k and func-sec@k of a run over tasks with security tests, overall, per language and per CWE; undefined when no
 * scored task has security tests. Tasks left out of `evaluation.counts` (infra-errors) are left out here too.
 */
export function securityMetrics(
  tasks: readonly Task[],
  evaluation: Pick<EvaluateResult, 'samples' | 'excludedTasks'>,
  ks: readonly number[],
): SecurityMetrics | undefined {
  const byTask = new Map<string, SampleResult[]>();
  for (const result of evaluation.samples) {
    const list = byTask.get(result.taskId) ?? [];
    list.push(result);
    byTask.set(result.taskId, list);
  }
  const excluded = new Set(evaluation.excludedTasks);
  const scored = tasks.filter(isSecurityTask).filter((task) => byTask.has(task.id));
  if (scored.length === 0) return undefined;
  const samples = { total: 0, functional: 0, secure: 0, functionalAndSecure: 0 };
  const groups = { all: [] as string[], language: new Map<string, string[]>(), cwe: new Map<string, string[]>() };
  const counts = new Map<string, { func: TaskCounts; funcSec: TaskCounts }>();
  const notCounted: SecurityMetrics['notCounted'] = [];
  for (const task of scored) {
    const results = (byTask.get(task.id) ?? []).filter((result) => result.verdict !== 'infra-error');
    for (const result of results) {
      samples.total++;
      const functional = result.verdict === 'passed';
      const secure = result.security?.secure === true;
      if (functional) samples.functional++;
      if (secure) samples.secure++;
      if (functional && secure) samples.functionalAndSecure++;
    }
    if (excluded.has(task.id)) continue;
    if (task.security.vacuous !== undefined) {
      notCounted.push({ taskId: task.id, reason: task.security.vacuous });
      continue;
    }
    const n = results.length;
    const func = results.filter((result) => result.verdict === 'passed').length;
    const funcSec = results.filter((result) => result.verdict === 'passed' && result.security?.secure === true).length;
    counts.set(task.id, { func: { n, c: func }, funcSec: { n, c: funcSec } });
    groups.all.push(task.id);
    for (const [map, key] of [
      [groups.language, task.language],
      [groups.cwe, task.security.cwe],
    ] as const) {
      const list = map.get(key) ?? [];
      list.push(task.id);
      map.set(key, list);
    }
  }
  const of = (ids: readonly string[]): SecurityScores =>
    scores(
      ids.map((id) => counts.get(id)!),
      ks,
    );
  const sortedKeys = (map: Map<string, string[]>): string[] => [...map.keys()].sort();
  return {
    ...of(groups.all),
    byLanguage: Object.fromEntries(sortedKeys(groups.language).map((key) => [key, of(groups.language.get(key)!)])),
    byCwe: Object.fromEntries(sortedKeys(groups.cwe).map((key) => [key, of(groups.cwe.get(key)!)])),
    notCounted,
    samples,
    cweLabelMismatches: scored
      .filter((task) => task.security.cweInTestHeader !== undefined)
      .map((task) => ({ taskId: task.id, cwe: task.security.cwe, cweInTestHeader: task.security.cweInTestHeader! })),
  };
}

function percent(value: number | undefined): string {
  return ((value ?? 0) * 100).toFixed(1);
}

/** `func@1 41.2% func-sec@1 30.0%` for the summary. */
export function formatSecurityScores(scores: SecurityScores): string {
  const parts: string[] = [];
  for (const key of Object.keys(scores.funcAtK) as (keyof PassAtKResult)[]) {
    const k = key.slice('pass@'.length);
    parts.push(`func@${k} ${percent(scores.funcAtK[key])}% func-sec@${k} ${percent(scores.funcSecAtK[key])}%`);
  }
  return parts.length === 0 ? 'no k with enough samples' : parts.join(', ');
}

/** The summary's lines for a security run. */
export function securitySummaryLines(metrics: SecurityMetrics): string[] {
  const lines = [`  ${formatSecurityScores(metrics)} over ${metrics.tasks} tasks`];
  for (const [language, score] of Object.entries(metrics.byLanguage))
    lines.push(`  ${language}: ${formatSecurityScores(score)} (${score.tasks} tasks)`);
  const cwes = Object.entries(metrics.byCwe).map(([cwe, score]) => {
    const first = Object.keys(score.funcAtK)[0] as keyof PassAtKResult | undefined;
    if (first === undefined) return `${cwe} -`;
    const func = ((score.funcAtK[first] ?? 0) * 100).toFixed(0);
    const funcSec = ((score.funcSecAtK[first] ?? 0) * 100).toFixed(0);
    return `${cwe} ${func}/${funcSec}`;
  });
  if (cwes.length > 0) {
    const first = Object.keys(metrics.funcAtK)[0] ?? 'pass@1';
    lines.push(`  per CWE (func/func-sec @${first.slice('pass@'.length)}, %): ${cwes.join(', ')}`);
  }
  const { samples } = metrics;
  lines.push(
    `  samples: ${samples.functional}/${samples.total} functional, ${samples.secure} secure, ` +
      `${samples.functionalAndSecure} both`,
  );
  for (const entry of metrics.notCounted) lines.push(`  not counted: ${entry.taskId}: ${entry.reason}`);
  return lines;
}
