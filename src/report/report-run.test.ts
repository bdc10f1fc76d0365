import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { writeRunFolder, type FixtureSample } from '../../test/report/report-fixture.js';
import { loadDataset, type LoadedDataset } from '../tasks/index.js';
import { compareRuns } from './compare-runs.js';
import { readRunFolder } from './read-run-folder.js';
import { loadRunDataset, reportRun, taskOutcome } from './report-run.js';

const scratch = mkdtempSync(join(tmpdir(), 'codeloop-report-run-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let examples: LoadedDataset | undefined;
async function dataset(): Promise<LoadedDataset> {
  examples ??= await loadDataset('examples');
  return examples;
}
let folders = 0;
function folder(name: string): string {
  return join(scratch, `${++folders}-${name}`);
}

const FIZZ = 'examples/py/fizzbuzz';
const SUM = 'examples/js/sum-range';
const MEDIAN = 'examples/ts/median';

async function canonical(taskId: string): Promise<string> {
  return (await dataset()).tasks.find((task) => task.id === taskId)?.canonicalSolution ?? '';
}

/** fizzbuzz: 2/2, sum-range: 1/2, median: 0/2 (timed out twice, one program). */
async function threeTasks(): Promise<FixtureSample[]> {
  return [
    { taskId: FIZZ, completion: await canonical(FIZZ), verdict: 'passed', stdout: 'fizz out' },
    { taskId: FIZZ, completion: `${await canonical(FIZZ)}\n`, verdict: 'passed' },
    { taskId: SUM, completion: await canonical(SUM), verdict: 'passed' },
    {
      taskId: SUM,
      completion: '  return 0;\n}\n',
      verdict: 'failed',
      stderr: 'AssertionError [ERR_ASSERTION]: 0 == 6',
    },
    { taskId: MEDIAN, completion: '  while (true) {}\n}\n', verdict: 'timed-out', reason: 'timed out after 15000 ms' },
    { taskId: MEDIAN, completion: '  while (true) {}\n}\n', verdict: 'timed-out', reason: 'timed out after 15000 ms' },
  ];
}

test('taskOutcome: all / some / none, split by the most common failure', () => {
  assert.equal(taskOutcome({ n: 3, c: 3, verdicts: { passed: 3 } }), 'all');
  assert.equal(taskOutcome({ n: 3, c: 1, verdicts: { passed: 1, 'timed-out': 2 } }), 'some');
  assert.equal(taskOutcome({ n: 3, c: 0, verdicts: { failed: 2, 'timed-out': 1 } }), 'none');
  assert.equal(taskOutcome({ n: 3, c: 0, verdicts: { failed: 1, 'timed-out': 2 } }), 'timed-out');
  assert.equal(taskOutcome({ n: 2, c: 0, verdicts: { 'memory-exceeded': 2 } }), 'crashed');
  assert.equal(taskOutcome({ n: 2, c: 0, verdicts: { 'compile-error': 1, failed: 1 } }), 'compile-error');
  assert.equal(taskOutcome({ n: 1, c: 0, verdicts: { 'infra-error': 1 } }), 'infra-error');
});

test('reportRun: joins results and journal by program SHA-256, verifies every program, and reproduces pass@k', async () => {
  const dir = folder('joined');
  const metrics = writeRunFolder(dir, await dataset(), await threeTasks(), { ks: [1, 2] });
  const run = reportRun(readRunFolder(dir), { dataset: await dataset() });
  assert.deepEqual(run.warnings, []);
  assert.equal(run.programsUnavailable, null);
  assert.deepEqual(
    run.tasks.map((task) => [task.id, task.c, task.n, task.outcome]),
    [
      [FIZZ, 2, 2, 'all'],
      [SUM, 1, 2, 'some'],
      [MEDIAN, 0, 2, 'timed-out'],
    ],
  );
  assert.ok(
    run.samples.every((sample) => sample.programVerified),
    'every program rebuilt from the dataset is in the journal',
  );
  // The two median samples are one program: one journal line, shared.
  const median = run.samples.filter((sample) => sample.taskId === MEDIAN);
  assert.equal(median[0]?.execution, median[1]?.execution);
  assert.equal(run.executions.length, 5);
  const failing = run.samples.find((sample) => sample.taskId === SUM && sample.verdict === 'failed');
  assert.equal(run.executions[failing?.execution ?? -1]?.stderrTail, 'AssertionError [ERR_ASSERTION]: 0 == 6');
  // before + text + after is the whole program: prompt, completion, tests.
  const template = run.tasks.find((task) => task.id === SUM)?.programTemplate?.completion;
  const task = (await dataset()).tasks.find((candidate) => candidate.id === SUM);
  assert.ok(template !== undefined && task !== undefined);
  assert.ok(template[0].startsWith(task.prompt));
  assert.ok(template[1].includes('test();'));
  // The curve is the estimator over the joined verdicts: at the run's ks it equals metrics.json.
  assert.deepEqual(
    run.curve.map((point) => point.k),
    [1, 2],
  );
  assert.equal(run.curve[0]?.base, metrics.passAtK['pass@1']);
  assert.equal(run.curve[1]?.base, metrics.passAtK['pass@2']);
  assert.equal(run.curve[0]?.plus, undefined);
});

test('reportRun: the model that wrote the samples (codeloop generate records it) is read from the results file', async () => {
  const dir = folder('model');
  writeRunFolder(dir, await dataset(), await threeTasks());
  const path = join(dir, 'samples.jsonl_results.jsonl');
  const lines = readFileSync(path, 'utf8')
    .trimEnd()
    .split('\n')
    .map((line, index) => JSON.stringify({ ...JSON.parse(line), model: index < 4 ? 'gguf:/m/a.gguf' : 'mock' }));
  writeFileSync(path, `${lines.join('\n')}\n`);
  const run = reportRun(readRunFolder(dir), { dataset: await dataset() });
  assert.deepEqual(run.models, [
    { name: 'gguf:/m/a.gguf', samples: 4 },
    { name: 'mock', samples: 2 },
  ]);
});

test('reportRun without the dataset: joined by sample index, programs marked as not shown, with the reason', async () => {
  const dir = folder('no-dataset');
  writeRunFolder(dir, await dataset(), await threeTasks());
  const run = reportRun(readRunFolder(dir), { datasetUnavailable: 'dataset humaneval could not be loaded (gone).' });
  assert.equal(run.programsUnavailable, 'dataset humaneval could not be loaded (gone).');
  assert.ok(run.samples.every((sample) => !sample.programVerified && sample.execution !== null));
  assert.equal(run.tasks.find((task) => task.id === SUM)?.programTemplate, undefined);
  assert.equal(run.samples[3]?.verdict, 'failed');
  assert.equal(run.executions[run.samples[3]?.execution ?? -1]?.stderrTail, 'AssertionError [ERR_ASSERTION]: 0 == 6');
});

test('reportRun: a journal line whose program is not the rebuilt one is flagged "not verified", not shown as the program', async () => {
  const dir = folder('tampered');
  writeRunFolder(dir, await dataset(), await threeTasks());
  const path = join(dir, 'executions.jsonl');
  const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
  const first = JSON.parse(lines[0] ?? '{}') as { programSha256: string };
  first.programSha256 = '0'.repeat(64);
  lines[0] = JSON.stringify(first);
  writeFileSync(path, `${lines.join('\n')}\n`);
  const run = reportRun(readRunFolder(dir), { dataset: await dataset() });
  assert.equal(run.samples[0]?.programVerified, false);
  assert.ok(run.samples.slice(1).every((sample) => sample.programVerified));
  assert.deepEqual(run.warnings, [
    '1 sample(s): the program rebuilt from the dataset is not in the journal (SHA-256 differs), so only their own text is shown.',
  ]);
});

test('reportRun: metrics.json that disagrees with the results file is a warning naming both figures', async () => {
  const dir = folder('disagree');
  writeRunFolder(dir, await dataset(), await threeTasks());
  const path = join(dir, 'metrics.json');
  const metrics = JSON.parse(readFileSync(path, 'utf8')) as { passAtK: Record<string, number> };
  metrics.passAtK['pass@1'] = 0.9;
  writeFileSync(path, JSON.stringify(metrics));
  const run = reportRun(readRunFolder(dir), { dataset: await dataset() });
  assert.deepEqual(run.warnings, [
    'metrics.json reports pass@1 = 0.9, but the results file gives 0.5: the files come from different runs.',
  ]);
});

test('readRunFolder: clear errors naming the folder, file and line', async () => {
  assert.throws(() => readRunFolder(join(scratch, 'nope')), {
    name: 'UsageError',
    message: `${join(scratch, 'nope')} is not a folder: give the --out folder of a codeloop eval run.`,
  });
  const empty = folder('empty');
  mkdirSync(empty);
  assert.throws(() => readRunFolder(empty), {
    name: 'UsageError',
    message: /metrics\.json not found: is .* the --out folder of a codeloop eval run\?/,
  });

  const dir = folder('broken');
  writeRunFolder(dir, await dataset(), await threeTasks());
  const journal = join(dir, 'executions.jsonl');
  const good = readFileSync(journal, 'utf8');
  // A last line cut by a kill is left out with a warning, as codeloop eval drops it on resume.
  appendFileSync(journal, '{"taskId": "examples/py/fizz');
  const cut = readRunFolder(dir);
  assert.equal(cut.executions.length, 5);
  assert.deepEqual(cut.warnings, [`${journal}:6: the last journal line is cut short (a killed run); it was left out.`]);
  // A bad line in the middle is an error.
  writeFileSync(journal, `not json\n${good}`);
  assert.throws(() => readRunFolder(dir), {
    name: 'UsageError',
    message: new RegExp(`^${journal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:1: journal line is not valid JSON`),
  });
  writeFileSync(journal, good);
  const results = join(dir, 'samples.jsonl_results.jsonl');
  writeFileSync(results, `${readFileSync(results, 'utf8')}{"task_id": "x"}\n`);
  assert.throws(() => readRunFolder(dir), {
    name: 'UsageError',
    message: /samples\.jsonl_results\.jsonl:7: expected a results record with "task_id", "result" and "passed"/,
  });
  writeFileSync(join(dir, 'metrics.json'), '{"passAtK": {}}');
  assert.throws(() => readRunFolder(dir), {
    name: 'UsageError',
    message:
      /metrics\.json: "ks" is missing or not a list of integers; is it the metrics\.json of a codeloop eval run\?/,
  });
});

test('loadRunDataset: built-in tasks load without a data folder; a named dataset without one says how to fix it', async () => {
  const dir = folder('load');
  const metrics = writeRunFolder(dir, await dataset(), await threeTasks());
  const loaded = await loadRunDataset(metrics);
  assert.ok('dataset' in loaded && loaded.dataset.tasks.length === 12);
  const missing = await loadRunDataset({
    ...metrics,
    dataset: { name: 'humaneval', files: [{ path: 'HumanEval.jsonl.gz', sha256: 'x' }] },
  });
  assert.deepEqual(missing, {
    unavailable:
      'metrics.json does not say where dataset humaneval was read from; pass --data-dir DIR to show whole programs.',
  });
  const gone = await loadRunDataset({
    ...metrics,
    dataset: { name: 'humaneval', files: [], dataDir: join(scratch, 'no-data') },
  });
  assert.ok(
    'unavailable' in gone && gone.unavailable.startsWith('dataset humaneval could not be loaded ('),
    JSON.stringify(gone),
  );
});

test('compareRuns: pass@k deltas, flips both ways, and a clear error for another dataset', async () => {
  const baselineDir = folder('baseline');
  const runDir = folder('run');
  const base = await threeTasks();
  writeRunFolder(baselineDir, await dataset(), base, { ks: [1, 2] });
  // The run: fizzbuzz drops to 1/2 (all → some), median now passes once (none → some), sum-range unchanged.
  const changed = base.map((sample) => ({ ...sample }));
  changed[1] = { taskId: FIZZ, completion: '    return []\n', verdict: 'failed' };
  changed[4] = { taskId: MEDIAN, completion: await canonical(MEDIAN), verdict: 'passed' };
  writeRunFolder(runDir, await dataset(), changed, { ks: [1, 2] });
  const run = reportRun(readRunFolder(runDir), { dataset: await dataset() });
  const baseline = reportRun(readRunFolder(baselineDir), { dataset: await dataset() });
  const comparison = compareRuns(run, baseline);
  assert.deepEqual(
    comparison.flips.map((flip) => [
      flip.taskId,
      flip.direction,
      `${flip.before.c}/${flip.before.n}`,
      `${flip.after.c}/${flip.after.n}`,
    ]),
    [
      [FIZZ, 'pass-fail', '2/2', '1/2'],
      [MEDIAN, 'fail-pass', '0/2', '1/2'],
    ],
  );
  assert.deepEqual(
    comparison.passAtK.map((row) => row.key),
    ['pass@1', 'pass@2'],
  );
  assert.equal(comparison.passAtK[0]?.run, 0.5);
  assert.equal(comparison.passAtK[0]?.baseline, 0.5);
  assert.equal(comparison.passAtK[0]?.delta, 0);
  assert.ok(Math.abs((comparison.passAtK[1]?.delta ?? 0) - (1 - 2 / 3)) < 1e-12, 'pass@2: 3/3 tasks vs 2/3');
  assert.deepEqual(comparison.passAtKPlus, []);
  assert.deepEqual([comparison.onlyInRun, comparison.onlyInBaseline], [[], []]);

  const other = { ...baseline, metrics: { ...baseline.metrics, dataset: { name: 'humaneval', files: [] } } };
  assert.throws(() => compareRuns(run, other), {
    name: 'UsageError',
    message: `Cannot compare ${run.dir} (dataset examples) with ${baseline.dir} (dataset humaneval): --compare needs a run of the same dataset.`,
  });
  const changedFiles = {
    ...baseline,
    metrics: { ...baseline.metrics, dataset: { name: 'examples', files: [{ path: 'x', sha256: 'abc' }] } },
  };
  assert.throws(() => compareRuns(run, changedFiles), {
    name: 'UsageError',
    message: /both are dataset examples, but its files' SHA-256 differ \(none vs abc\)/,
  });
});
