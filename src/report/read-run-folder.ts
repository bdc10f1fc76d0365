import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { jsonSyntaxError, UsageError } from '../core/index.js';
import { resultsFileName, type EvalMetrics, type EvalPlusPhaseResult } from '../eval/index.js';

/**
 * `metrics.json` as a report reads it. Only the fields a report needs are checked; the optional ones (`passAtKPlus`,
 * `dataset.dataDir`, `safim`) may be absent, as in runs written before codeloop recorded them.
 */
export type RunMetrics = EvalMetrics;

/** One line of `executions.jsonl`, with the fields a report shows. */
export interface RunExecution {
  taskId: string;
  /** Sample indices (within the task) that shared this program. */
  samples: number[];
  programSha256: string;
  verdict: string;
  reason: string;
  /** EvalPlus tasks: the plus verdict. */
  plus?: { verdict: string; reason: string };
  /** EvalPlus tasks: both phases as EvalPlus reports them (status, inputs passed, failing input). */
  evalplus?: { base: EvalPlusPhaseResult; plus?: EvalPlusPhaseResult };
  /** Tasks with security tests (CWEval): functional, secure, the cases per kind and the first failed attack. */
  security?: RunSecurityOutcome;
  durationMs: number;
  stdoutTail: string;
  stderrTail: string;
}

/** What a journal line says of a sample's functional and security tests (see eval's `SecurityOutcome`). */
export interface RunSecurityOutcome {
  functional: boolean;
  secure: boolean;
  functionality?: { passed: number; total: number };
  security?: { passed: number; total: number };
  failedAttack?: { name: string; status: string; message?: string };
}

/** One line of `<samples>_results.jsonl`: the sample record as given, with human-eval's `result` and `passed`. */
export interface RunResultLine {
  taskId: string;
  completion?: string;
  solution?: string;
  result: string;
  passed: boolean;
  /** The model that wrote the sample, when the samples came from codeloop generate (its `model` field). */
  model?: string;
}

