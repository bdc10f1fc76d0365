import { UsageError } from '../core/index.js';
import { readDatasetFile, type LoadDatasetOptions } from './data-dir.js';
import type { LoadedDataset } from './datasets.js';
import { parseJsonl, stringField, stringListField, type JsonlRecord } from './read-jsonl.js';
import type { Task, TaskLanguage } from './task.js';

export type MultiplEDatasetName =
  'multipl-e-humaneval-ts' | 'multipl-e-humaneval-js' | 'multipl-e-mbpp-ts' | 'multipl-e-mbpp-js';

interface MultiplEFile {
  /** File stem, also the key of known_unsolvable.json. */
  stem: string;
  language: TaskLanguage;
  /** The `language` field of the records. */
  code: 'ts' | 'js';
}

const FILES: Record<MultiplEDatasetName, MultiplEFile> = {
  'multipl-e-humaneval-ts': { stem: 'humaneval-ts-reworded', language: 'typescript', code: 'ts' },
  'multipl-e-humaneval-js': { stem: 'humaneval-js-reworded', language: 'javascript', code: 'js' },
  'multipl-e-mbpp-ts': { stem: 'mbpp-ts-reworded', language: 'typescript', code: 'ts' },
  'multipl-e-mbpp-js': { stem: 'mbpp-js-reworded', language: 'javascript', code: 'js' },
};

/**
 * MultiPL-E's time limits (evaluation/src/eval_ts.py: `tsc` 15 s, then `node` 15 s; eval_javascript.py: `node` 5 s).
 * The type-check step's own limit is the sandbox's `compileMs` (default 15 s, the same as MultiPL-E's).
 */
const WALL_MS: Record<'ts' | 'js', number> = { ts: 15_000, js: 5_000 };

/** `let candidate = NAME;`, the line every MultiPL-E test function starts with. */
const CANDIDATE = /^\s*let candidate = ([A-Za-z_$][\w$]*);/m;

/**
 * A MultiPL-E task. Program: `prompt + completion + "\n" + tests`, MultiPL-E evaluation/src/main.py
 * (`cached_eval_script`). Judged by exit code as MultiPL-E does (status OK ⇔ exit 0); TypeScript is type-checked first
 * and any tsc error fails the task, as MultiPL-E's `tsc --target esnext` step does. The entry point is read from the
 * tests' `let candidate = NAME;`. There is no canonical solution in MultiPL-E.
 */
function multiplETask(record: JsonlRecord, dataset: MultiplEDatasetName, file: MultiplEFile): Task {
  const language = stringField(record, 'language');
  if (language !== file.code) {
    throw new UsageError(
      `${record.file}:${record.line}: field "language" is "${language}", expected "${file.code}" in ${file.stem}.jsonl.`,
    );
  }
  const tests = stringField(record, 'tests');
  const entryPoint = CANDIDATE.exec(tests)?.[1];
  return {
    id: stringField(record, 'name'),
    dataset,
    language: file.language,
    prompt: stringField(record, 'prompt'),
    ...(entryPoint === undefined ? {} : { entryPoint }),
    tests,
    stopSequences: stringListField(record, 'stop_tokens'),
    limits: { wallMs: WALL_MS[file.code] },
    ...(file.language === 'typescript' ? { typeCheck: true } : {}),
    harness: 'exit-code',
    layout: 'prompt-completion-tests',
  };
}

/**
 * `multipl-e/known_unsolvable.json`: per file stem (`humaneval-ts-reworded`, …), the problems whose tests fail for any
 * implementation, with the reason (translation bugs found while checking these files).
 */
export async function loadKnownUnsolvable(
  dataset: MultiplEDatasetName,
  options: LoadDatasetOptions = {},
): Promise<{ path: string; sha256: string; byStem: Record<string, Record<string, string>> }> {
  const file = await readDatasetFile(dataset, 'multipl-e/known_unsolvable.json', options);
  let parsed: unknown;
  try {
    parsed = JSON.parse(file.text);
  } catch (error) {
    throw new UsageError(`${file.path}: not valid JSON (${(error as Error).message}).`, { cause: error });
  }
  const byStem: Record<string, Record<string, string>> = {};
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (key === 'description') continue;
    // An empty entry is written as [] in the file.
    if (Array.isArray(value) && value.length === 0) {
      byStem[key] = {};
    } else if (
      typeof value === 'object' &&
      value !== null &&
      Object.values(value).every((reason) => typeof reason === 'string')
    ) {
      byStem[key] = { ...(value as Record<string, string>) };
    } else {
      throw new UsageError(`${file.path}: entry "${key}" must map problem names to reasons.`);
    }
  }
  return { path: file.path, sha256: file.sha256, byStem };
}

/**
 * MultiPL-E HumanEval/MBPP translated to TypeScript or JavaScript ("reworded" prompts): 159, 161, 390 and 397 tasks.
 * `knownBroken` lists that file's entries of known_unsolvable.json. Evaluation only: MultiPL-E's license forbids use
 * as training data.
 */
export async function loadMultiplE(
  dataset: MultiplEDatasetName,
  options: LoadDatasetOptions = {},
): Promise<LoadedDataset> {
  const spec = FILES[dataset];
  if (spec === undefined) {
    throw new UsageError(
      `Unknown MultiPL-E dataset "${String(dataset)}": use one of ${Object.keys(FILES).join(', ')}.`,
    );
  }
  const file = await readDatasetFile(dataset, `multipl-e/${spec.stem}.jsonl`, options);
  const tasks = parseJsonl(file.text, file.path).map((record) => multiplETask(record, dataset, spec));
  const unsolvable = await loadKnownUnsolvable(dataset, options);
  return {
    name: dataset,
    tasks,
    files: [
      { path: file.path, sha256: file.sha256 },
      { path: unsolvable.path, sha256: unsolvable.sha256 },
    ],
    knownBroken: unsolvable.byStem[spec.stem] ?? {},
  };
}
