import { UsageError } from '../core/index.js';
import { readDatasetFile, type LoadDatasetOptions } from './data-dir.js';
import type { LoadedDataset, OmittedRecords } from './datasets.js';
import { ioTestsWallMs, type IoTestCase } from './io-tests-program.js';
import { parseJsonl, stringField, type JsonlRecord } from './read-jsonl.js';
import type { SourceLanguage, Task } from './task.js';

export type SafimDatasetName = 'safim-block' | 'safim-control' | 'safim-api';

/** SAFIM's three subtasks, as its scripts name them (`evaluate.py block|control|api`). */
export type SafimCategory = 'block' | 'control' | 'api';

/** The languages of SAFIM's records (`lang`). */
export type SafimLanguage = 'python' | 'java' | 'cpp' | 'csharp';

export const SAFIM_LANGUAGES: readonly SafimLanguage[] = ['cpp', 'java', 'python', 'csharp'];

export const SAFIM_DATASET_NAMES: readonly SafimDatasetName[] = ['safim-block', 'safim-control', 'safim-api'];

const CATEGORIES: Record<SafimDatasetName, SafimCategory> = {
  'safim-block': 'block',
  'safim-control': 'control',
  'safim-api': 'api',
};

/** The hole in `eval_prompt`, which SAFIM fills with `eval_prompt.replace("{{completion}}", completion)`. */
export const SAFIM_EVAL_PLACEHOLDER = '{{completion}}';

/**
 * The hole in `prompt`, the text models see, per language (safim `prompt_utils.py` `COMPLETION_PLACEHOLDER`). SAFIM's
 * infilling prompt is `prompt` split at this marker: prefix before, suffix after.
 */
export const SAFIM_PROMPT_PLACEHOLDERS: Readonly<Record<SafimLanguage, string>> = {
  python: '# TODO: Your code here',
  java: '/* TODO: Your code here */',
  cpp: '/* TODO: Your code here */',
  csharp: '/* TODO: Your code here */',
};

/**
 * Time per unit test, wall clock: ExecEval's limit for CPython, its default `cpu` (2 s) times the `timelimit_factor` of
 * its "Python 3" runtime (3), which it uses as the `communicate` timeout (ExecEval `execution_engine.py`,
 * `config.yaml`). SAFIM sends Python to ExecEval's "PyPy 3" runtime instead (safim `exec_utils.py`), factor 2, so 4 s;
 * codeloop has no PyPy, and CPython is several times slower than PyPy on loops: at 4 s, 2 control ground truths time
 * out here (~4.5 s under CPython 3.11; see `SAFIM_KNOWN_BROKEN`). Even at 6 s a completion PyPy runs in 1–4 s may
 * time out here.
 */
export const SAFIM_TEST_TIMEOUT_MS = 6_000;

/** Memory of one execution: ExecEval's 2 GiB address space for the program, plus room for the driver. */
const SAFIM_MEMORY_MIB = 2_304;

// One Codeforces program (palindrome partition counts), in two block and two control tasks.
const SLOW_UNDER_CPYTHON =
  'the ground truth precomputes a 4·10^4 × ~500 dynamic program in pure Python at start-up: 4.1–4.6 s per test under ' +
  'CPython 3.11 on an idle 2-core machine and 9–12 s under load, against the 6 s limit (SAFIM runs Python under PyPy, ' +
  'where it is fast, and never runs ground truths)';

/**
 * Ground truths that can fail codeloop's execution, by task id, with the cause. All others pass (Python: block 805/805,
 * control 750/750; API 310/310). SAFIM never runs its ground truths: a completion equal to the ground truth is PASSED
 * without execution (`evaluate.py`), and `safimMetrics` applies that rule too.
 */
export const SAFIM_KNOWN_BROKEN: Readonly<Record<SafimDatasetName, Readonly<Record<string, string>>>> = {
  'safim-block': { block_completion_004781: SLOW_UNDER_CPYTHON, block_completion_004788: SLOW_UNDER_CPYTHON },
  'safim-control': { control_completion_004687: SLOW_UNDER_CPYTHON, control_completion_004694: SLOW_UNDER_CPYTHON },
  'safim-api': {},
};

export interface SafimOptions extends LoadDatasetOptions {
  /**
   * Which languages to load. Default: `python` for `safim-block` and `safim-control` (the only language codeloop can
   * execute), all four for `safim-api` (scored by syntax match, which runs nothing of the task). Asking for Java, C++
   * or C# block/control tasks is a UsageError: SAFIM judges them by compiling and running them in ExecEval, which
   * codeloop cannot do, and there is no other verdict to give them.
   */
  languages?: readonly SafimLanguage[];
}

