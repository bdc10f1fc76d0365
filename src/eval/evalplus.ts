import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CodeloopError } from '../core/index.js';
import type { ExecutionRequest, ExecutionResult, Verdict } from '../sandbox/index.js';
import type { Task } from '../tasks/index.js';

/**
 * EvalPlus scoring (HumanEval+, MBPP+): differential testing against the canonical solution, with EvalPlus's rules
 * (evalplus/eval/__init__.py, v0.3 line): the solution is `solution`, or `prompt + completion`; each phase (base
 * inputs, then plus inputs) runs in its own process, stops at the first failing input, and passes when every output
 * equals the ground truth's (float tolerance `np.allclose(rtol=1e-7, atol)` with atol at least 1e-6 for float outputs;
 * EvalPlus's special oracles for HumanEval/32 and six MBPP tasks); per-input time limit max(4 s, 4 × ground-truth
 * time), per-phase limit min(60 s, their sum) + 2 s. plus passes only when base passes too (EvalPlus's pass@k "plus").
 *
 * The work happens in src/eval/runtime/evalplus.py, run in the sandbox: once per task with the canonical solution
 * ("ground truth"), then once per distinct solution. Where codeloop differs from EvalPlus, it is stricter and says so:
 * outputs that are not plain data (custom classes, numpy arrays) are never equal to anything, an output of another
 * shape is never "close" by numpy's broadcasting, and a solution can neither forge its verdict nor read the expected
 * outputs (see the driver's header, and docs/sandbox.md "What a verdict can be trusted for").
 */

/** EvalPlus's statuses for one phase. */
export type EvalPlusStatus = 'pass' | 'fail' | 'timeout';

/** One phase (base or plus inputs) of one solution. */
export interface EvalPlusPhaseResult {
  status: EvalPlusStatus;
  /** Inputs that passed before the phase ended. */
  passedInputs: number;
  /** Index (in the phase's inputs) of the input that failed, when one did. */
  failIndex: number | null;
  /** One line for people: which input, expected and actual output, or why it stopped. */
  reason: string;
}

export interface EvalPlusResult {
  base: EvalPlusPhaseResult;
  /** Absent when scoring base inputs only. */
  plus?: EvalPlusPhaseResult;
}

/** The ground truth of a task, as the driver printed it: opaque JSON text handed back to the driver for each check. */
export interface EvalPlusGroundTruth {
  taskId: string;
  /** `{"base": {"expected": [...], "times": [...]}, "plus": {...}}` (tagged outputs, seconds). */
  json: string;
  /** Summed ground-truth run time of base and of plus inputs, seconds. */
  baseSeconds: number;
  plusSeconds: number;
  baseInputs: number;
  plusInputs: number;
}

export interface EvalPlusOptions {
  /** EvalPlus `--min-time-limit`: the least per-input time limit, seconds. Default 4 (EvalPlus's default). */
  minTimeLimit?: number;
  /** EvalPlus `--gt-time-limit-factor`: per-input limit as a multiple of the ground truth's time. Default 4. */
  timeLimitFactor?: number;
  /** Score base inputs only (EvalPlus `--base-only`). Default false. */
  baseOnly?: boolean;
  /** Memory for the solution's process, MiB (EvalPlus: 4 GiB, `EVALPLUS_MAX_MEMORY_BYTES`). Default 4096. */
  memoryMiB?: number;
}

/** MBPP+ tasks whose ground truth is only whether the output is None (evalplus/eval/_special_oracle.py). */
const MBPP_OUTPUT_NOT_NONE = ['check_str', 'text_match_three', 'text_starta_endb'];

/** Wall-clock allowance of the driver itself (interpreter start, JSON) on top of the phases' limits, ms. */
const DRIVER_OVERHEAD_MS = 5_000;

let driverSource: string | undefined;

