import { UsageError } from '../core/index.js';
import type { LoadedDataset } from './datasets.js';

/**
 * Which tasks of a dataset to run: the one way every command (generate, eval, solve) takes a subset. Positions are
 * in dataset order from 0; `ranges` are half-open `[start, end)` as EvalPlus's `--id-range`, then `limit` keeps the
 * first N of what is left.
 */
export interface TaskSelection {
  /** Keep the first N selected tasks (N ≥ 1). */
  limit?: number;
  /** Keep the tasks at these positions, `[start, end)` each, in dataset order. */
  ranges?: { start: number; end: number }[];
}

export interface SelectTasksResult {
  /** The dataset with only the selected tasks (and their known-broken entries). */
  dataset: LoadedDataset;
  /** How many tasks the whole dataset has. */
  of: number;
  /** How the subset was chosen, for messages and metrics ("the first 5 tasks", "tasks 0:10, 20:30"); undefined when
   * every task is kept. */
  description?: string;
}

/** Parses `--id-range` text: `START:END[,START:END…]`, positions in dataset order, END excluded (e.g. `0:10`). */
export function parseIdRanges(text: string, flag = '--id-range'): { start: number; end: number }[] {
  const ranges = text.split(',').map((part) => {
    const match = /^\s*(\d+)\s*:\s*(\d+)\s*$/.exec(part);
    const start = Number(match?.[1]);
    const end = Number(match?.[2]);
    if (match === null || !(end > start))
      throw new UsageError(
        `${flag} ${JSON.stringify(text)}: ${JSON.stringify(part)} is not a range START:END of task positions with ` +
          `END > START (END excluded, as EvalPlus's --id-range), e.g. ${flag} 0:10 or ${flag} 0:10,20:30.`,
      );
    return { start, end };
  });
  return ranges;
}

/** Cuts `dataset` to `selection`. A range past the dataset's end is a UsageError naming the dataset's size. */
export function selectTasks(dataset: LoadedDataset, selection: TaskSelection = {}): SelectTasksResult {
  const { limit, ranges } = selection;
  const of = dataset.tasks.length;
  let tasks = dataset.tasks;
  const parts: string[] = [];
  if (ranges !== undefined && ranges.length > 0) {
    for (const range of ranges) {
      if (range.start >= of)
        throw new UsageError(
          `--id-range ${range.start}:${range.end} starts past the end of ${dataset.name}, which has ${of} tasks ` +
            `(positions 0 to ${of - 1}).`,
        );
    }
    tasks = tasks.filter((_task, position) => ranges.some((range) => position >= range.start && position < range.end));
    parts.push(`tasks ${ranges.map((range) => `${range.start}:${Math.min(range.end, of)}`).join(', ')}`);
  }
  if (limit !== undefined && limit < tasks.length) {
    tasks = tasks.slice(0, limit);
    parts.push(`the first ${limit}`);
  }
  if (tasks.length === of) return { dataset, of };
  const ids = new Set(tasks.map((task) => task.id));
  return {
    dataset: {
      ...dataset,
      tasks,
      knownBroken: Object.fromEntries(Object.entries(dataset.knownBroken).filter(([id]) => ids.has(id))),
    },
    of,
    description: parts.join(', then '),
  };
}
