import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tableFromIPC } from 'apache-arrow';
import { readParquet } from 'parquet-wasm/node';
import { loadDataset, type LoadedDataset } from '../../src/tasks/index.js';
import { writeRunFolder } from '../report/report-fixture.js';
import { FUNCTION_ROW, writeRewardsRun, writeSolveRun } from './run-fixtures.js';

// `codeloop export` end to end: the built CLI on run folders written as codeloop eval, solve and rewards score write
// them (verdicts given by the test), its files read back, and every kind of bad input refused with exit code 2.

const bin = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bin', 'codeloop.js');
const scratch = mkdtempSync(join(tmpdir(), 'codeloop-export-cli-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function codeloop(args: string[]) {
  return spawnSync(process.execPath, [bin, 'export', ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    timeout: 60_000,
  });
}

const jsonl = (text: string): Record<string, unknown>[] =>
  text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

let examples: LoadedDataset;
let evalRun: string;
before(async () => {
  examples = await loadDataset('examples');
  evalRun = join(scratch, 'eval');
  const fizzbuzz = examples.tasks.find((task) => task.id === 'examples/py/fizzbuzz');
  writeRunFolder(evalRun, examples, [
    { taskId: 'examples/py/fizzbuzz', completion: fizzbuzz?.canonicalSolution ?? '', verdict: 'passed' },
    { taskId: 'examples/py/fizzbuzz', completion: '    return []\n', verdict: 'failed' },
    { taskId: 'examples/py/fizzbuzz', completion: '    return [\n', verdict: 'compile-error' },
    { taskId: 'examples/py/fizzbuzz', completion: '    pass\n', verdict: 'infra-error' },
    { taskId: 'examples/js/sum-range', completion: '  return 0;\n}\n', verdict: 'failed' },
  ]);
});

test('eval run: trl-grpo rows carry the task as the row; dpo pairs by the binary rule; kto skips infra errors', () => {
  const grpo = codeloop(['--from', evalRun, '--format', 'trl-grpo']);
  assert.equal(grpo.status, 0, grpo.stderr);
  const rows = jsonl(grpo.stdout);
  assert.deepEqual(
    rows.map((row) => [row.task_id, row.language]),
    [
      ['examples/py/fizzbuzz', 'python'],
      ['examples/js/sum-range', 'javascript'],
    ],
  );
  const fizzbuzz = examples.tasks.find((task) => task.id === 'examples/py/fizzbuzz');
  assert.equal(rows[0]?.prompt, fizzbuzz?.prompt);
  assert.deepEqual(JSON.parse(rows[0]?.row as string), { task: fizzbuzz });
  assert.match(
    grpo.stderr,
    /codeloop export: 2 trl-grpo row\(s\) from 5 completion\(s\) of 2 task\(s\), 1 with an infra error/,
  );

  const dpo = codeloop(['--from', evalRun, '--format', 'trl-dpo']);
  assert.equal(dpo.status, 0, dpo.stderr);
  assert.deepEqual(
    jsonl(dpo.stdout).map((pair) => [pair.chosen, pair.rejected, pair.margin]),
    [[fizzbuzz?.canonicalSolution, '    return []\n', 1]],
  );

  const kto = codeloop(['--from', evalRun, '--format', 'trl-kto']);
  assert.equal(kto.status, 0, kto.stderr);
  assert.deepEqual(
    jsonl(kto.stdout).map((row) => [row.completion, row.label]),
    [
      [fizzbuzz?.canonicalSolution, true],
      ['    return []\n', false],
      ['    return [\n', false],
      ['  return 0;\n}\n', false],
    ],
  );
});

test('verl: --out writes a Parquet file that an independent reader reads back', () => {
  const out = join(scratch, 'train.parquet');
  const result = codeloop(['--from', evalRun, '--format', 'verl', '--out', out]);
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stderr, /2 verl row\(s\) .* -> /);
  const table = tableFromIPC(readParquet(new Uint8Array(readFileSync(out))).intoIPCStream());
  assert.equal(table.numRows, 2);
  const first = table.get(0)?.toJSON() as Record<string, { toJSON?: () => unknown } & Record<string, unknown>>;
  assert.equal(first.data_source, 'codeloop');
  assert.equal(first.ability, 'code');
  const groundTruth = JSON.parse(String(first.reward_model?.ground_truth)) as { task: { id: string } };
  assert.equal(groundTruth.task.id, 'examples/py/fizzbuzz');
  assert.equal(first.extra_info?.language, 'python');
});

