import { CWEVAL_JS_FILES, CWEVAL_PY_FILES, CWEVAL_PYTEST_INI_SHA256, CWEVAL_TASKS_SHA256 } from './cweval-files.js';
import type { Task } from './task.js';

/**
 * The datasets codeloop knows: which files each one reads, their pinned SHA-256, where the exact bytes can be
 * downloaded, and their license. Every digest was computed from the files in the workspace's shared/datasets and checked
 * against the git blob at the pinned commit of the URL (MultiPL-E excepted: those files were generated, see below).
 */

/** One file of a dataset. */
export interface DatasetFileSpec {
  /** Path inside the data directory, e.g. `humaneval/HumanEval.jsonl.gz`. */
  path: string;
  /** Lower-case hex SHA-256 of the file's bytes as stored (compressed, for .gz). */
  sha256: string;
  /** A public URL that serves exactly these bytes (a raw file at a pinned commit); absent when there is none. */
  url?: string;
}

export interface DatasetSpec {
  files: readonly DatasetFileSpec[];
  /** License of the data, as stated by its origin. */
  license: string;
  /** Where the data comes from: repository, commit, paper. */
  origin: string;
  /** How to obtain files that have no URL. */
  obtain?: string;
}

const HUMAN_EVAL_COMMIT =
  'https://raw.githubusercontent.com/openai/human-eval/6d43fb980f9fee3c892a914eda09951f772ad10d';
const INFILLING_COMMIT =
  'https://raw.githubusercontent.com/openai/human-eval-infilling/88062ff9859c875d04db115b698ed4b0f0395170';
const HUMANEVAL_PLUS_COMMIT =
  'https://raw.githubusercontent.com/evalplus/humanevalplus_release/200defce9e3429d28ca215b6dd061c0f7f31c18b';
const MBPP_PLUS_COMMIT =
  'https://raw.githubusercontent.com/evalplus/mbppplus_release/dadf43da556a00f7bacd71cb154f2932757d9144';
// google-research/google-research holds the canonical MBPP, but its copy escapes non-ASCII differently (see
// shared/datasets/mbpp/SOURCE.md); this mirror serves the byte-identical blobs 96e2dc2f / c4f20bfd pinned here.
const MBPP_MIRROR_COMMIT = 'https://raw.githubusercontent.com/patdfb/TPC-EES/30c8c572bfcd0fc5fa537210710d7fde134e4868';

const HUMANEVAL_PLUS_ORIGIN =
  'github.com/evalplus/humanevalplus_release @200defce (v0.1.10, the version EvalPlus loads by default; EvalPlus ' +
  'itself downloads the release asset of the same name). Paper: https://arxiv.org/abs/2305.01210';
const MBPP_PLUS_ORIGIN = 'github.com/evalplus/mbppplus_release @dadf43da (= tag v0.2.0, 378 tasks; EvalPlus default).';
const MBPP_ORIGIN =
  'google-research/google-research mbpp/ (paper: https://arxiv.org/abs/2108.07732); bytes as in github.com/patdfb/TPC-EES @30c8c572.';
const MBPP_LICENSE = 'CC-BY-4.0 (per the Hugging Face dataset card; no license file in the folder, unverified)';
const MULTIPL_E_LICENSE =
  'BSD-3-Clause with a machine-learning restriction (nuprl/MultiPL-E: never use as training data); MIT per the HF card. Evaluation only.';
const MULTIPL_E_ORIGIN =
  "generated with MultiPL-E's dataset_builder/prepare_prompts_json.py (github.com/rowan-walshe/MultiPL-E @fa495f0b), " +
  'reworded prompts, transformed doctests. Paper: https://arxiv.org/abs/2208.08227';
const MULTIPL_E_OBTAIN =
  'These files were generated, not copied, so no URL serves these exact bytes: copy the multipl-e/ folder from a machine ' +
  'that has it (here: ../shared/datasets/multipl-e), or regenerate it as its SOURCE.md describes.';
const KNOWN_UNSOLVABLE: DatasetFileSpec = {
  path: 'multipl-e/known_unsolvable.json',
  sha256: '63444476318892a960ab4f8b71821498f57f47757c21d964d4bbaa5d6fceb3f5',
};

function infilling(file: string, sha256: string): DatasetSpec {
  return {
    files: [{ path: `humaneval-infilling/${file}`, sha256, url: `${INFILLING_COMMIT}/data/${file}` }],
    license: 'MIT (openai/human-eval-infilling LICENSE)',
    origin: 'github.com/openai/human-eval-infilling @88062ff9 data/. Paper: https://arxiv.org/abs/2207.14255',
  };
}

const SAFIM_COMMIT = 'https://raw.githubusercontent.com/gonglinyuan/safim/231b148f5bf68a959a07b3454e7dfae6382a7a67';