/**
 * SAFIM (Gong et al. 2024, https://arxiv.org/abs/2403.04814), v1 data of gonglinyuan/safim @231b148: algorithmic
 * block completion (8781 records), control-flow expression completion (8629) and API function call completion (310),
 * in Python, Java, C++ and C#. Task ids are SAFIM's `task_id` (the API file reuses `block_completion_…` ids).
 *
 * - `prompt` and `suffix` are SAFIM's infilling prompt: `prompt` (problem statement, then the code) split at the
 *   language's TODO placeholder. `template` is `eval_prompt` with `{{completion}}`, the program that is judged;
 *   `canonicalSolution` is `ground_truth`; `sourceLanguage` is the record's `lang`.
 * - block and control (layout `io-tests`, Python only by default): the filled program runs on every unit test, stdin
 *   in and stdout compared as ExecEval compares it, 6 s per test (`ioTestsProgram`, `SAFIM_TEST_TIMEOUT_MS`). Java, C++ and C# records are not
 *   loaded and are counted in `omitted`: codeloop cannot compile or run them, and SAFIM has no verdict for them but
 *   execution (apart from its shortcut that a completion equal to the ground truth passes).
 * - api (layout `syntax-match`, all languages): SAFIM runs nothing; a completion passes when it matches the ground
 *   truth by `syntax_match` (`syntaxMatchProgram`). The records have no unit tests.
 * - No stop sequences: SAFIM cuts completions with syntax-aware post-processors instead; see
 *   `postProcessSafimCompletion`.
 */
export async function loadSafim(dataset: SafimDatasetName, options: SafimOptions = {}): Promise<LoadedDataset> {
  const category = CATEGORIES[dataset];
  if (category === undefined) {
    throw new UsageError(`Unknown SAFIM dataset "${String(dataset)}": use one of ${SAFIM_DATASET_NAMES.join(', ')}.`);
  }
  const defaults: readonly SafimLanguage[] = category === 'api' ? SAFIM_LANGUAGES : ['python'];
  const languages = new Set<SafimLanguage>(options.languages ?? defaults);
  for (const language of languages) {
    if (!(SAFIM_LANGUAGES as readonly string[]).includes(language)) {
      throw new UsageError(`Unknown SAFIM language "${String(language)}": use ${SAFIM_LANGUAGES.join(', ')}.`);
    }
    if (category !== 'api' && language !== 'python') {
      throw new UsageError(
        `${dataset} cannot load ${language} tasks: SAFIM judges them by compiling and running them (ExecEval), which codeloop ` +
          'cannot do. Load python only (the default); Java, C++ and C# are scored in safim-api, by syntax match.',
      );
    }
  }
  const file = await readDatasetFile(dataset, `safim/${category}_completion.jsonl.gz`, options);
  const tasks: Task[] = [];
  const skipped = new Map<SafimLanguage, number>();
  for (const record of parseJsonl(file.text, file.path)) {
    const language = languageField(record);
    if (!languages.has(language)) {
      skipped.set(language, (skipped.get(language) ?? 0) + 1);
      continue;
    }
    tasks.push(safimTask(record, dataset, category, language));
  }
  const omitted: OmittedRecords[] = [...skipped].map(([language, count]) => ({
    language,
    count,
    reason:
      category === 'api'
        ? 'not asked for (languages option)'
        : `${language} is judged by compiling and running it (ExecEval), which codeloop cannot do`,
  }));
  const knownBroken = Object.fromEntries(
    Object.entries(SAFIM_KNOWN_BROKEN[dataset]).filter(([id]) => tasks.some((task) => task.id === id)),
  );
  return {
    name: dataset,
    tasks,
    files: [{ path: file.path, sha256: file.sha256 }],
    knownBroken,
    ...(omitted.length > 0 ? { omitted } : {}),
  };
}

function languageField(record: JsonlRecord): SafimLanguage {
  const value = stringField(record, 'lang');
  if (!(SAFIM_LANGUAGES as readonly string[]).includes(value)) {
    throw new UsageError(
      `${record.file}:${record.line}: field "lang" is ${JSON.stringify(value)}; SAFIM records are in ${SAFIM_LANGUAGES.join(', ')}.`,
    );
  }
  return value as SafimLanguage;
}

function unitTests(record: JsonlRecord): IoTestCase[] {
  const value = record.value['unit_tests'];
  const where = `${record.file}:${record.line}`;
  if (!Array.isArray(value)) throw new UsageError(`${where}: field "unit_tests" must be an array of {input, output}.`);
  return value.map((item: unknown, index) => {
    const test = item as { input?: unknown; output?: unknown };
    const outputs = test.output;
    if (
      typeof test.input !== 'string' ||
      !Array.isArray(outputs) ||
      !outputs.every((output): output is string => typeof output === 'string')
    ) {
      throw new UsageError(`${where}: unit_tests[${index}] must be {"input": string, "output": [string, …]}.`);
    }
    return { input: test.input, outputs };
  });
}