/** The files of a `codeloop eval --out` folder, parsed and checked. */
export interface RunFolder {
  /** Absolute path of the folder. */
  dir: string;
  metrics: RunMetrics;
  executions: RunExecution[];
  resultsPath: string;
  results: RunResultLine[];
  /** Things that were odd but not fatal (a cut-short last journal line), for the caller to show. */
  warnings: string[];
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A file of the run folder. A link that leads out of the folder is refused: a run folder may come from anyone, and a
 * report must not read (and then quote or embed) a host file such as /etc/shadow through it.
 */
function readText(path: string, dir: string): string {
  if (!existsSync(path)) throw new UsageError(`${path} not found: is ${dir} the --out folder of a codeloop eval run?`);
  const inside = relative(realpathSync(dir), realpathSync(path));
  if (inside === '' || inside.startsWith('..') || isAbsolute(inside))
    throw new UsageError(
      `${path} is a link out of the run folder ${dir}; a report reads only the run's own files. Replace it with the file itself.`,
    );
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`Cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
}

function parseMetrics(path: string, text: string): RunMetrics {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(
      `${path}: not valid JSON (${jsonSyntaxError(error)}); rerun codeloop eval with the same --out to rewrite it.`,
    );
  }
  const problem = (what: string): UsageError =>
    new UsageError(
      `${path}: ${what}; is it the metrics.json of a codeloop eval run? Rerun codeloop eval with the same --out to rewrite it.`,
    );
  if (!isObject(parsed)) throw problem('expected a JSON object');
  const scores = (key: string): void => {
    const value = parsed[key];
    if (value === undefined && key === 'passAtKPlus') return;
    if (!isObject(value) || Object.values(value).some((score) => typeof score !== 'number'))
      throw problem(`"${key}" is missing or not an object of numbers`);
  };
  scores('passAtK');
  scores('passAtKPlus');
  if (!Array.isArray(parsed.ks) || parsed.ks.some((k) => !Number.isInteger(k)))
    throw problem('"ks" is missing or not a list of integers');
  if (!isObject(parsed.verdicts)) throw problem('"verdicts" is missing or not an object');
  if (typeof parsed.samplesFile !== 'string') throw problem('"samplesFile" is missing or not a string');
  const dataset = parsed.dataset;
  if (!isObject(dataset) || typeof dataset.name !== 'string' || !Array.isArray(dataset.files))
    throw problem('"dataset" is missing its name or files');
  if (!isObject(parsed.tasks)) throw problem('"tasks" is missing or not an object');
  if (parsed.excludedTasks !== undefined && !Array.isArray(parsed.excludedTasks))
    throw problem('"excludedTasks" is not a list');
  return { excludedTasks: [], ...parsed } as unknown as RunMetrics;
}

/** Non-empty lines of a JSONL file with their 1-based line numbers; `lastLineCut` when the file does not end in "\n". */
function jsonlLines(text: string): { lines: { line: number; text: string }[]; lastLineCut: boolean } {
  const lines = text.split('\n').map((line, index) => ({ line: index + 1, text: line }));
  return {
    lines: lines.filter((line) => line.text.trim() !== ''),
    lastLineCut: !text.endsWith('\n') && text.trim() !== '',
  };
}

function parseExecutions(path: string, text: string, warnings: string[]): RunExecution[] {
  const { lines, lastLineCut } = jsonlLines(text);
  const executions: RunExecution[] = [];
  for (const [position, { line, text: lineText }] of lines.entries()) {
    const where = `${path}:${line}`;
    let record: unknown;
    try {
      record = JSON.parse(lineText);
    } catch (error) {
      // A journal line cut short by a kill; codeloop eval drops it too when it resumes.
      if (lastLineCut && position === lines.length - 1) {
        warnings.push(`${where}: the last journal line is cut short (a killed run); it was left out.`);
        continue;
      }
      throw new UsageError(
        `${where}: journal line is not valid JSON (${jsonSyntaxError(error)}); delete the line, or rerun codeloop ` +
          `eval with the same --out.`,
      );
    }
    if (
      !isObject(record) ||
      typeof record.taskId !== 'string' ||
      typeof record.programSha256 !== 'string' ||
      typeof record.verdict !== 'string' ||
      !Array.isArray(record.samples) ||
      record.samples.some((index) => !Number.isInteger(index))
    ) {
      throw new UsageError(
        `${where}: journal line lacks taskId, samples, programSha256 or verdict; is it a codeloop eval journal?`,
      );
    }
    const plus = record.plus;
    const evalplus = record.evalplus;
    const security = record.security;
    executions.push({
      taskId: record.taskId,
      samples: record.samples as number[],
      programSha256: record.programSha256,
      verdict: record.verdict,
      reason: typeof record.reason === 'string' ? record.reason : '',
      ...(isObject(plus) && typeof plus.verdict === 'string'
        ? { plus: { verdict: plus.verdict, reason: typeof plus.reason === 'string' ? plus.reason : '' } }
        : {}),
      ...(isObject(evalplus) && isObject(evalplus.base)
        ? { evalplus: evalplus as unknown as NonNullable<RunExecution['evalplus']> }
        : {}),
      ...(isObject(security) && typeof security.functional === 'boolean' && typeof security.secure === 'boolean'
        ? { security: security as unknown as RunSecurityOutcome }
        : {}),
      durationMs: typeof record.durationMs === 'number' ? record.durationMs : 0,
      stdoutTail: typeof record.stdoutTail === 'string' ? record.stdoutTail : '',
      stderrTail: typeof record.stderrTail === 'string' ? record.stderrTail : '',
    });
  }
  return executions;
}

function parseResults(path: string, text: string): RunResultLine[] {
  const results: RunResultLine[] = [];
  for (const { line, text: lineText } of jsonlLines(text).lines) {
    const where = `${path}:${line}`;
    let record: unknown;
    try {
      record = JSON.parse(lineText);
    } catch (error) {
      throw new UsageError(
        `${where}: not valid JSON (${jsonSyntaxError(error)}); rerun codeloop eval with the same --out to rewrite the results file.`,
      );
    }
    if (
      !isObject(record) ||
      typeof record.task_id !== 'string' ||
      typeof record.result !== 'string' ||
      typeof record.passed !== 'boolean'
    ) {
      throw new UsageError(
        `${where}: expected a results record with "task_id", "result" and "passed"; rerun codeloop eval with the same --out to rewrite it.`,
      );
    }
    const { completion, solution, model } = record;
    results.push({
      taskId: record.task_id,
      ...(typeof completion === 'string' ? { completion } : {}),
      ...(typeof solution === 'string' ? { solution } : {}),
      ...(typeof model === 'string' ? { model } : {}),
      result: record.result,
      passed: record.passed,
    });
  }
  return results;
}

/**
 * Reads the output folder of a `codeloop eval` run: `metrics.json`, `executions.jsonl` and
 * `<samples basename>_results.jsonl`. A missing or malformed file is a UsageError naming the file (and line).
 */
export function readRunFolder(dir: string): RunFolder {
  const absolute = resolve(dir);
  if (!existsSync(absolute) || !statSync(absolute).isDirectory()) {
    throw new UsageError(`${dir} is not a folder: give the --out folder of a codeloop eval run.`);
  }
  const warnings: string[] = [];
  const metricsPath = join(absolute, 'metrics.json');
  if (!existsSync(metricsPath)) {
    throw new UsageError(
      `${join(dir, 'metrics.json')} not found: is ${dir} the --out folder of a codeloop eval run? (A run writes ` +
        `metrics.json when scoring finishes; rerun it with the same --out to finish it.)`,
    );
  }
  const metrics = parseMetrics(metricsPath, readText(metricsPath, dir));
  const executionsPath = join(absolute, 'executions.jsonl');
  const executions = parseExecutions(executionsPath, readText(executionsPath, dir), warnings);
  const resultsPath = join(absolute, resultsFileName(metrics.samplesFile));
  const results = parseResults(resultsPath, readText(resultsPath, dir));
  if (results.length !== metrics.samples) {
    warnings.push(
      `${resultsPath} has ${results.length} samples but metrics.json counts ${metrics.samples}; the files come from different runs.`,
    );
  }
  return { dir: absolute, metrics, executions, resultsPath, results, warnings };
}
