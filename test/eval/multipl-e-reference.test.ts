import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { passAtK } from '../../src/core/index.js';
import { evaluateSamples, type Sample } from '../../src/eval/index.js';
import { createExecutor } from '../../src/sandbox/index.js';
import { buildProgram, loadDataset } from '../../src/tasks/index.js';
import { noSandbox, sharedDatasets } from './helpers.js';

// Known answer: Qwen2.5-Coder-1.5B's greedy MultiPL-E HumanEval programs with Qwen's own verdicts
// (reference-outputs/SOURCE.md). Each `code` is prompt + completion + "\n" + tests, so the completion is recovered by
// cutting the prompt and the tests off, and scoring it must reproduce `passed` for every task.
const { dataDir, skip: noData } = sharedDatasets();
const skip = noData || noSandbox;

type Details = Record<string, [[number, { task_id: string; passed: boolean; code: string }]]>;

async function checkAgreement(language: 'ts' | 'js', expectedPasses: number): Promise<void> {
  const dataset = await loadDataset(`multipl-e-humaneval-${language}`, { dataDir });
  const details = JSON.parse(
    readFileSync(
      join(dataDir, 'reference-outputs', 'qwen2.5-coder-1.5b-base', 'multipl-e', `humaneval-${language}-details.json`),
      'utf8',
    ),
  ) as Details;
  const expected = new Map<string, boolean>();
  const samples: Sample[] = [];
  for (const task of dataset.tasks) {
    const entry = details[task.id]?.[0]?.[1];
    assert.ok(entry, `no reference output for ${task.id}`);
    const suffix = `\n${task.tests}`;
    assert.ok(
      entry.code.startsWith(task.prompt) && entry.code.endsWith(suffix),
      `${task.id}: code is not prompt + completion + "\\n" + tests`,
    );
    const completion = entry.code.slice(task.prompt.length, entry.code.length - suffix.length);
    assert.equal(
      buildProgram(task, completion),
      entry.code,
      `${task.id}: buildProgram does not give back Qwen's program`,
    );
    expected.set(task.id, entry.passed);
    samples.push({ taskId: task.id, completion, index: 0, source: task.id, record: { task_id: task.id, completion } });
  }
  assert.equal(samples.length, Object.keys(details).length);
  const executor = await createExecutor({});
  try {
    const evaluation = await evaluateSamples(dataset.tasks, samples, { executor });
    const disagreements = evaluation.samples
      .filter((result) => (result.verdict === 'passed') !== expected.get(result.taskId))
      .map(
        (result) =>
          `${result.taskId}: expected ${expected.get(result.taskId) ? 'passed' : 'failed'}, got ${result.verdict} (${result.reason})`,
      );
    assert.deepEqual(disagreements, []);
    assert.deepEqual(evaluation.excludedTasks, []);
    assert.equal(
      evaluation.counts.reduce((sum, counts) => sum + counts.c, 0),
      expectedPasses,
    );
    assert.deepEqual(passAtK(evaluation.counts, [1]), { 'pass@1': expectedPasses / samples.length });
  } finally {
    await executor.close();
  }
}

test(
  'MultiPL-E HumanEval-JS: Qwen2.5-Coder-1.5B outputs reproduce the published per-task verdicts (77/161)',
  { skip, timeout: 300_000 },
  async () => {
    await checkAgreement('js', 77);
  },
);

// 159 type-checks: seconds with the warm checker threads (src/sandbox/type-check.ts), minutes with a cold tsc each.
test(
  'MultiPL-E HumanEval-TS: Qwen2.5-Coder-1.5B outputs reproduce the published per-task verdicts (76/159)',
  { skip, timeout: 600_000 },
  async () => {
    await checkAgreement('ts', 76);
  },
);