function safimTask(
  record: JsonlRecord,
  dataset: SafimDatasetName,
  category: SafimCategory,
  language: SafimLanguage,
): Task {
  const id = stringField(record, 'task_id');
  const where = `${record.file}:${record.line} (${id})`;
  const prompt = stringField(record, 'prompt');
  const evalPrompt = stringField(record, 'eval_prompt');
  const parts = prompt.split(SAFIM_PROMPT_PLACEHOLDERS[language]);
  // safim prompt_utils.py get_infilling_parts asserts exactly two parts.
  if (parts.length !== 2 || !evalPrompt.includes(SAFIM_EVAL_PLACEHOLDER)) {
    throw new UsageError(
      `${where}: "prompt" must hold ${JSON.stringify(SAFIM_PROMPT_PLACEHOLDERS[language])} once and "eval_prompt" ` +
        `${SAFIM_EVAL_PLACEHOLDER}.`,
    );
  }
  const common = {
    id,
    dataset,
    language: 'python' as const,
    sourceLanguage: language satisfies SourceLanguage,
    prompt: parts[0] ?? '',
    suffix: parts[1] ?? '',
    tests: '',
    canonicalSolution: stringField(record, 'ground_truth'),
    template: { text: evalPrompt, placeholder: SAFIM_EVAL_PLACEHOLDER },
    stopSequences: [],
    harness: 'exit-code' as const,
  };
  if (category === 'api') return { ...common, layout: 'syntax-match' };
  const ioTests = { cases: unitTests(record), timeoutMs: SAFIM_TEST_TIMEOUT_MS };
  if (ioTests.cases.length === 0)
    throw new UsageError(`${where}: a ${category} completion task needs unit tests, and "unit_tests" is empty.`);
  return {
    ...common,
    layout: 'io-tests',
    ioTests,
    limits: { wallMs: ioTestsWallMs(ioTests), memoryMiB: SAFIM_MEMORY_MIB },
  };
}

/** The SAFIM subtask of a dataset name, or undefined for other datasets. */
export function safimCategory(dataset: string): SafimCategory | undefined {
  return Object.hasOwn(CATEGORIES, dataset) ? CATEGORIES[dataset as SafimDatasetName] : undefined;
}

/** Python's `str.isspace` characters, for SAFIM's `line.strip()`. */
const PYTHON_SPACE = /^[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$/;

/** Python's `str.splitlines` separators. */
const PYTHON_LINE_BREAK = /\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/;

/**
 * SAFIM's post-processing of a raw model completion for a task (safim `prompt_utils.py`, the processors its README
 * prescribes per subtask):
 * - control, `truncate_control`: Python keeps the first line that is not blank (without its line break); other
 *   languages cut before the first `)` that closes more than the completion opened.
 * - api, `truncate_api_call`: cut after the first `)` that brings the parenthesis depth to zero or below.
 * - block, `truncate_line_until_block`: drops trailing lines until the program parses and the completion forms whole
 *   blocks, judged with tree-sitter parsers. codeloop has no tree-sitter, so a block completion is returned unchanged:
 *   results of untruncated block completions are below what SAFIM's pipeline reports for the same model.
 * Apply it before writing the samples file (SAFIM applies it at generation; its `evaluate.py` takes completions as
 * given, and so does `codeloop eval`).
 */
export function postProcessSafimCompletion(
  task: Pick<Task, 'dataset' | 'sourceLanguage' | 'language'>,
  completion: string,
): string {
  const category = safimCategory(task.dataset);
  if (category === undefined)
    throw new UsageError(
      `Task of dataset "${task.dataset}" is not a SAFIM task: use it with ${SAFIM_DATASET_NAMES.join(', ')}.`,
    );
  if (category === 'api') return truncateApiCall(completion);
  if (category === 'block') return completion;
  if ((task.sourceLanguage ?? task.language) === 'python') {
    return completion.split(PYTHON_LINE_BREAK).find((line) => !PYTHON_SPACE.test(line)) ?? '';
  }
  let depth = 0;
  for (let index = 0; index < completion.length; index++) {
    if (completion[index] === '(') depth++;
    else if (completion[index] === ')') depth--;
    if (depth === -1) return completion.slice(0, index);
  }
  return completion;
}

function truncateApiCall(completion: string): string {
  let depth = 0;
  for (let index = 0; index < completion.length; index++) {
    if (completion[index] === '(') depth++;
    else if (completion[index] === ')') {
      depth--;
      if (depth <= 0) return completion.slice(0, index + 1);
    }
  }
  return completion;
}
