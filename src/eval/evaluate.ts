import { createHash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { closeSync, existsSync, openSync, readFileSync, truncateSync, writeSync } from 'node:fs';
import { UsageError } from '../core/index.js';
import type { ExecutionRequest, ExecutionResult, Executor, Verdict } from '../sandbox/index.js';
import type { Task } from '../tasks/index.js';
import type { TaskCounts } from './pass-at-k.js';
import { sampleProgram, type Sample } from './samples.js';

/** Bytes of stdout and of stderr kept in a journal line (the end of the output, where errors are). */
const TAIL_BYTES = 2048;

/** One finished execution as journaled: one JSON line of `executions.jsonl`. */
export interface ExecutionRecord {
  taskId: string;
  /** `index` of every sample of the task whose program this was. */
  samples: number[];
  /** Lower-case hex SHA-256 of the program text (UTF-8): the resume key, with `taskId`. */
  programSha256: string;
  verdict: Verdict;
  reason: string;
  durationMs: number;
  stdoutTail: string;
  stderrTail: string;
}

/** What one sample came to. */
export interface SampleResult {
  taskId: string;
  /** The sample's index within its task (`Sample.index`). */
  index: number;
  verdict: Verdict;
  reason: string;
  programSha256: string;
  /** True when the verdict came from the journal of an earlier run, not from an execution in this one. */
  fromJournal: boolean;
}

export interface EvaluateOptions {
  /** Runs the programs; only `run` (and `concurrency`, when present) is used. */
  executor: Pick<Executor, 'run'> & Partial<Pick<Executor, 'concurrency'>>;
  /**
   * JSONL journal of finished executions (`ExecutionRecord` per line), appended and flushed to the OS line by line.
   * Lines already in it are reused instead of re-running the program (matched by task id and program SHA-256), so a
   * killed run resumes where it stopped. Default: none (nothing is journaled or resumed).
   */
  journalPath?: string;
  /** Aborting stops scoring: in-flight executions are cancelled and the signal's reason is thrown unchanged. */
  signal?: AbortSignal;
  /** Called once per sample as soon as its verdict is known (journal hits first, in sample order). */
  onSampleResult?: (result: SampleResult) => void;
}

export interface EvaluateResult {
  /** Per sample, in the order of `samples`. */
  samples: SampleResult[];
  /** Samples and passes per task, for pass@k: tasks with samples and without any infra-error, in dataset order. */
  counts: (TaskCounts & { taskId: string })[];
  /** Tasks left out of `counts` because a sample's execution broke in the sandbox (rerun to retry them). */
  excludedTasks: string[];
  /** Programs executed in this call (journal hits excluded). */
  executions: number;
  /** Programs whose verdict came from the journal. */
  reusedExecutions: number;
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function tail(text: string): string {
  const bytes = Buffer.from(text, 'utf8');
  // Cutting mid-character leaves a U+FFFD at the start, which is fine for a log tail.
  return bytes.length <= TAIL_BYTES ? text : bytes.subarray(bytes.length - TAIL_BYTES).toString('utf8');
}

/**
 * Reads the journal's records by `taskId sha256`. A last line cut short (a SIGKILL mid-write) is dropped and cut from
 * the file, so appending continues on a fresh line; any other bad line is a UsageError naming the file and line.
 */
function readJournal(path: string): Map<string, ExecutionRecord> {
  const records = new Map<string, ExecutionRecord>();
  if (!existsSync(path)) return records;
  const text = readFileSync(path, 'utf8');
  const complete = text.lastIndexOf('\n') + 1;
  if (complete < text.length) truncateSync(path, Buffer.byteLength(text.slice(0, complete), 'utf8'));
  const lines = text.slice(0, complete).split('\n');
  for (const [lineIndex, line] of lines.entries()) {
    if (line.trim() === '') continue;
    let record: ExecutionRecord;
    try {
      record = JSON.parse(line) as ExecutionRecord;
    } catch (error) {
      throw new UsageError(`${path}:${lineIndex + 1}: journal line is not valid JSON (${(error as Error).message}); delete the line or the journal to re-run.`, { cause: error });
    }
    if (typeof record.taskId !== 'string' || typeof record.programSha256 !== 'string' || typeof record.verdict !== 'string') {
      throw new UsageError(`${path}:${lineIndex + 1}: journal line lacks taskId, programSha256 or verdict; delete the line or the journal to re-run.`);
    }
    if (record.verdict !== 'infra-error') records.set(`${record.taskId} ${record.programSha256}`, record);
  }
  return records;
}

interface Job {
  task: Task;
  programSha256: string;
  request: ExecutionRequest;
  /** Positions in `samples` of the samples that share this program. */
  positions: number[];
}

/**
 * Scores `samples` against `tasks` by execution. Each distinct program of a task runs once; samples with an identical
 * program share its verdict. Every finished execution is journaled (when `journalPath` is set) except `infra-error`,
 * which says nothing about the program: it is retried on the next run, and its task is left out of `counts`.
 * Throws a UsageError for a sample whose task is not in `tasks`.
 */
export async function evaluateSamples(tasks: readonly Task[], samples: readonly Sample[], options: EvaluateOptions): Promise<EvaluateResult> {
  const { executor, journalPath, signal, onSampleResult } = options;
  signal?.throwIfAborted();
  const taskById = new Map(tasks.map((task) => [task.id, task]));
  const jobs = new Map<string, Job>();
  for (const [position, sample] of samples.entries()) {
    const task = taskById.get(sample.taskId);
    if (task === undefined) throw new UsageError(`${sample.source}: task_id ${JSON.stringify(sample.taskId)} is not a task of this dataset.`);
    const code = sampleProgram(task, sample);
    const programSha256 = sha256(code);
    const key = `${task.id} ${programSha256}`;
    const job = jobs.get(key);
    if (job !== undefined) {
      job.positions.push(position);
      continue;
    }
    const request: ExecutionRequest = {
      language: task.language,
      code,
      harness: task.harness,
      ...(task.typeCheck ? { typeCheck: true } : {}),
      ...(task.limits ? { limits: { ...task.limits } } : {}),
    };
    jobs.set(key, { task, programSha256, request, positions: [position] });
  }

  const results: (SampleResult | undefined)[] = new Array(samples.length);
  const settle = (job: Job, verdict: Verdict, reason: string, fromJournal: boolean): void => {
    for (const position of job.positions) {
      const sample = samples[position] as Sample;
      const result: SampleResult = { taskId: sample.taskId, index: sample.index, verdict, reason, programSha256: job.programSha256, fromJournal };
      results[position] = result;
      onSampleResult?.(result);
    }
  };

  const journal = journalPath === undefined ? new Map<string, ExecutionRecord>() : readJournal(journalPath);
  const pending: Job[] = [];
  let reusedExecutions = 0;
  for (const [key, job] of jobs) {
    const record = journal.get(key);
    if (record === undefined) {
      pending.push(job);
    } else {
      reusedExecutions++;
      settle(job, record.verdict, record.reason, true);
    }
  }

  // Twice the executor's width keeps every worker sandbox fed while results are being journaled.
  const width = Math.max(1, Math.min(pending.length, 2 * (executor.concurrency ?? 4)));
  // Every in-flight run adds listeners to the signal (more than one each): give them a signal of their own with no
  // listener cap, so Node does not warn of a leak on the caller's signal.
  const inner = new AbortController();
  setMaxListeners(0, inner.signal);
  const forward = (): void => inner.abort(signal?.reason);
  signal?.addEventListener('abort', forward, { once: true });
  const descriptor = journalPath === undefined ? null : openSync(journalPath, 'a');
  let executions = 0;
  try {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < pending.length) {
        inner.signal.throwIfAborted();
        const job = pending[next++] as Job;
        const result: ExecutionResult = await executor.run(job.request, { signal: inner.signal });
        executions++;
        if (descriptor !== null && result.verdict !== 'infra-error') {
          const record: ExecutionRecord = {
            taskId: job.task.id,
            samples: job.positions.map((position) => (samples[position] as Sample).index),
            programSha256: job.programSha256,
            verdict: result.verdict,
            reason: result.reason,
            durationMs: Math.round(result.durationMs),
            stdoutTail: tail(result.stdout),
            stderrTail: tail(result.stderr),
          };
          // One write per line on an O_APPEND descriptor: once it returns, the line survives a SIGKILL of this process.
          writeSync(descriptor, `${JSON.stringify(record)}\n`);
        }
        settle(job, result.verdict, result.reason, false);
      }
    };
    const workers = Array.from({ length: width }, () => worker());
    const outcomes = await Promise.allSettled(workers);
    const failure = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (failure !== undefined) throw signal?.aborted ? signal.reason : failure.reason;
  } finally {
    signal?.removeEventListener('abort', forward);
    if (descriptor !== null) closeSync(descriptor);
  }

  const finished = results as SampleResult[];
  const perTask = new Map<string, { n: number; c: number; infra: boolean }>();
  for (const result of finished) {
    const counts = perTask.get(result.taskId) ?? { n: 0, c: 0, infra: false };
    counts.n++;
    if (result.verdict === 'passed') counts.c++;
    if (result.verdict === 'infra-error') counts.infra = true;
    perTask.set(result.taskId, counts);
  }
  const counts: EvaluateResult['counts'] = [];
  const excludedTasks: string[] = [];
  for (const task of tasks) {
    const entry = perTask.get(task.id);
    if (entry === undefined) continue;
    if (entry.infra) excludedTasks.push(task.id);
    else counts.push({ taskId: task.id, n: entry.n, c: entry.c });
  }
  return { samples: finished, counts, excludedTasks, executions, reusedExecutions };
}
