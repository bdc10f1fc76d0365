// Test support for the report tests: a run folder written the way `codeloop eval --out` writes one (results file and
// metrics.json by writeEvalOutputs, one journal line per distinct program), from verdicts given by the test instead of
// a sandbox, so the report's join and rendering can be checked without running anything.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildMetrics,
  evalPlusSolution,
  sampleProgram,
  writeEvalOutputs,
  type EvalMetrics,
  type EvaluateResult,
  type ExecutionRecord,
  type Sample,
  type SampleResult,
} from '../../src/eval/index.js';
import type { Verdict } from '../../src/sandbox/index.js';
import type { LoadedDataset } from '../../src/tasks/index.js';

export interface FixtureSample {
  taskId: string;
  completion: string;
  verdict: Verdict;
  reason?: string;
  stdout?: string;
  stderr?: string;
  durationMs?: number;
  /** EvalPlus tasks (HumanEval+, MBPP+): the plus verdict; a sample counts under plus only when both pass. */
  plus?: 'passed' | 'failed' | 'timed-out';
}

function evalPlusPhase(verdict: Verdict): {
  status: 'pass' | 'fail' | 'timeout';
  passedInputs: number;
  failIndex: number | null;
  reason: string;
} {
  if (verdict === 'passed') return { status: 'pass', passedInputs: 3, failIndex: null, reason: '' };
  if (verdict === 'timed-out')
    return { status: 'timeout', passedInputs: 1, failIndex: 1, reason: 'input 1: timed out' };
  return { status: 'fail', passedInputs: 1, failIndex: 1, reason: 'input 1: expected 2, got 3' };
}

/** Writes a run folder for `samples` of `dataset` into `dir` and returns its metrics. Identical programs share a line. */
export function writeRunFolder(
  dir: string,
  dataset: LoadedDataset,
  samples: FixtureSample[],
  options: { ks?: number[]; samplesFile?: string } = {},
): EvalMetrics {
  const { ks = [1], samplesFile = join(dir, 'samples.jsonl') } = options;
  mkdirSync(dir, { recursive: true });
  const taskById = new Map(dataset.tasks.map((task) => [task.id, task]));
  const perTask = new Map<string, number>();
  const read: Sample[] = [];
  const results: SampleResult[] = [];
  const journal = new Map<string, ExecutionRecord>();
  for (const [line, fixture] of samples.entries()) {
    const task = taskById.get(fixture.taskId);
    if (task === undefined) throw new Error(`fixture: no task ${fixture.taskId}`);
    const index = perTask.get(task.id) ?? 0;
    perTask.set(task.id, index + 1);
    const sample: Sample = {
      taskId: task.id,
      completion: fixture.completion,
      index,
      source: `${samplesFile}:${line + 1}`,
      record: { task_id: task.id, completion: fixture.completion },
    };
    // As evaluateSamples keys programs: EvalPlus tasks by their solution text, others by the whole program.
    const program = task.plus === undefined ? sampleProgram(task, sample) : evalPlusSolution(task, sample);
    const programSha256 = createHash('sha256').update(program, 'utf8').digest('hex');
    const reason =
      fixture.reason ?? (fixture.verdict === 'passed' ? 'exited with code 0' : 'exited with code 1 (AssertionError)');
    // As evaluateSamples: a sample that fails base inputs has the base verdict as its plus verdict.
    const plusVerdict = fixture.plus ?? 'failed';
    const plus =
      task.plus === undefined
        ? {}
        : {
            plus:
              fixture.verdict === 'passed'
                ? { verdict: plusVerdict, reason: evalPlusPhase(plusVerdict).reason }
                : { verdict: fixture.verdict, reason },
            evalplus: { base: evalPlusPhase(fixture.verdict), plus: evalPlusPhase(plusVerdict) },
          };
    read.push(sample);
    results.push({
      taskId: task.id,
      index,
      verdict: fixture.verdict,
      reason,
      ...plus,
      programSha256,
      fromJournal: false,
    });
    const key = `${task.id} ${programSha256}`;
    const record = journal.get(key);
    if (record !== undefined) record.samples.push(index);
    else if (fixture.verdict !== 'infra-error') {
      journal.set(key, {
        taskId: task.id,
        samples: [index],
        programSha256,
        verdict: fixture.verdict,
        reason,
        ...plus,
        durationMs: fixture.durationMs ?? 12,
        stdoutTail: fixture.stdout ?? '',
        stderrTail: fixture.stderr ?? '',
      });
    }
  }
  const counts = new Map<
    string,
    { taskId: string; n: number; c: number; cPlus: number; allPlus: boolean; infra: boolean }
  >();
  for (const result of results) {
    const entry = counts.get(result.taskId) ?? {
      taskId: result.taskId,
      n: 0,
      c: 0,
      cPlus: 0,
      allPlus: true,
      infra: false,
    };
    entry.n++;
    if (result.verdict === 'passed') entry.c++;
    if (result.plus === undefined) entry.allPlus = false;
    else if (result.plus.verdict === 'passed') entry.cPlus++;
    if (result.verdict === 'infra-error') entry.infra = true;
    counts.set(result.taskId, entry);
  }
  const counted = dataset.tasks.flatMap((task) => {
    const entry = counts.get(task.id);
    return entry === undefined || entry.infra ? [] : [entry];
  });
  const evaluation: EvaluateResult = {
    samples: results,
    counts: counted.map(({ taskId, n, c }) => ({ taskId, n, c })),
    ...(counted.length > 0 && counted.every((entry) => entry.allPlus)
      ? { countsPlus: counted.map(({ taskId, n, cPlus }) => ({ taskId, n, c: cPlus })) }
      : {}),
    excludedTasks: [...counts.values()].filter((entry) => entry.infra).map((entry) => entry.taskId),
    executions: journal.size,
    reusedExecutions: 0,
  };
  writeFileSync(
    join(dir, 'executions.jsonl'),
    [...journal.values()].map((record) => `${JSON.stringify(record)}\n`).join(''),
  );
  const metrics = buildMetrics({
    dataset,
    samples: read,
    evaluation,
    ks,
    isolation: 'bwrap+seccomp+cgroup',
    samplesFile,
  });
  writeEvalOutputs(dir, read, evaluation, metrics, dataset.tasks);
  return metrics;
}
