// human-eval's own sanity check, with its own files (test/fixtures/human-eval, copied from openai/human-eval @6d43fb98):
// example_samples.jsonl scored on example_problem.jsonl "should yield 0.5 pass@1" (human-eval README). Six samples for
// `def return1():`: a subprocess call of `rm -rf tmp`, time.sleep(10), input(), and `return 1` indented with four
// spaces, two spaces and a tab.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { passAtK } from '../../src/core/index.js';
import { evaluateSamples, readSamples, resultLines } from '../../src/eval/index.js';
import { createExecutor } from '../../src/sandbox/index.js';
import { loadDataset } from '../../src/tasks/index.js';
import { noSandbox, repositoryRoot } from './helpers.js';

const fixtures = join(repositoryRoot(), 'test', 'fixtures', 'human-eval');
const problemFile = join(fixtures, 'example_problem.jsonl');
const samplesFile = join(fixtures, 'example_samples.jsonl');
const scratch = mkdtempSync(join(tmpdir(), 'codeloop-human-eval-example-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/**
 * human-eval prints `{'pass@1': 0.4999999999999999}` for these files (its README), not 0.5: 1 - (3/4)(4/5)(5/6) in
 * floating point. codeloop's estimator is the same arithmetic, so it must give the same bits.
 */
const HUMAN_EVAL_PASS_AT_1 = 0.4999999999999999;

// What openai/human-eval @6d43fb98 writes in example_samples.jsonl_results.jsonl for these files (run 2026-12-02).
const EXPECTED = [
  // human-eval's reliability_guard sets subprocess.Popen to None, so check_output raises TypeError; nothing runs.
  { verdict: 'failed', result: "failed: 'NoneType' object is not callable" },
  // Sleeps 10 s against human-eval's 3 s timeout.
  { verdict: 'timed-out', result: 'timed out' },
  // human-eval's stdin is a write-only buffer: input() raises OSError (IOError, with no text) on reading it.
  { verdict: 'failed', result: 'failed: ' },
  { verdict: 'passed', result: 'passed' },
  { verdict: 'passed', result: 'passed' },
  { verdict: 'passed', result: 'passed' },
];

test('human-eval example: the problem file loads as a user task file, unchanged', async () => {
  const dataset = await loadDataset(problemFile);
  assert.equal(dataset.tasks.length, 1);
  const [task] = dataset.tasks;
  assert.equal(task?.id, 'test/0');
  assert.equal(task?.layout, 'human-eval');
  assert.equal(task?.entryPoint, 'return1');
  assert.equal(dataset.files[0]?.sha256, '701442bbe5a65db1e4ac218d0d2bb29a6caf9615a769759bcf4ca38621ba1d7f');
  const samples = await readSamples(samplesFile, new Set(['test/0']));
  assert.deepEqual(
    samples.map((sample) => sample.index),
    [0, 1, 2, 3, 4, 5],
  );
});

test(
  "human-eval example: the six samples score pass@1 = 0.4999999999999999 with human-eval's verdicts",
  { skip: noSandbox, timeout: 60_000 },
  async () => {
    const dataset = await loadDataset(problemFile);
    const samples = await readSamples(samplesFile, new Set(dataset.tasks.map((task) => task.id)));
    const executor = await createExecutor({ concurrency: 2 });
    try {
      const evaluation = await evaluateSamples(dataset.tasks, samples, { executor });
      assert.deepEqual(
        evaluation.samples.map((result) => result.verdict),
        EXPECTED.map((expected) => expected.verdict),
      );
      assert.deepEqual(evaluation.counts, [{ taskId: 'test/0', n: 6, c: 3 }]);
      assert.deepEqual(passAtK(evaluation.counts, [1, 10, 100]), { 'pass@1': HUMAN_EVAL_PASS_AT_1 });
      const lines = resultLines(samples, evaluation.samples)
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as { result: string; passed: boolean });
      assert.deepEqual(
        lines.map((line) => line.result),
        EXPECTED.map((expected) => expected.result),
      );
    } finally {
      await executor.close();
    }
  },
);

test(
  'human-eval example through the CLI: eval --dataset FILE --samples FILE --json, and tmp/ survives rm -rf tmp',
  { skip: noSandbox, timeout: 60_000 },
  () => {
    // The first sample asks for `rm -rf tmp` in its working directory: give the CLI one that has a tmp/ to lose.
    const cwd = join(scratch, 'cwd');
    mkdirSync(join(cwd, 'tmp'), { recursive: true });
    writeFileSync(join(cwd, 'tmp', 'canary'), 'still here\n');
    const out = join(scratch, 'out');
    const result = spawnSync(
      process.execPath,
      [
        join(repositoryRoot(), 'bin', 'codeloop.js'),
        'eval',
        '--dataset',
        problemFile,
        '--samples',
        samplesFile,
        '--out',
        out,
        '--json',
      ],
      {
        cwd,
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
        timeout: 55_000,
      },
    );
    assert.equal(result.status, 0, result.stderr);
    const metrics = JSON.parse(result.stdout) as {
      passAtK: Record<string, number>;
      verdicts: Record<string, number>;
      samples: number;
    };
    assert.deepEqual(metrics.passAtK, { 'pass@1': HUMAN_EVAL_PASS_AT_1 });
    assert.equal(metrics.samples, 6);
    assert.deepEqual(
      { passed: metrics.verdicts.passed, failed: metrics.verdicts.failed, timedOut: metrics.verdicts['timed-out'] },
      { passed: 3, failed: 2, timedOut: 1 },
    );
    const results = readFileSync(join(out, 'example_samples.jsonl_results.jsonl'), 'utf8')
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { passed: boolean });
    assert.deepEqual(
      results.map((line) => line.passed),
      [false, false, false, true, true, true],
    );
    assert.equal(readFileSync(join(cwd, 'tmp', 'canary'), 'utf8'), 'still here\n');
  },
);
