import { readDatasetFile, type LoadDatasetOptions } from './data-dir.js';
import type { DatasetName, LoadedDataset } from './datasets.js';
import { optionalStringField, parseJsonl, stringField, type JsonlRecord } from './read-jsonl.js';
import type { Task, TaskLimits } from './task.js';

/**
 * Stop sequences for HumanEval-style Python completion: bigcode-evaluation-harness `tasks/humaneval.py` (the Codex
 * paper's list plus `\n@` and a code fence), without its model-specific `<file_sep>`. human-eval itself defines none.
 */
export const HUMAN_EVAL_STOP_SEQUENCES: readonly string[] = [
  '\nclass',
  '\ndef',
  '\n#',
  '\n@',
  '\nprint',
  '\nif',
  '\n```',
];

/** human-eval's default `--timeout` (3 s), also human-eval-infilling's and bigcode's for HumanEval. */
export const HUMAN_EVAL_LIMITS: TaskLimits = { wallMs: 3_000 };

export interface HumanEvalTaskOptions {
  dataset: string;
  stopSequences: readonly string[];
  limits?: TaskLimits;
}

/**
 * A task from a human-eval-format record (task_id, prompt, test, entry_point, canonical_solution, and suffix for the
 * infilling files). Program: `prompt + completion + suffix? + "\n" + test + "\n" + "check(" + entry_point + ")"`, as in
 * openai/human-eval `execution.py` (`check_program`) and openai/human-eval-infilling `execution.py`.
 */
export function humanEvalTask(record: JsonlRecord, options: HumanEvalTaskOptions): Task {
  const suffix = optionalStringField(record, 'suffix');
  const canonicalSolution = optionalStringField(record, 'canonical_solution');
  return {
    id: stringField(record, 'task_id'),
    dataset: options.dataset,
    language: 'python',
    prompt: stringField(record, 'prompt'),
    entryPoint: stringField(record, 'entry_point'),
    tests: stringField(record, 'test'),
    ...(canonicalSolution === undefined ? {} : { canonicalSolution }),
    ...(suffix === undefined ? {} : { suffix }),
    stopSequences: [...options.stopSequences],
    ...(options.limits === undefined ? {} : { limits: { ...options.limits } }),
    harness: 'human-eval',
    layout: 'human-eval',
  };
}

/** Reads one dataset file of human-eval-format records into tasks. */
export async function loadHumanEvalFormat(
  name: DatasetName,
  relativePath: string,
  taskOptions: Omit<HumanEvalTaskOptions, 'dataset'>,
  options: LoadDatasetOptions,
): Promise<LoadedDataset> {
  const file = await readDatasetFile(name, relativePath, options);
  const tasks = parseJsonl(file.text, file.path).map((record) =>
    humanEvalTask(record, { ...taskOptions, dataset: name }),
  );
  return { name, tasks, files: [{ path: file.path, sha256: file.sha256 }], knownBroken: {} };
}

/** HumanEval (OpenAI, 164 tasks) from `humaneval/HumanEval.jsonl.gz`. */
export function loadHumanEval(options: LoadDatasetOptions = {}): Promise<LoadedDataset> {
  return loadHumanEvalFormat(
    'humaneval',
    'humaneval/HumanEval.jsonl.gz',
    { stopSequences: HUMAN_EVAL_STOP_SEQUENCES, limits: HUMAN_EVAL_LIMITS },
    options,
  );
}
