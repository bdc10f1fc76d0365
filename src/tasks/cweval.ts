import { UsageError } from '../core/index.js';
import { readDatasetFile, type LoadDatasetOptions } from './data-dir.js';
import type { LoadedDataset } from './datasets.js';
import { numberField, parseJsonl, stringField, type JsonlRecord } from './read-jsonl.js';
import type { SecurityTests, Task } from './task.js';

export type CwevalDatasetName = 'cweval-py' | 'cweval-js';

const LANGUAGES = { 'cweval-py': 'py', 'cweval-js': 'js' } as const;

/**
 * Tasks whose tests cannot fail a wrong program, with the reason (upstream defects found in shared/datasets/cweval).
 * They are scored, but left out of func@k and func-sec@k.
 */
export const CWEVAL_VACUOUS_TASKS: Readonly<Record<string, string>> = {
  'js/cwe_078_0':
    'its test calls the Python helper get_ls_result_safe instead of running the JS task file, so every sample ' +
    "passes it (upstream defect; the Python task's test is fine)",
};

/**
 * Tasks whose insecure reference is not insecure with the pinned dependencies, with the reason: the self-check cannot
 * show their security cases catching it. The tasks stay counted (their security cases still attack candidates).
 */
export const CWEVAL_SECURE_INSECURE_REFERENCES: Readonly<Record<string, string>> = {
  'js/cwe_502_0':
    'js-yaml 4 (what CWEval installs, unpinned) has no !!js/function type in DEFAULT_SCHEMA, so the insecure ' +
    'reference ' +
    "rejects the attack like the secure one; upstream's own oracle case asserts that it returns an error",
};

/** Upper bound of one test case's run, seconds: CWEval's per-test limit is 3 s (`timeout_per_test`). */
export const CWEVAL_TEST_TIMEOUT_SECONDS = 3;

/** `CWE-022` for 22. */
function cweName(value: unknown): string | undefined {
  return typeof value === 'number' && Number.isInteger(value) ? `CWE-${String(value).padStart(3, '0')}` : undefined;
}

/** The file name inside a dataset-relative path (`benchmark/core/py/cwe_020_0_test.py` → `cwe_020_0_test.py`). */
function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/**
 * CWEval (Peng et al. 2025, https://arxiv.org/abs/2501.08200), Co1lin/CWEval @e9a2a124: `cweval-py` (25 tasks) and
 * `cweval-js` (23), read from `cweval/` in the data directory (tasks.jsonl, the pytest files, JavaScript's insecure
 * references, pytest.ini), every file checked against its pinned SHA-256.
 *
 * - `prompt` is CWEval's `code_prompt` (signature and docstring); the chat instruction is in tasks.jsonl
 *   (`instruction`), the way CWEval's "direct" prompt renders it.
 * - A sample is a model's answer (`completion` or `solution`, both taken whole): layout `security-tests` turns it into
 *   the task file as CWEval's `evaluate.py` does (`securityTaskFile`).
 * - `canonicalSolution` is the reference task file (secure), used as the file itself by the self-check.
 * - Known defects are kept as data: `security.vacuous` for js/cwe_078_0 (`CWEVAL_VACUOUS_TASKS`, also in
 *   `knownBroken`), `security.cweInTestHeader` for cwe_400_0 and cwe_943_0, whose test files name another CWE; metrics
 *   group by the task id's CWE, as CWEval's own results do.
 */
export async function loadCweval(dataset: CwevalDatasetName, options: LoadDatasetOptions = {}): Promise<LoadedDataset> {
  const lang = LANGUAGES[dataset];
  if (lang === undefined)
    throw new UsageError(`Unknown CWEval dataset "${String(dataset)}": use cweval-py or cweval-js.`);
  const index = await readDatasetFile(dataset, 'cweval/tasks.jsonl', options);
  const ini = await readDatasetFile(dataset, 'cweval/benchmark/pytest.ini', options);
  const files = [index, ini];
  const tasks: Task[] = [];
  for (const record of parseJsonl(index.text, index.path)) {
    if (stringField(record, 'lang') !== lang) continue;
    const testPath = stringField(record, 'test_file');
    const test = await readDatasetFile(dataset, `cweval/${testPath}`, options);
    files.push(test);
    let insecureReference: SecurityTests['insecureReference'];
    const unsafePath = record.value['unsafe_reference_file'];
    if (typeof unsafePath === 'string') {
      const unsafe = await readDatasetFile(dataset, `cweval/${unsafePath}`, options);
      files.push(unsafe);
      insecureReference = { name: baseName(unsafePath), text: unsafe.text };
    }
    tasks.push(cwevalTask(record, dataset, { name: baseName(testPath), text: test.text }, ini.text, insecureReference));
  }
  const knownBroken = Object.fromEntries(
    Object.entries({ ...CWEVAL_VACUOUS_TASKS, ...CWEVAL_SECURE_INSECURE_REFERENCES }).filter(([id]) =>
      tasks.some((task) => task.id === id),
    ),
  );
  return { name: dataset, tasks, files: files.map(({ path, sha256 }) => ({ path, sha256 })), knownBroken };
}

function cwevalTask(
  record: JsonlRecord,
  dataset: CwevalDatasetName,
  testFile: { name: string; text: string },
  pytestIni: string,
  insecureReference: SecurityTests['insecureReference'],
): Task {
  const id = stringField(record, 'task_id');
  const cwe = cweName(record.value['cwe']);
  if (cwe === undefined) throw new UsageError(`${record.file}:${record.line} (${id}): field "cwe" must be an integer.`);
  const header = cweName(record.value['cwe_in_test_header']);
  const entrypoint = record.value['entrypoint'];
  const javascript = dataset === 'cweval-js';
  if (javascript && typeof entrypoint !== 'string')
    throw new UsageError(`${record.file}:${record.line} (${id}): a JavaScript task needs its "entrypoint" block.`);
  const functionalityTests = numberField(record, 'n_functionality_tests');
  const securityTests = numberField(record, 'n_security_tests');
  const vacuous = CWEVAL_VACUOUS_TASKS[id];
  const security: SecurityTests = {
    cwe,
    ...(header !== undefined && header !== cwe ? { cweInTestHeader: header } : {}),
    taskFile: baseName(stringField(record, 'task_file')),
    testFile,
    pytestIni,
    ...(javascript ? { entrypoint: entrypoint as string } : {}),
    ...(insecureReference === undefined ? {} : { insecureReference }),
    functionalityTests,
    securityTests,
    ...(vacuous === undefined ? {} : { vacuous }),
  };
  const tests = functionalityTests + securityTests;
  return {
    id,
    dataset,
    language: javascript ? 'javascript' : 'python',
    prompt: stringField(record, 'code_prompt'),
    tests: '',
    canonicalSolution: stringField(record, 'reference_solution'),
    stopSequences: [],
    harness: 'exit-code',
    layout: 'security-tests',
    security,
    // pytest's start, every case at its 3 s limit plus a second each, and Node's start per JavaScript case. The driver
    // stops pytest itself before this; the sandbox's limit is the backstop.
    limits: { wallMs: (20 + tests * (CWEVAL_TEST_TIMEOUT_SECONDS + 2)) * 1000, memoryMiB: javascript ? 4096 : 2048 },
  };
}
