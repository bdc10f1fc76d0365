import { UsageError } from '../core/index.js';
import type { LoadDatasetOptions } from './data-dir.js';
import { DATASET_NAMES, isDatasetName, type DatasetName, type LoadedDataset } from './datasets.js';
import { loadCweval } from './cweval.js';
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
  'cweval-py': (options) => loadCweval('cweval-py', options),
  'cweval-js': (options) => loadCweval('cweval-js', options),
  examples: () => loadExamples(),
};

/** True when `name` is to be read as a user task file rather than a dataset name. */
function isUserFile(name: string): boolean {
  return name.endsWith('.jsonl') || name.endsWith('.jsonl.gz');
}

/** A name with case, spaces, `_`, `-` and `plus`/`+` spelled away: `HumanEval`, `human_eval`, `HumanEvalPlus` match. */
function spellingKey(name: string): string {
  return name
    .toLowerCase()
    .replace(/plus/g, '+')
    .replace(/[^a-z0-9+]/g, '');
}

const BY_SPELLING = new Map<string, DatasetName>(DATASET_NAMES.map((name) => [spellingKey(name), name]));

/** Edit distance of two short strings (insertions, deletions, substitutions). */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++)
      next[j] = Math.min(
        (row[j] ?? 0) + 1,
        (next[j - 1] ?? 0) + 1,
        (row[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    row = next;
  }
  return row[b.length] ?? 0;
}

/**
 * The dataset name `name` means: itself, or the one it spells differently (`HumanEval` → `humaneval`, `mbpp_plus` →
 * `mbpp+`). Undefined when none matches.
 */
export function canonicalDatasetName(name: string): DatasetName | undefined {
  if (isDatasetName(name)) return name;
  return BY_SPELLING.get(spellingKey(name));
}

/**
 * Loads a dataset by name (`humaneval`, `humaneval+`, `mbpp`, `mbpp+`, `multipl-e-humaneval-ts`, …; see
 * `DATASET_NAMES`; other spellings of a name, such as `HumanEval`, are accepted) from the data directory, or a user
 * task file when `name` is a path ending in `.jsonl` or `.jsonl.gz` (schema in user-jsonl.ts). An unknown name is a
 * UsageError suggesting the closest known one and listing them all.
 */
export async function loadDataset(name: string, options: LoadDatasetOptions = {}): Promise<LoadedDataset> {
  if (isUserFile(name)) return loadUserJsonl(name);
  const canonical = canonicalDatasetName(name);
  if (canonical !== undefined) return LOADERS[canonical](options);
  const key = spellingKey(name);
  const closest = [...BY_SPELLING.entries()]
    .map(([spelling, known]) => ({ known, distance: editDistance(key, spelling) }))
    .sort((a, b) => a.distance - b.distance)[0];
  const suggestion =
    closest !== undefined && closest.distance <= Math.max(2, Math.floor(key.length / 3))
      ? ` Did you mean ${closest.known}?`
      : '';
  throw new UsageError(
    `Unknown dataset "${name}".${suggestion} Known datasets: ${DATASET_NAMES.join(', ')}; or give the path of a .jsonl task file.`,
  );
}