// The data left git at d37eaa6; later versions (block_v2, control_fixed) live only on the HF hub and are not these.
function safim(file: string, sha256: string): DatasetSpec {
  return {
    files: [{ path: `safim/${file}`, sha256, url: `${SAFIM_COMMIT}/data/${file}` }],
    license: 'MIT (gonglinyuan/safim LICENSE); CC-BY-4.0 per the HF dataset card',
    origin: 'github.com/gonglinyuan/safim @231b148f data/ (v1). Paper: https://arxiv.org/abs/2403.04814',
  };
}

const CWEVAL_COMMIT = 'https://raw.githubusercontent.com/Co1lin/CWEval/e9a2a124c8c53679b6d8d27adfd2f6c40e7576d7';

function cweval(files: readonly (readonly [string, string])[]): DatasetSpec {
  return {
    files: [
      { path: 'cweval/tasks.jsonl', sha256: CWEVAL_TASKS_SHA256 },
      {
        path: 'cweval/benchmark/pytest.ini',
        sha256: CWEVAL_PYTEST_INI_SHA256,
        url: `${CWEVAL_COMMIT}/benchmark/pytest.ini`,
      },
      ...files.map(([path, sha256]) => ({ path: `cweval/${path}`, sha256, url: `${CWEVAL_COMMIT}/${path}` })),
    ],
    license: 'Apache-2.0 (Co1lin/CWEval LICENSE)',
    origin:
      'github.com/Co1lin/CWEval @e9a2a124 benchmark/core/{py,js}; tasks.jsonl indexes them (shared/datasets/cweval/SOURCE.md). ' +
      'Paper: https://arxiv.org/abs/2501.08200',
    obtain:
      'tasks.jsonl was generated from the upstream files, so no URL serves it: copy the cweval/ folder from a machine that ' +
      'has it (here: ../shared/datasets/cweval).',
  };
}

function multiplE(file: string, sha256: string): DatasetSpec {
  return {
    files: [{ path: `multipl-e/${file}`, sha256 }, KNOWN_UNSOLVABLE],
    license: MULTIPL_E_LICENSE,
    origin: MULTIPL_E_ORIGIN,
    obtain: MULTIPL_E_OBTAIN,
  };
}

