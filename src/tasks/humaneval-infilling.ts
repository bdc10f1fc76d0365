import { UsageError } from '../core/index.js';
import type { LoadDatasetOptions } from './data-dir.js';
import type { LoadedDataset } from './datasets.js';
import { HUMAN_EVAL_LIMITS, loadHumanEvalFormat } from './humaneval.js';

export type HumanEvalInfillingDatasetName =
  | 'humaneval-infilling-single'
  | 'humaneval-infilling-multi'
  | 'humaneval-infilling-random-span'
  | 'humaneval-infilling-random-span-light';

/**
 * File per variant. Upstream human_eval_infilling/data.py maps random-span(-light) to `HumanEval-RandomSpan(Light)`,
 * names that do not exist in its data/ folder; these are the files that do.
 */
const FILES: Record<HumanEvalInfillingDatasetName, string> = {
  'humaneval-infilling-single': 'HumanEval-SingleLineInfilling.jsonl.gz',
  'humaneval-infilling-multi': 'HumanEval-MultiLineInfilling.jsonl.gz',
  'humaneval-infilling-random-span': 'HumanEval-RandomSpanInfilling.jsonl.gz',
  'humaneval-infilling-random-span-light': 'HumanEval-RandomSpanInfillingLight.jsonl.gz',
};

/**
 * HumanEval infilling (Bavarian et al. 2022): 1033 single-line, 5815 multi-line, 1640 random-span and 164
 * random-span-light tasks. `prompt` is the prefix, `suffix` the code after the hole, the completion is the middle.
 * Program: `prompt + completion + suffix + "\n" + test + "\n" + "check(" + entry_point + ")"`, openai/human-eval-infilling
 * `execution.py`. No stop sequences: a fill-in-the-middle model ends the middle with its own end token, and text stops
 * such as `\nif` would cut the many middles that contain them. Time limit 3 s, the harness's default.
 */
export async function loadHumanEvalInfilling(
  dataset: HumanEvalInfillingDatasetName,
  options: LoadDatasetOptions = {},
): Promise<LoadedDataset> {
  const file = FILES[dataset];
  if (file === undefined) {
    throw new UsageError(
      `Unknown HumanEval infilling variant "${String(dataset)}": use one of ${Object.keys(FILES).join(', ')}.`,
    );
  }
  return loadHumanEvalFormat(
    dataset,
    `humaneval-infilling/${file}`,
    { stopSequences: [], limits: HUMAN_EVAL_LIMITS },
    options,
  );
}