function driver(): string {
  if (driverSource !== undefined) return driverSource;
  const here = dirname(fileURLToPath(import.meta.url));
  // From dist/src/eval the sources are three levels up; from src/eval they are here.
  for (const candidate of [
    join(here, 'runtime', 'evalplus.py'),
    join(here, '..', '..', '..', 'src', 'eval', 'runtime', 'evalplus.py'),
  ]) {
    if (existsSync(candidate)) return (driverSource = readFileSync(candidate, 'utf8'));
  }
  throw new Error(`codeloop is installed incompletely: src/eval/runtime/evalplus.py was not found near ${here}`);
}

/** Whether `task` is scored the EvalPlus way (it carries EvalPlus inputs). */
export function isEvalPlusTask(task: Task): boolean {
  return task.plus !== undefined;
}

/** EvalPlus's dataset kind, which selects its special oracles and MBPP's input conversions. */
function evalPlusDataset(task: Task): 'humaneval' | 'mbpp' {
  return task.id.startsWith('Mbpp/') ? 'mbpp' : 'humaneval';
}

function taskNumber(task: Task): number {
  const number = Number(task.id.slice(task.id.lastIndexOf('/') + 1));
  return Number.isInteger(number) ? number : -1;
}

/** EvalPlus's solution text for a sample: `solution`, or the task's prompt followed by `completion`. */
export function evalPlusSolution(task: Task, sample: { completion?: string; solution?: string }): string {
  return sample.solution ?? task.prompt + (sample.completion ?? '');
}

/** A Python string literal for `text` (JSON string syntax is valid Python for every string JSON.stringify writes). */
function pythonString(text: string): string {
  return JSON.stringify(text);
}

function plusOf(task: Task): NonNullable<Task['plus']> {
  if (task.plus === undefined) throw new Error(`Task ${task.id} has no EvalPlus inputs`);
  return task.plus;
}

function program(nonce: string, job: Record<string, unknown>, task: Task, expectedJson: string): string {
  const plus = plusOf(task);
  return (
    `${driver()}\n` +
    `main(${pythonString(nonce)}, json.loads(${pythonString(JSON.stringify(job))}), ${pythonString(plus.baseInputJson)}, ` +
    `${pythonString(plus.plusInputJson)}, ${pythonString(expectedJson)})\n`
  );
}

/** A request plus the nonce that marks its result line. */
export interface EvalPlusRequest {
  request: ExecutionRequest;
  nonce: string;
}

/** The sandbox request that computes `task`'s ground truth (its canonical solution on every input, timed). */
export function groundTruthRequest(task: Task): EvalPlusRequest {
  if (task.canonicalSolution === undefined)
    throw new CodeloopError(
      'evalplus-ground-truth',
      `Task ${task.id} has no canonical solution, so EvalPlus scoring has no ground truth.`,
    );
  const nonce = randomBytes(16).toString('hex');
  const dataset = evalPlusDataset(task);
  const job = {
    mode: 'groundtruth',
    solution: task.prompt + task.canonicalSolution,
    entry_point: task.entryPoint,
    dataset,
    task_number: taskNumber(task),
    output_not_none: dataset === 'mbpp' ? MBPP_OUTPUT_NOT_NONE : [],
  };
  return {
    nonce,
    request: {
      language: 'python',
      code: program(nonce, job, task, 'null'),
      harness: 'exit-code',
      // The ground truth of the largest tasks takes seconds; its outputs can be megabytes of JSON.
      limits: { wallMs: 120_000, memoryMiB: 4096, outputBytes: 64 * 1024 * 1024 },
    },
  };
}

/**
 * The result line `<nonce> <json>` of a driver run (what follows the nonce), or undefined. Only a whole line that
 * starts with the nonce counts: the JSON may quote texts that hold the nonce (a solution's exception message), but
 * never a line break.
 */
