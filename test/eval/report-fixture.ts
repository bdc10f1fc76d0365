// Test support for the report tests: a run folder written the way `codeloop eval --out` writes one (results file and
// metrics.json by writeEvalOutputs, one journal line per distinct program), from verdicts given by the test instead of
// a sandbox, so the report's join and rendering can be checked without running anything.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildMetrics, sampleProgram, writeEvalOutputs, type EvalMetrics, type EvaluateResult, type ExecutionRecord, type Sample, type SampleResult } from '../../src/eval/index.js';
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
}

/** Writes a run folder for `samples` of `dataset` into `dir` and returns its metrics. Identical programs share a line. */
export function writeRunFolder(dir: string, dataset: LoadedDataset, samples: FixtureSample[], options: { ks?: number[]; samplesFile?: string } = {}): EvalMetrics {
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
    const sample: Sample = { taskId: task.id, completion: fixture.completion, index, source: `${samplesFile}:${line + 1}`, record: { task_id: task.id, completion: fixture.completion } };
    const programSha256 = createHash('sha256').update(sampleProgram(task, sample), 'utf8').digest('hex');
    const reason = fixture.reason ?? (fixture.verdict === 'passed' ? 'exited with code 0' : 'exited with code 1 (AssertionError)');
    read.push(sample);
    results.push({ taskId: task.id, index, verdict: fixture.verdict, reason, programSha256, fromJournal: false });
    const key = `${task.id} ${programSha256}`;
    const record = journal.get(key);
    if (record !== undefined) record.samples.push(index);
    else if (fixture.verdict !== 'infra-error') {
      journal.set(key, { taskId: task.id, samples: [index], programSha256, verdict: fixture.verdict, reason, durationMs: fixture.durationMs ?? 12, stdoutTail: fixture.stdout ?? '', stderrTail: fixture.stderr ?? '' });
    }
  }
  const counts = new Map<string, { taskId: string; n: number; c: number; infra: boolean }>();
  for (const result of results) {
    const entry = counts.get(result.taskId) ?? { taskId: result.taskId, n: 0, c: 0, infra: false };
    entry.n++;
    if (result.verdict === 'passed') entry.c++;
    if (result.verdict === 'infra-error') entry.infra = true;
    counts.set(result.taskId, entry);
  }
  const evaluation: EvaluateResult = {
    samples: results,
    counts: dataset.tasks.flatMap((task) => {
      const entry = counts.get(task.id);
      return entry === undefined || entry.infra ? [] : [{ taskId: task.id, n: entry.n, c: entry.c }];
    }),
    excludedTasks: [...counts.values()].filter((entry) => entry.infra).map((entry) => entry.taskId),
    executions: journal.size,
    reusedExecutions: 0,
  };
  writeFileSync(join(dir, 'executions.jsonl'), [...journal.values()].map((record) => `${JSON.stringify(record)}\n`).join(''));
  const metrics = buildMetrics({ dataset, samples: read, evaluation, ks, isolation: 'bwrap+seccomp+cgroup', samplesFile });
  writeEvalOutputs(dir, read, evaluation, metrics, dataset.tasks);
  return metrics;
}
