import { createHash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { closeSync, openSync, writeSync } from 'node:fs';
import { readCompleteLines, UsageError, type TaskCounts } from '../core/index.js';
import type { ExecutionRequest, ExecutionResult, Executor, Verdict } from '../sandbox/index.js';
import type { Task } from '../tasks/index.js';
import {
  checkRequest,
  evalPlusSolution,
  evalPlusVerdict,
  groundTruthRequest,
  isEvalPlusTask,
  parseCheck,
  parseGroundTruth,
  readCachedGroundTruth,
  writeCachedGroundTruth,
  type EvalPlusGroundTruth,
  type EvalPlusOptions,
  type EvalPlusResult,
} from './evalplus.js';
import { sampleProgram, type Sample } from './samples.js';
import { isSecurityTask, parseSecurityRun, securityRequest, type SecurityOutcome } from './security-tests.js';

/** Bytes of stdout and of stderr kept in a journal line (the end of the output, where errors are). */
const TAIL_BYTES = 2048;

/** One finished execution as journaled: one JSON line of `executions.jsonl`. */
export interface ExecutionRecord {
  taskId: string;
  /** `index` of every sample of the task whose program this was. */
  samples: number[];
  /**
   * Lower-case hex SHA-256 of the program text (UTF-8): the resume key, with `taskId`. For an EvalPlus task the
   * "program" is the solution EvalPlus scores (`solution`, or prompt + completion).
   */
  programSha256: string;
  /** For an EvalPlus task: the base phase's verdict. */
  verdict: Verdict;
  reason: string;
  /** human-eval-harness tasks: the `result` string openai/human-eval gives the program (`ExecutionResult.humanEvalResult`). */
  humanEvalResult?: string;
  /** EvalPlus tasks: the plus verdict (passed only when base and plus inputs all pass, as EvalPlus counts it). */
  plus?: { verdict: Verdict; reason: string };
  /** EvalPlus tasks: both phases as EvalPlus reports them (status, failing input). */
  evalplus?: EvalPlusResult;
  /** Tasks with security tests (CWEval): functional, secure, and every test case's outcome. */
  security?: SecurityOutcome;
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
  /** human-eval-harness tasks: the `result` string openai/human-eval gives the program. */
  humanEvalResult?: string;
  /** EvalPlus tasks: the plus verdict (see `ExecutionRecord.plus`). */
  plus?: { verdict: Verdict; reason: string };
  /** EvalPlus tasks: both phases as EvalPlus reports them. */
  evalplus?: EvalPlusResult;
  /** Tasks with security tests (CWEval): functional (= `verdict` passed), secure, and every case's outcome. */
  security?: SecurityOutcome;
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
  /** EvalPlus scoring settings for tasks with EvalPlus inputs (HumanEval+, MBPP+). */
  evalPlus?: EvalPlusOptions;
  /**
   * Ground truths of EvalPlus tasks by task id, reused when present and filled in when computed (pass the same map to
   * several calls to compute each once). Default: a new map per call.
   */
  groundTruths?: Map<string, EvalPlusGroundTruth>;
  /**
   * Folder where EvalPlus ground truths are kept between runs (keyed by everything they depend on), like EvalPlus's
   * own cache. Default: none (computed in every call). `codeloop eval` uses `~/.cache/codeloop/evalplus-ground-truth`.
   */
  groundTruthCacheDir?: string;
}

export interface EvaluateResult {
  /** Per sample, in the order of `samples`. */
  samples: SampleResult[];
  /** Samples and passes per task, for pass@k: tasks with samples and without any infra-error, in dataset order. */
  counts: (TaskCounts & { taskId: string })[];
  /** The same with EvalPlus's plus verdicts, when every counted task is an EvalPlus task and plus was scored. */
  countsPlus?: (TaskCounts & { taskId: string })[];
  /**
   * Tasks with security tests, when every counted task has them: a sample counts when it is functional AND secure
   * (CWEval's func-sec@k); `counts` is then func@k's.
   */
  countsSecure?: (TaskCounts & { taskId: string })[];
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
  for (const [lineIndex, line] of readCompleteLines(path).entries()) {
    if (line.trim() === '') continue;
    let record: ExecutionRecord;
    try {
      record = JSON.parse(line) as ExecutionRecord;
    } catch (error) {
      throw new UsageError(
        `${path}:${lineIndex + 1}: journal line is not valid JSON (${(error as Error).message}); delete the line or the journal to re-run.`,
        { cause: error },
      );
    }
    if (
      typeof record.taskId !== 'string' ||
      typeof record.programSha256 !== 'string' ||
      typeof record.verdict !== 'string'
    ) {
      throw new UsageError(
        `${path}:${lineIndex + 1}: journal line lacks taskId, programSha256 or verdict; delete the line or the journal to re-run.`,
      );
    }
    if (record.verdict !== 'infra-error') records.set(`${record.taskId} ${record.programSha256}`, record);
  }
  return records;
}

interface Job {
  task: Task;
  programSha256: string;
  /** The program to run; for an EvalPlus task, the solution (the request is built once the ground truth is known). */
  code: string;
  /** Positions in `samples` of the samples that share this program. */
  positions: number[];
}

/** What one execution came to, whichever way its task is scored. */
interface Outcome {
  verdict: Verdict;
  reason: string;
  humanEvalResult?: string;
  plus?: { verdict: Verdict; reason: string };
  evalplus?: EvalPlusResult;
  security?: SecurityOutcome;
}

function plainRequest(task: Task, code: string): ExecutionRequest {
  return {
    language: task.language,
    code,
    harness: task.harness,
    ...(task.typeCheck ? { typeCheck: true } : {}),
    ...(task.limits ? { limits: { ...task.limits } } : {}),
  };
}

/** EvalPlus's plus verdict: passed only when base passed too (its pass@k "plus" counts `base == plus == pass`). */
function plusOutcome(result: EvalPlusResult): { verdict: Verdict; reason: string } | undefined {
  if (result.plus === undefined) return undefined;
  if (result.base.status !== 'pass')
    return { verdict: evalPlusVerdict(result.base.status), reason: result.base.reason };
  return { verdict: evalPlusVerdict(result.plus.status), reason: result.plus.reason };
}

/**
 * Scores `samples` against `tasks` by execution. Each distinct program of a task runs once; samples with an identical
 * program share its verdict. Every finished execution is journaled (when `journalPath` is set) except `infra-error`,
 * which says nothing about the program: it is retried on the next run, and its task is left out of `counts`.
 * Throws a UsageError for a sample whose task is not in `tasks`.
 */
export async function evaluateSamples(
  tasks: readonly Task[],
  samples: readonly Sample[],
  options: EvaluateOptions,
): Promise<EvaluateResult> {
  const {
    executor,
    journalPath,
    signal,
    onSampleResult,
    evalPlus = {},
    groundTruths = new Map<string, EvalPlusGroundTruth>(),
    groundTruthCacheDir,
  } = options;
  signal?.throwIfAborted();
  const taskById = new Map(tasks.map((task) => [task.id, task]));
  const jobs = new Map<string, Job>();
  for (const [position, sample] of samples.entries()) {
    const task = taskById.get(sample.taskId);
    if (task === undefined)
      throw new UsageError(`${sample.source}: task_id ${JSON.stringify(sample.taskId)} is not a task of this dataset.`);
    const code = isEvalPlusTask(task) ? evalPlusSolution(task, sample) : sampleProgram(task, sample);
    const programSha256 = sha256(code);
    const key = `${task.id} ${programSha256}`;
    const job = jobs.get(key);
    if (job !== undefined) {
      job.positions.push(position);
      continue;
    }
    jobs.set(key, { task, programSha256, code, positions: [position] });
  }

  const results: (SampleResult | undefined)[] = new Array(samples.length);
  const settle = (job: Job, outcome: Outcome, fromJournal: boolean): void => {
    for (const position of job.positions) {
      const sample = samples[position] as Sample;
      const result: SampleResult = {
        taskId: sample.taskId,
        index: sample.index,
        ...outcome,
        programSha256: job.programSha256,
        fromJournal,
      };
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
      settle(
        job,
        {
          verdict: record.verdict,
          reason: record.reason,
          ...(record.humanEvalResult === undefined ? {} : { humanEvalResult: record.humanEvalResult }),
          ...(record.plus === undefined ? {} : { plus: record.plus }),
          ...(record.evalplus === undefined ? {} : { evalplus: record.evalplus }),
          ...(record.security === undefined ? {} : { security: record.security }),
        },
        true,
      );
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
    // Runs `items` through `step` on `width` concurrent loops; the first error (or the abort) is thrown.
    const runAll = async <T>(items: readonly T[], step: (item: T) => Promise<void>): Promise<void> => {
      let next = 0;
      const loop = async (): Promise<void> => {
        while (next < items.length) {
          inner.signal.throwIfAborted();
          await step(items[next++] as T);
        }
      };
      const loops = Array.from({ length: Math.min(width, items.length) }, () => loop());
      const outcomes = await Promise.allSettled(loops);
      const failure = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
      if (failure !== undefined) throw signal?.aborted ? signal.reason : failure.reason;
    };

    // EvalPlus tasks need their ground truth (the canonical solution's outputs and times) before any check.
    const needGroundTruth = [
      ...new Set(pending.filter((job) => isEvalPlusTask(job.task)).map((job) => job.task)),
    ].filter((task) => !groundTruths.has(task.id));
    await runAll(needGroundTruth, async (task) => {
      const cached = groundTruthCacheDir === undefined ? undefined : readCachedGroundTruth(groundTruthCacheDir, task);
      if (cached !== undefined) {
        groundTruths.set(task.id, cached);
        return;
      }
      const { request, nonce } = groundTruthRequest(task);
      let result = await executor.run(request, { signal: inner.signal });
      if (result.verdict === 'infra-error') result = await executor.run(request, { signal: inner.signal });
      const groundTruth = parseGroundTruth(task, result, nonce);
      groundTruths.set(task.id, groundTruth);
      if (groundTruthCacheDir !== undefined) writeCachedGroundTruth(groundTruthCacheDir, task, groundTruth);
    });

    await runAll(pending, async (job) => {
      let outcome: Outcome;
      let result: ExecutionResult;
      if (isEvalPlusTask(job.task)) {
        const groundTruth = groundTruths.get(job.task.id) as EvalPlusGroundTruth;
        const { request, nonce } = checkRequest(job.task, job.code, groundTruth, evalPlus);
        result = await executor.run(request, { signal: inner.signal });
        const evalplus = parseCheck(result, nonce, evalPlus.baseOnly ?? false);
        if (evalplus === undefined) {
          outcome = { verdict: 'infra-error', reason: result.reason };
        } else {
          const plus = plusOutcome(evalplus);
          outcome = {
            verdict: evalPlusVerdict(evalplus.base.status),
            reason: evalplus.base.reason,
            ...(plus === undefined ? {} : { plus }),
            evalplus,
          };
        }
      } else if (isSecurityTask(job.task)) {
        const { request, nonce } = securityRequest(job.task, job.code);
        result = await executor.run(request, { signal: inner.signal });
        const run = parseSecurityRun(job.task, result, nonce);
        outcome = {
          verdict: run.verdict,
          reason: run.reason,
          ...(run.security === undefined || run.verdict === 'infra-error' ? {} : { security: run.security }),
        };
      } else {
        result = await executor.run(plainRequest(job.task, job.code), { signal: inner.signal });
        outcome = {
          verdict: result.verdict,
          reason: result.reason,
          ...(result.humanEvalResult === undefined ? {} : { humanEvalResult: result.humanEvalResult }),
        };
      }
      executions++;
      if (descriptor !== null && outcome.verdict !== 'infra-error') {
        const record: ExecutionRecord = {
          taskId: job.task.id,
          samples: job.positions.map((position) => (samples[position] as Sample).index),
          programSha256: job.programSha256,
          verdict: outcome.verdict,
          reason: outcome.reason,
          ...(outcome.humanEvalResult === undefined ? {} : { humanEvalResult: outcome.humanEvalResult }),
          ...(outcome.plus === undefined ? {} : { plus: outcome.plus }),
          ...(outcome.evalplus === undefined ? {} : { evalplus: outcome.evalplus }),
          ...(outcome.security === undefined ? {} : { security: outcome.security }),
          durationMs: Math.round(result.durationMs),
          stdoutTail: tail(result.stdout),
          stderrTail: tail(result.stderr),
        };
        // One write per line on an O_APPEND descriptor: once it returns, the line survives a SIGKILL of this process.
        writeSync(descriptor, `${JSON.stringify(record)}\n`);
      }
      settle(job, outcome, false);
    });
  } finally {
    signal?.removeEventListener('abort', forward);
    if (descriptor !== null) closeSync(descriptor);
  }

  const finished = results as SampleResult[];
  interface Tally {
    n: number;
    c: number;
    cPlus: number;
    cSecure: number;
    allPlus: boolean;
    allSecurity: boolean;
    infra: boolean;
  }
  const perTask = new Map<string, Tally>();
  for (const result of finished) {
    const counts = perTask.get(result.taskId) ?? {
      n: 0,
      c: 0,
      cPlus: 0,
      cSecure: 0,
      allPlus: true,
      allSecurity: true,
      infra: false,
    };
    counts.n++;
    if (result.verdict === 'passed') counts.c++;
    if (result.security === undefined) counts.allSecurity = false;
    else if (result.verdict === 'passed' && result.security.functional && result.security.secure) counts.cSecure++;
    if (result.plus === undefined) counts.allPlus = false;
    else if (result.plus.verdict === 'passed') counts.cPlus++;
    if (result.verdict === 'infra-error') counts.infra = true;
    perTask.set(result.taskId, counts);
  }
  const counts: EvaluateResult['counts'] = [];
  const countsPlus: EvaluateResult['counts'] = [];
  const countsSecure: EvaluateResult['counts'] = [];
  let allPlus = true;
  let allSecurity = true;
  const excludedTasks: string[] = [];
  for (const task of tasks) {
    const entry = perTask.get(task.id);
    if (entry === undefined) continue;
    if (entry.infra) {
      excludedTasks.push(task.id);
      continue;
    }
    counts.push({ taskId: task.id, n: entry.n, c: entry.c });
    countsPlus.push({ taskId: task.id, n: entry.n, c: entry.cPlus });
    countsSecure.push({ taskId: task.id, n: entry.n, c: entry.cSecure });
    allPlus &&= entry.allPlus;
    allSecurity &&= entry.allSecurity;
  }
  return {
    samples: finished,
    counts,
    ...(allPlus && counts.length > 0 ? { countsPlus } : {}),
    ...(allSecurity && counts.length > 0 ? { countsSecure } : {}),
    excludedTasks,
    executions,
    reusedExecutions,
  };
}
