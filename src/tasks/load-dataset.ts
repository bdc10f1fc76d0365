import { UsageError } from '../core/index.js';
import type { LoadDatasetOptions } from './data-dir.js';
import { DATASET_NAMES, isDatasetName, type DatasetName, type LoadedDataset } from './datasets.js';
import { loadExamples } from './examples.js';
import { loadHumanEval } from './humaneval.js';
import { loadHumanEvalInfilling } from './humaneval-infilling.js';
import { loadHumanEvalPlus, loadHumanEvalPlusOriginFmt } from './humaneval-plus.js';
import { loadMbpp, loadMbppSanitized } from './mbpp.js';
import { loadMbppPlus, loadMbppPlusOriginFmt } from './mbpp-plus.js';
import { loadMultiplE } from './multipl-e.js';
import { loadSafim } from './safim.js';
import { loadUserJsonl } from './user-jsonl.js';

const LOADERS: Record<DatasetName, (options: LoadDatasetOptions) => Promise<LoadedDataset>> = {
  humaneval: loadHumanEval,
  'humaneval+': loadHumanEvalPlus,
  'humaneval+-originfmt': loadHumanEvalPlusOriginFmt,
  mbpp: loadMbpp,
  'mbpp-sanitized': loadMbppSanitized,
  'mbpp+': loadMbppPlus,
  'mbpp+-originfmt': loadMbppPlusOriginFmt,
  'multipl-e-humaneval-ts': (options) => loadMultiplE('multipl-e-humaneval-ts', options),
  'multipl-e-humaneval-js': (options) => loadMultiplE('multipl-e-humaneval-js', options),
  'multipl-e-mbpp-ts': (options) => loadMultiplE('multipl-e-mbpp-ts', options),
  'multipl-e-mbpp-js': (options) => loadMultiplE('multipl-e-mbpp-js', options),
  'humaneval-infilling-single': (options) => loadHumanEvalInfilling('humaneval-infilling-single', options),
  'humaneval-infilling-multi': (options) => loadHumanEvalInfilling('humaneval-infilling-multi', options),
  'humaneval-infilling-random-span': (options) => loadHumanEvalInfilling('humaneval-infilling-random-span', options),
  'humaneval-infilling-random-span-light': (options) =>
    loadHumanEvalInfilling('humaneval-infilling-random-span-light', options),
  'safim-block': (options) => loadSafim('safim-block', options),
  'safim-control': (options) => loadSafim('safim-control', options),
  'safim-api': (options) => loadSafim('safim-api', options),
  examples: () => loadExamples(),
};

/** True when `name` is to be read as a user task file rather than a dataset name. */
function isUserFile(name: string): boolean {
  return name.endsWith('.jsonl') || name.endsWith('.jsonl.gz');
}

/**
 * Loads a dataset by name (`humaneval`, `humaneval+`, `mbpp`, `mbpp+`, `multipl-e-humaneval-ts`, …; see
 * `DATASET_NAMES`) from the data directory, or a user task file when `name` is a path ending in `.jsonl` or `.jsonl.gz`
 * (schema in user-jsonl.ts). An unknown name is a UsageError listing the known ones.
 */
export async function loadDataset(name: string, options: LoadDatasetOptions = {}): Promise<LoadedDataset> {
  if (isDatasetName(name)) return LOADERS[name](options);
  if (isUserFile(name)) return loadUserJsonl(name);
  throw new UsageError(
    `Unknown dataset "${name}". Known datasets: ${DATASET_NAMES.join(', ')}; or give the path of a .jsonl task file.`,
  );
}