export const DATASETS = {
  humaneval: {
    files: [
      {
        path: 'humaneval/HumanEval.jsonl.gz',
        sha256: 'b796127e635a67f93fb35c04f4cb03cf06f38c8072ee7cee8833d7bee06979ef',
        url: `${HUMAN_EVAL_COMMIT}/data/HumanEval.jsonl.gz`,
      },
    ],
    license: 'MIT (openai/human-eval LICENSE)',
    origin: 'github.com/openai/human-eval @6d43fb98 data/. Paper: https://arxiv.org/abs/2107.03374',
  },
  'humaneval+': {
    files: [
      {
        path: 'humanevalplus/HumanEvalPlus.jsonl.gz',
        sha256: '272720b90ac375502c8ed23cd791c2a93dfb22a911641a494da74a426c09f101',
        url: `${HUMANEVAL_PLUS_COMMIT}/HumanEvalPlus.jsonl.gz`,
      },
    ],
    license: 'Apache-2.0 (evalplus/humanevalplus_release LICENSE)',
    origin: HUMANEVAL_PLUS_ORIGIN,
  },
  'humaneval+-originfmt': {
    files: [
      {
        path: 'humanevalplus/HumanEvalPlus-OriginFmt.jsonl.gz',
        sha256: 'daa7661c8189924068069b0872a440b491edb60f8bdf431d5957adc88d18bae5',
        url: `${HUMANEVAL_PLUS_COMMIT}/HumanEvalPlus-OriginFmt.jsonl.gz`,
      },
    ],
    license: 'Apache-2.0 (evalplus/humanevalplus_release LICENSE)',
    origin: HUMANEVAL_PLUS_ORIGIN,
  },
  mbpp: {
    files: [
      {
        path: 'mbpp/mbpp.jsonl',
        sha256: 'ccf64ceae9c5403bf50a044cb6d505bfd2a2963ee58338ba268fd65beab92a9f',
        url: `${MBPP_MIRROR_COMMIT}/mbpp/mbpp.jsonl`,
      },
    ],
    license: MBPP_LICENSE,
    origin: MBPP_ORIGIN,
  },
  'mbpp-sanitized': {
    files: [
      {
        path: 'mbpp/sanitized-mbpp.json',
        sha256: '7fec016546acaee11dbe14f9f0bb670e59f41919f7b522a59fba34871da78551',
        url: `${MBPP_MIRROR_COMMIT}/mbpp/sanitized-mbpp.json`,
      },
    ],
    license: MBPP_LICENSE,
    origin: MBPP_ORIGIN,
  },
  'mbpp+': {
    files: [
      {
        path: 'mbppplus/MbppPlus.jsonl.gz',
        sha256: 'af43697e8791c4c149bdfd6b489d8b5412507551ac20e28a439f650b8225db63',
        url: `${MBPP_PLUS_COMMIT}/MbppPlus.jsonl.gz`,
      },
    ],
    license: 'Apache-2.0 (evalplus/mbppplus_release LICENSE)',
    origin: MBPP_PLUS_ORIGIN,
  },
  'mbpp+-originfmt': {
    files: [
      {
        path: 'mbppplus/MbppPlus-OriginFmt.jsonl.gz',
        sha256: '7a5aec547b134fa297ee6c45f829298aa3f58de02547b8d8a5c3d85d9cb10efc',
        url: `${MBPP_PLUS_COMMIT}/MbppPlus-OriginFmt.jsonl.gz`,
      },
    ],
    license: 'Apache-2.0 (evalplus/mbppplus_release LICENSE)',
    origin: MBPP_PLUS_ORIGIN,
  },
  'multipl-e-humaneval-ts': multiplE(
    'humaneval-ts-reworded.jsonl',
    '0442d01a911cec81f6e95bed08b61ae782fbfd53b253937914dc98dde00866ef',
  ),
  'multipl-e-humaneval-js': multiplE(
    'humaneval-js-reworded.jsonl',
    'f822b7f43150829cad76e839313d438c8c01e1ed29571edc349557a67540a707',
  ),
  'multipl-e-mbpp-ts': multiplE(
    'mbpp-ts-reworded.jsonl',
    '3c0ae225eb0e31844bada45f69e59a9e5b22db6ae5c4249d11ba0c3b6dd24fcf',
  ),
  'multipl-e-mbpp-js': multiplE(
    'mbpp-js-reworded.jsonl',
    '9aa7016c6fbcd2b394334ebf6c32db4a57681c85f63ae7fae6ad4e249c83c071',
  ),
  'humaneval-infilling-single': infilling(
    'HumanEval-SingleLineInfilling.jsonl.gz',
    '1277073e7ddce163ef68598c2bca777f688a53df99422f097e37362090f88e1f',
  ),
  'humaneval-infilling-multi': infilling(
    'HumanEval-MultiLineInfilling.jsonl.gz',
    '2f341612eee1d35da1357a4f365e0c0b3ba6e2b62eb491e88aaefa4855af0349',
  ),
  'humaneval-infilling-random-span': infilling(
    'HumanEval-RandomSpanInfilling.jsonl.gz',
    'b4f330d8a8ff97bf85d9def497dffcae4d741e506449386a877236e422e33e8d',
  ),
  'humaneval-infilling-random-span-light': infilling(
    'HumanEval-RandomSpanInfillingLight.jsonl.gz',
    '1432250ecac0cb56e6f97f8faf0970419ef892a98fda7e1f5aa4c4b87209b760',
  ),
  'safim-block': safim('block_completion.jsonl.gz', 'a6ee546933f3c74a1fa95f544206e9b6467434ab2044ee58e365421a9ced22d4'),
  'safim-control': safim(
    'control_completion.jsonl.gz',
    '63eb4c0382e1f20bbb21efbd30997390ca0c8c9a9adee9018caccdb3224bb68a',
  ),
  'safim-api': safim('api_completion.jsonl.gz', '21e87bc349f7e344ebd3654fe9386a26457f8a46418ccb56751f7d3dc300f911'),
  'cweval-py': cweval(CWEVAL_PY_FILES),
  'cweval-js': cweval(CWEVAL_JS_FILES),
  // codeloop's own smoke set, defined in src/tasks/examples.ts: no files to read.
  examples: {
    files: [],
    license: 'Apache-2.0 (codeloop)',
    origin:
      'codeloop src/tasks/examples.ts: 12 tasks written for codeloop (Python as HumanEval, JavaScript and TypeScript as MultiPL-E).',
  },
} as const satisfies Record<string, DatasetSpec>;

/** A dataset codeloop knows by name. */
export type DatasetName = keyof typeof DATASETS;

export const DATASET_NAMES = Object.keys(DATASETS) as DatasetName[];

export function isDatasetName(name: string): name is DatasetName {
  return Object.hasOwn(DATASETS, name);
}

/** What loading a dataset gives. */
export interface LoadedDataset {
  /** Dataset name, or the path of a user file. */
  name: string;
  tasks: Task[];
  /** Every file read and its SHA-256: the part of a run's reproducibility record that says which data it used. */
  files: { path: string; sha256: string }[];
  /**
   * Tasks whose reference check is known to fail (broken tests, untranslatable types, a canonical solution that does
   * not pass its own tests), by task id, with the reason from the dataset's notes. A self-check reports these instead of
   * counting them as failures.
   */
  knownBroken: Record<string, string>;
  /**
   * Records of the dataset's files that were not made into tasks, per language, with the reason (SAFIM's Java, C++ and
   * C# block/control tasks, which codeloop cannot run). Absent when every record became a task.
   */
  omitted?: OmittedRecords[];
}

/** A group of records a loader left out of `tasks`. */
export interface OmittedRecords {
  language: string;
  count: number;
  reason: string;
}