test('rewards and solve runs through the CLI, written to --out', () => {
  const rewards = writeRewardsRun(
    join(scratch, 'rewards'),
    [
      { rowId: 'add', completion: 'A', passRate: 1, verdict: 'passed' },
      { rowId: 'add', completion: 'B', passRate: 0.5, verdict: 'failed' },
    ],
    [FUNCTION_ROW],
  );
  const out = join(scratch, 'openrlhf.jsonl');
  const openrlhf = codeloop(['--from', rewards, '--format', 'openrlhf', '--out', out]);
  assert.equal(openrlhf.status, 0, openrlhf.stderr);
  assert.equal(openrlhf.stdout, '');
  assert.deepEqual(jsonl(readFileSync(out, 'utf8')), [
    { input: FUNCTION_ROW.prompt, label: JSON.stringify(FUNCTION_ROW), task_id: 'add' },
  ]);
  const solve = writeSolveRun(join(scratch, 'solve'), [
    { task: 't', id: 'a0', kind: 'sample', prompt: 'def f():\n', completion: 'broken', passRate: 0 },
    { task: 't', id: 'a1', kind: 'repair', parent: 'a0', turn: 1, prompt: '# fix\n', completion: 'ok', passRate: 1 },
  ]);
  const sft = codeloop(['--from', solve, '--format', 'sft']);
  assert.equal(sft.status, 0, sft.stderr);
  assert.deepEqual(jsonl(sft.stdout), [{ prompt: '# fix\n', completion: 'ok', task_id: 't' }]);
});

test('bad input: exit 2 with a message that names the value and the fix', () => {
  const notARun = join(scratch, 'not-a-run');
  mkdirSync(notARun, { recursive: true });
  writeFileSync(join(notARun, 'notes.txt'), 'hello\n');
  const brokenSolve = join(scratch, 'broken-solve');
  mkdirSync(brokenSolve, { recursive: true });
  writeFileSync(join(brokenSolve, 'attempts.jsonl'), '{"task_id": "t"}\n');
  const noRepairs = writeSolveRun(join(scratch, 'no-repairs'), [
    { task: 't', id: 'a0', kind: 'sample', prompt: 'def f():\n', completion: 'nope', passRate: 0 },
  ]);
  // An eval run whose dataset cannot be loaded any more: its prompts are gone with it.
  const lostDataset = join(scratch, 'lost-dataset');
  writeRunFolder(lostDataset, examples, [
    { taskId: 'examples/py/fizzbuzz', completion: '    pass\n', verdict: 'failed' },
  ]);
  const metricsPath = join(lostDataset, 'metrics.json');
  const metrics = JSON.parse(readFileSync(metricsPath, 'utf8')) as { dataset: Record<string, unknown> };
  metrics.dataset = { name: 'mbpp', files: [], dataDir: join(scratch, 'no-such-data') };
  writeFileSync(metricsPath, JSON.stringify(metrics));
  const cases: [string[], RegExp][] = [
    [
      ['--from', lostDataset, '--format', 'trl-grpo'],
      new RegExp(
        "lost-dataset: the prompts come from the run's dataset, which cannot be used: dataset mbpp could not be " +
          'loaded .*--data-dir DIR names the folder with the dataset files',
      ),
    ],
    [
      ['--from', evalRun, '--format', 'parquet'],
      /--format "parquet": use one of trl-grpo, trl-dpo, trl-kto, sft, openrlhf, verl/,
    ],
    [['--format', 'trl-kto'], /--from is missing: give the --out folder of a run/],
    [
      ['--from', join(scratch, 'nowhere'), '--format', 'trl-kto'],
      /nowhere: not a folder\. Give the --out folder of a codeloop eval, solve or rewards score run/,
    ],
    [
      ['--from', notARun, '--format', 'trl-kto'],
      /not-a-run: not a run folder \(no run\.json \+ results\.jsonl of codeloop rewards score/,
    ],
    [['--from', evalRun, '--format', 'verl'], /--format verl writes a Parquet file: give --out FILE\.parquet/],
    [
      ['--from', evalRun, '--format', 'sft'],
      /only a codeloop solve run records; .* is the folder of a codeloop eval run/,
    ],
    [['--from', evalRun, '--format', 'trl-dpo', '--min-gap', '2'], /--min-gap "2" must be a number from 0 to 1/],
    [['--from', brokenSolve, '--format', 'trl-kto'], /attempts\.jsonl:1: lacks task_id, attempt_id or kind/],
    [
      ['--from', noRepairs, '--format', 'sft'],
      /Nothing to export: no repair passed every hidden test\. Read 1 completion\(s\) of 1 task\(s\)/,
    ],
  ];
  for (const [args, message] of cases) {
    const result = codeloop(args);
    assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, message, args.join(' '));
    assert.equal(result.stdout, '', args.join(' '));
  }
});
