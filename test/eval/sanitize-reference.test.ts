import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { evaluateSamples, sanitizeSamples, type Sample } from '../../src/eval/index.js';
import { createExecutor } from '../../src/sandbox/index.js';
import { loadDataset } from '../../src/tasks/index.js';
import { noSandbox, sharedDatasets } from './helpers.js';

// Known answer for the sanitizer on real model output: Qwen2.5-Coder-1.5B's greedy HumanEval programs as EvalPlus
// wrote them (already sanitized by EvalPlus; reference-outputs/SOURCE.md) with EvalPlus's base verdicts. Sanitizing
// them again must change no verdict: 72/164 pass either way.
const { dataDir, skip: noData } = sharedDatasets();
const skip = noData || noSandbox;

test(
  "sanitize: Qwen2.5-Coder-1.5B EvalPlus HumanEval outputs keep EvalPlus's 164 base verdicts (72 pass)",
  { skip, timeout: 300_000 },
  async () => {
    const folder = join(dataDir, 'reference-outputs', 'qwen2.5-coder-1.5b-base', 'evalplus', 'humaneval');
    const verdicts = (
      JSON.parse(readFileSync(join(folder, 'generated_eval_results.json'), 'utf8')) as {
        eval: Record<string, [{ base_status: string }]>;
      }
    ).eval;
    // EvalPlus's generated.jsonl holds whole programs under "completion"; they are solutions.
    const samples: Sample[] = readFileSync(join(folder, 'generated.jsonl'), 'utf8')
      .trimEnd()
      .split('\n')
      .map((line, index) => {
        const record = JSON.parse(line) as { task_id: string; completion: string };
        return {
          taskId: record.task_id,
          solution: record.completion,
          index: 0,
          source: `generated.jsonl:${index + 1}`,
          record,
        };
      });
    const dataset = await loadDataset('humaneval', { dataDir });
    const sanitized = sanitizeSamples(dataset.tasks, samples);
    // HumanEval/64 loses an unused `FIX = """..."""`; HumanEval/95 ends in an unindented line that breaks the function.
    assert.deepEqual(
      sanitized.filter((sample, position) => sample !== samples[position]).map((sample) => sample.taskId),
      ['HumanEval/64', 'HumanEval/95'],
    );
    const executor = await createExecutor({ concurrency: 2 });
    try {
      const evaluation = await evaluateSamples(dataset.tasks, sanitized, { executor });
      const disagreements = evaluation.samples
        .filter((result) => (result.verdict === 'passed') !== (verdicts[result.taskId]?.[0]?.base_status === 'pass'))
        .map(
          (result) =>
            `${result.taskId}: EvalPlus ${verdicts[result.taskId]?.[0]?.base_status}, codeloop ${result.verdict} (${result.reason})`,
        );
      assert.deepEqual(disagreements, []);
      assert.equal(
        evaluation.counts.reduce((sum, counts) => sum + counts.c, 0),
        72,
      );
    } finally {
      await executor.close();
    }
  },
);