function resultLine(result: ExecutionResult, nonce: string): string | undefined {
  const marker = `${nonce} `;
  return result.stdout
    .split('\n')
    .findLast((line) => line.startsWith(marker))
    ?.slice(marker.length);
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

/** Reads the ground truth from its run; a failed run is a CodeloopError naming the task (the dataset or machine is at fault). */
export function parseGroundTruth(task: Task, result: ExecutionResult, nonce: string): EvalPlusGroundTruth {
  const line = result.verdict === 'passed' ? resultLine(result, nonce) : undefined;
  if (line === undefined) {
    throw new CodeloopError(
      'evalplus-ground-truth',
      `The canonical solution of ${task.id} did not run to the end (${result.verdict}: ${result.reason}), so its ` +
        `EvalPlus ground truth is unknown. ${result.stderr.slice(-500)}`,
    );
  }
  const space = line.indexOf(' ');
  const summary = JSON.parse(line.slice(0, space)) as Record<'base' | 'plus', { inputs: number; seconds: number }>;
  return {
    taskId: task.id,
    json: line.slice(space + 1),
    baseSeconds: summary.base.seconds,
    plusSeconds: summary.plus.seconds,
    baseInputs: summary.base.inputs,
    plusInputs: summary.plus.inputs,
  };
}

/** Wall-clock limit of one phase, ms: EvalPlus's min(60 s, Σ per-input limits) + 1 s, joined for 1 s more. */
function phaseMs(inputs: number, seconds: number, minTimeLimit: number, factor: number): number {
  // Σ max(min, factor × t_i) ≤ inputs × min + factor × Σ t_i: an upper bound is enough for the sandbox's limit.
  return (Math.min(60, inputs * minTimeLimit + factor * seconds) + 2) * 1000;
}

/** The sandbox request that scores `solution` on `task` against `groundTruth`. */
export function checkRequest(
  task: Task,
  solution: string,
  groundTruth: EvalPlusGroundTruth,
  options: EvalPlusOptions = {},
): EvalPlusRequest {
  const { minTimeLimit = 4, timeLimitFactor = 4, baseOnly = false, memoryMiB = 4096 } = options;
  const nonce = randomBytes(16).toString('hex');
  const job = {
    mode: 'check',
    solution,
    entry_point: task.entryPoint,
    dataset: evalPlusDataset(task),
    task_number: taskNumber(task),
    atol: plusOf(task).atol,
    plus: !baseOnly,
    min_time_limit: minTimeLimit,
    time_limit_factor: timeLimitFactor,
    memory_bytes: memoryMiB * 1024 * 1024,
  };
  const wallMs =
    phaseMs(groundTruth.baseInputs, groundTruth.baseSeconds, minTimeLimit, timeLimitFactor) +
    (baseOnly ? 0 : phaseMs(groundTruth.plusInputs, groundTruth.plusSeconds, minTimeLimit, timeLimitFactor)) +
    DRIVER_OVERHEAD_MS;
  return {
    nonce,
    request: {
      language: 'python',
      code: program(nonce, job, task, groundTruth.json),
      harness: 'exit-code',
      // The driver and the solution's process share the sandbox's memory limit; the solution's own address space is
      // capped at memoryMiB inside, as EvalPlus caps it.
      limits: { wallMs, memoryMiB: memoryMiB + 512 },
    },
  };
}

/** A sample's verdict from EvalPlus statuses: timeouts stay visible, everything else that is not a pass is `failed`. */
export function evalPlusVerdict(status: EvalPlusStatus): Verdict {
  return status === 'pass' ? 'passed' : status === 'timeout' ? 'timed-out' : 'failed';
}

/**
 * Reads a check run. When the sandbox itself broke (`infra-error`) there is no result: returns undefined. When the
 * driver produced no result line although the sandbox worked, the solution stopped it (e.g. killed it, or exhausted
 * the execution's memory or time): both phases fail, with the sandbox's reason.
 */
export function parseCheck(result: ExecutionResult, nonce: string, baseOnly = false): EvalPlusResult | undefined {
  if (result.verdict === 'infra-error') return undefined;
  const ended = (status: EvalPlusStatus, why: string): EvalPlusResult => {
    const phase = (name: string): EvalPlusPhaseResult => ({
      status,
      passedInputs: 0,
      failIndex: null,
      reason: `${name}: ${why}`,
    });
    return baseOnly ? { base: phase('base') } : { base: phase('base'), plus: phase('plus') };
  };
  const line = resultLine(result, nonce);
  if (line === undefined) {
    return ended(
      result.verdict === 'timed-out' ? 'timeout' : 'fail',
      `the EvalPlus run ended without a result (${result.verdict}: ${result.reason})`,
    );
  }
  try {
    const parsed = JSON.parse(line) as EvalPlusResult;
    if (typeof parsed?.base?.status === 'string') return parsed;
  } catch {
    // below: one sample's unreadable result fails that sample, never the run
  }
  return ended('fail', 'the EvalPlus driver printed an unreadable result');
}

/**
 * The input EvalPlus names as failing for a phase (`get_failed_tests` without `--test-details`: the last input it
 * reached, `inputs[len(details) - 1]`), or undefined when it names none (a pass, or a failure before any input ran).
 */
export function failedInputIndex(phase: EvalPlusPhaseResult): number | undefined {
  if (phase.status === 'pass') return undefined;
  if (phase.failIndex !== null) return phase.failIndex;
  return phase.passedInputs > 0 ? phase.passedInputs - 1 : undefined;
}

/**
 * The text of element `index` of the top-level JSON array `text`, without parsing the values (EvalPlus inputs hold
 * integers beyond 2^53 and Python's `Infinity`, which JSON.parse would round or reject). Undefined when out of range.
 */
export function jsonArrayElement(text: string, index: number): string | undefined {
  let depth = 0;
  let current = -1;
  let start = -1;
  for (let position = 0; position < text.length; position++) {
    const character = text[position];
    if (character === '"') {
      // Skip the string, honouring escapes.
      for (position++; position < text.length && text[position] !== '"'; position++)
        if (text[position] === '\\') position++;
      continue;
    }
    if (character === '[' || character === '{') {
      depth++;
      if (depth === 1) {
        if (character !== '[') return undefined;
        current = 0;
        start = position + 1;
      }
      continue;
    }
    if (character === ']' || character === '}') {
      depth--;
      if (depth === 0)
        return current === index && text.slice(start, position).trim() !== ''
          ? text.slice(start, position).trim()
          : undefined;
      continue;
    }
    if (character === ',' && depth === 1) {
      if (current === index) return text.slice(start, position).trim();
      current++;
      start = position + 1;
    }
  }
  return undefined;
}

/** Where `codeloop eval` keeps EvalPlus ground truths between runs (EvalPlus keeps its own in ~/.cache/evalplus). */
export const DEFAULT_GROUND_TRUTH_CACHE = join(homedir(), '.cache', 'codeloop', 'evalplus-ground-truth');

/** The cache key of a task's ground truth: everything it depends on (driver, prompt, solution, inputs). */
function groundTruthKey(task: Task): string {
  const plus = plusOf(task);
  const hash = createHash('sha256');
  for (const part of [
    driver(),
    task.id,
    task.prompt,
    task.canonicalSolution ?? '',
    task.entryPoint ?? '',
    plus.baseInputJson,
    plus.plusInputJson,
  ]) {
    hash.update(part).update('\0');
  }
  return hash.digest('hex');
}

/** A cached ground truth of `task` from `directory`, or undefined. A damaged entry is ignored (and recomputed). */
export function readCachedGroundTruth(directory: string, task: Task): EvalPlusGroundTruth | undefined {
  try {
    const cached = JSON.parse(
      readFileSync(join(directory, `${groundTruthKey(task)}.json`), 'utf8'),
    ) as EvalPlusGroundTruth;
    return cached.taskId === task.id && typeof cached.json === 'string' ? cached : undefined;
  } catch {
    return undefined;
  }
}

/** Stores a ground truth in `directory` (written to a temporary file, then renamed: never a half-written entry). */
export function writeCachedGroundTruth(directory: string, task: Task, groundTruth: EvalPlusGroundTruth): void {
  mkdirSync(directory, { recursive: true });
  const target = join(directory, `${groundTruthKey(task)}.json`);
  const temporary = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temporary, JSON.stringify(groundTruth));
  renameSync(temporary, target);
}
