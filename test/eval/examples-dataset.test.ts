import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { evaluateSamples, type Sample } from '../../src/eval/index.js';
import { createExecutor } from '../../src/sandbox/index.js';
import { loadDataset } from '../../src/tasks/index.js';
import { noSandbox, repositoryRoot } from './helpers.js';

/**
 * One off-by-one (or boundary) mistake per task of the `examples` dataset, as [text in the canonical solution, the
 * mistake]. The dataset's tests must fail every one of them: a smoke set whose tests pass a wrong solution would report
 * a broken model as working.
 */
const MUTANTS: Record<string, [string, string]> = {
  'examples/py/fizzbuzz': ['range(1, n + 1)', 'range(1, n)'],
  'examples/py/bisect-left': ['lo, hi = 0, len(xs)', 'lo, hi = 0, len(xs) - 1'],
  'examples/py/to-roman': ['while n >= value', 'while n > value'],
  'examples/py/primes-up-to': ['math.isqrt(n) + 1', 'math.isqrt(n)'],
  'examples/js/sum-range': ['i <= b', 'i < b'],
  'examples/js/rotate-right': [
    'arr.slice(n - shift).concat(arr.slice(0, n - shift))',
    'arr.slice(n - shift - 1).concat(arr.slice(0, n - shift - 1))',
  ],
  'examples/js/is-palindrome': ['let j = chars.length - 1', 'let j = chars.length - 2'],
  'examples/js/run-length-encode': ['String(j - i)', 'String(j - i + 1)'],
  'examples/ts/median': ['(sorted[middle - 1] + sorted[middle]) / 2', '(sorted[middle] + sorted[middle + 1]) / 2'],
  'examples/ts/pascal-row': ['k <= n', 'k < n'],
  'examples/ts/merge-intervals': ['start <= last[1]', 'start < last[1]'],
  'examples/ts/window-max': ['start + k <= xs.length', 'start + k < xs.length'],
};

test(
  'examples: the tests of every task fail an off-by-one version of its canonical solution',
  { skip: noSandbox, timeout: 180_000 },
  async () => {
    const dataset = await loadDataset('examples');
    assert.deepEqual(Object.keys(MUTANTS).sort(), dataset.tasks.map((task) => task.id).sort());
    const samples: Sample[] = dataset.tasks.map((task) => {
      const [from, to] = MUTANTS[task.id] ?? ['', ''];
      const canonical = task.canonicalSolution ?? '';
      assert.ok(
        canonical.includes(from),
        `${task.id}: the mutant's text ${JSON.stringify(from)} is not in the canonical solution`,
      );
      return {
        taskId: task.id,
        completion: canonical.replace(from, to),
        index: 0,
        source: `mutant:${task.id}`,
        record: { task_id: task.id },
      };
    });
    const executor = await createExecutor({ concurrency: 2 });
    try {
      const evaluation = await evaluateSamples(dataset.tasks, samples, { executor });
      const wrong = evaluation.samples
        .filter((result) => result.verdict !== 'failed')
        .map((result) => `${result.taskId}: ${result.verdict} ${result.reason}`);
      assert.deepEqual(wrong, [], 'every mutant must fail its tests (and not, say, crash or fail to compile)');
    } finally {
      await executor.close();
    }
  },
);

test(
  'codeloop eval --self-check examples: 12/12 canonical solutions pass, exit 0',
  { skip: noSandbox, timeout: 180_000 },
  () => {
    const result = spawnSync(
      process.execPath,
      [join(repositoryRoot(), 'bin', 'codeloop.js'), 'eval', '--self-check', 'examples'],
      {
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
        timeout: 170_000,
      },
    );
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^examples: 12\/12 canonical solutions passed \(isolation /m);
  },
);
