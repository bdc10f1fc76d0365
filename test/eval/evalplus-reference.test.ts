// Known-answer test for EvalPlus scoring: Qwen2.5-Coder-1.5B's greedy HumanEval+ and MBPP+ solutions, as scored by
// EvalPlus itself (reference-outputs/qwen2.5-coder-1.5b-base/evalplus/*/generated_eval_results.json), must get the
// same base and plus verdicts from codeloop, task by task.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { evaluateSamples, parseSamples } from '../../src/eval/index.js';
import { createExecutor } from '../../src/sandbox/index.js';
import { loadDataset } from '../../src/tasks/index.js';
import { noSandbox, sharedDatasets } from './helpers.js';

const { dataDir, skip: noData } = sharedDatasets();
const skip = noData || noSandbox;

interface ReferenceResult {
  base_status: string;
  plus_status: string;
}

/**
 * Tasks where EvalPlus's own verdict changed after Qwen's run (2024-09-24, EvalPlus ≤ v0.2.2 and MBPP+ v0.1.0): the
 * set-comparison oracle for MBPP tasks that return a collection in any order (evalplus commit 8649c02, "fix(mbpp):
 * oracle for set operations", first released in v0.3.0 on 2024-10-20) makes these solutions pass today. codeloop
 * follows current EvalPlus; each entry is [base, plus] as codeloop and current EvalPlus score it.
 */
const CHANGED_SINCE_REFERENCE: Record<string, [boolean, boolean]> = {
  'Mbpp/2': [true, true], // similar_elements returns set(list1) & set(list2); expected a tuple with the same items
  'Mbpp/232': [true, false], // larg_nnum returns the n largest in ascending order; plus fails on another input
  'Mbpp/579': [true, true], // find_dissimilar returns tuple(set ^ set): same items, set order
};

/**
 * Verdicts that depend on the machine's speed, as they do in EvalPlus: either verdict is accepted for these tasks.
 * - Mbpp/599: plus inputs go up to 10^8; the canonical `sum(range(...))` needs ~15-30 s for all of them, Qwen's loop
 *   ~2.4 times as long, and EvalPlus caps a phase at 60 s (+2). Qwen's machine passed it; a loaded 2-core machine does not.
 * - Mbpp/123: Qwen's amicable-numbers loop needs 4.1 s on base input 9999 on this machine when idle, against a limit of
 *   max(4 s, 4 × 0.09 s) = 4 s. Qwen's machine failed it; here it passes or fails with the load.
 */
const SPEED_DEPENDENT = new Set(['Mbpp/599', 'Mbpp/123']);

async function checkAgreement(
  dataset: 'humaneval+' | 'mbpp+',
  folder: string,
  expected: { tasks: number; base?: number; plus?: number },
): Promise<void> {
  const loaded = await loadDataset(dataset, { dataDir });
  const ids = new Set(loaded.tasks.map((task) => task.id));
  const reference = join(dataDir, 'reference-outputs', 'qwen2.5-coder-1.5b-base', 'evalplus', folder);
  // MBPP+ v0.1.0 (Qwen's) had 399 tasks; v0.2.0 (ours) dropped 21 broken ones: score the 378 both have.
  const lines = readFileSync(join(reference, 'generated.jsonl'), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '' && ids.has((JSON.parse(line) as { task_id: string }).task_id));
  const samples = parseSamples(lines.join('\n'), 'generated.jsonl', ids);
  assert.equal(samples.length, expected.tasks);
  const published = (
    JSON.parse(readFileSync(join(reference, 'generated_eval_results.json'), 'utf8')) as {
      eval: Record<string, ReferenceResult[]>;
    }
  ).eval;
  const executor = await createExecutor({ concurrency: 2 });
  try {
    const evaluation = await evaluateSamples(loaded.tasks, samples, { executor });
    assert.deepEqual(evaluation.excludedTasks, []);
    const disagreements: string[] = [];
    // Expected passes: the published verdicts (with the explained changes), speed-dependent tasks as we scored them.
    let base = 0;
    let plus = 0;
    for (const result of evaluation.samples) {
      const entry = published[result.taskId]?.[0];
      assert.ok(entry, `no published verdict for ${result.taskId}`);
      if (SPEED_DEPENDENT.has(result.taskId)) {
        base += result.verdict === 'passed' ? 1 : 0;
        plus += result.plus?.verdict === 'passed' ? 1 : 0;
        continue;
      }
      const changed = CHANGED_SINCE_REFERENCE[result.taskId];
      const expectedBase = changed ? changed[0] : entry.base_status === 'pass';
      const expectedPlus = changed ? changed[1] : entry.base_status === 'pass' && entry.plus_status === 'pass';
      base += expectedBase ? 1 : 0;
      plus += expectedPlus ? 1 : 0;
      if ((result.verdict === 'passed') !== expectedBase)
        disagreements.push(`${result.taskId} base: expected ${expectedBase}, got ${result.verdict} (${result.reason})`);
      if ((result.plus?.verdict === 'passed') !== expectedPlus)
        disagreements.push(
          `${result.taskId} plus: expected ${expectedPlus}, got ${result.plus?.verdict} (${result.plus?.reason})`,
        );
    }
    assert.deepEqual(disagreements, []);
    assert.equal(
      evaluation.counts.reduce((sum, counts) => sum + counts.c, 0),
      base,
    );
    assert.ok(evaluation.countsPlus, 'plus counts must be reported for an EvalPlus dataset');
    assert.equal(
      evaluation.countsPlus.reduce((sum, counts) => sum + counts.c, 0),
      plus,
    );
    if (expected.base !== undefined) assert.equal(base, expected.base);
    if (expected.plus !== undefined) assert.equal(plus, expected.plus);
  } finally {
    await executor.close();
  }
}

test(
  "HumanEval+: Qwen2.5-Coder-1.5B solutions get EvalPlus's published base and plus verdicts on all 164 tasks (72 and 60 pass: 43.9 / 36.6)",
  { skip, timeout: 600_000 },
  async () => {
    await checkAgreement('humaneval+', 'humaneval', { tasks: 164, base: 72, plus: 60 });
  },
);

test(
  "MBPP+: Qwen2.5-Coder-1.5B solutions get EvalPlus's published verdicts on the 378 tasks of v0.2.0 (3 explained oracle changes, 2 speed-dependent)",
  { skip, timeout: 900_000 },
  async () => {
    await checkAgreement('mbpp+', 'mbpp', { tasks: 378 });
  },
);
