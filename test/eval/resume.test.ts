import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { passAtK } from '../../src/core/index.js';
import { evaluateSamples, parseSamples, type ExecutionRecord } from '../../src/eval/index.js';
import { createExecutor } from '../../src/sandbox/index.js';
import { loadDataset } from '../../src/tasks/index.js';
import { countingExecutor, noSandbox, sharedDatasets } from './helpers.js';

const { dataDir, skip: noData } = sharedDatasets();
const skip = noData || noSandbox;
const scratch = mkdtempSync(join(tmpdir(), 'codeloop-eval-resume-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

// 10 samples, 7 distinct programs: per task the canonical solution (twice) and `pass`, plus a wrong `return None`.
function samplesText(tasks: { id: string; canonicalSolution?: string }[]): string {
  const lines: string[] = [];
  for (const task of tasks) {
    lines.push(JSON.stringify({ task_id: task.id, completion: task.canonicalSolution }));
    lines.push(JSON.stringify({ task_id: task.id, completion: '    pass\n' }));
    lines.push(JSON.stringify({ task_id: task.id, completion: task.canonicalSolution }));
  }
  lines.push(JSON.stringify({ task_id: tasks[0]?.id, completion: '    return None\n' }));
  return lines.join('\n');
}

test(
  'resume: an aborted run plus a rerun give the metrics of an uninterrupted run, re-running only what was missing',
  { skip, timeout: 180_000 },
  async () => {
    const dataset = await loadDataset('humaneval', { dataDir });
    const chosen = dataset.tasks.filter((task) => ['HumanEval/0', 'HumanEval/2', 'HumanEval/23'].includes(task.id));
    const samples = parseSamples(samplesText(chosen), 'resume.jsonl', new Set(dataset.tasks.map((task) => task.id)));
    const executor = await createExecutor({ concurrency: 2 });
    try {
      const uninterrupted = await evaluateSamples(dataset.tasks, samples, { executor });
      assert.equal(uninterrupted.executions, 7);

      const journalPath = join(scratch, 'executions.jsonl');
      const controller = new AbortController();
      let seen = 0;
      const reason = new Error('stop here');
      await assert.rejects(
        evaluateSamples(dataset.tasks, samples, {
          executor,
          journalPath,
          signal: controller.signal,
          onSampleResult: () => {
            if (++seen === 3) controller.abort(reason);
          },
        }),
        (error) => error === reason,
      );
      const journaled = readFileSync(journalPath, 'utf8')
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as ExecutionRecord);
      assert.ok(journaled.length >= 2 && journaled.length < 7, `journal has ${journaled.length} lines`);
      // A SIGKILL in the middle of a write leaves a cut line: it must be ignored, and appending must start a fresh line.
      appendFileSync(journalPath, '{"taskId":"HumanEval/0","samples":[0],"programSha');

      const counting = countingExecutor(executor);
      const resumed = await evaluateSamples(dataset.tasks, samples, { executor: counting, journalPath });
      assert.equal(counting.requests.length, 7 - journaled.length, 'only programs missing from the journal run again');
      assert.equal(resumed.reusedExecutions, journaled.length);
      const journaledShas = new Set(journaled.map((record) => record.programSha256));
      for (const result of resumed.samples) assert.equal(result.fromJournal, journaledShas.has(result.programSha256));
      assert.deepEqual(resumed.counts, uninterrupted.counts);
      assert.deepEqual(
        resumed.samples.map(({ fromJournal: _fromJournal, ...result }) => result),
        uninterrupted.samples.map(({ fromJournal: _fromJournal, ...result }) => result),
      );
      assert.deepEqual(passAtK(resumed.counts, [1, 2]), passAtK(uninterrupted.counts, [1, 2]));

      // Every line of the journal parses, each program appears once, and a third run executes nothing.
      const final = readFileSync(journalPath, 'utf8')
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as ExecutionRecord);
      assert.equal(final.length, 7);
      assert.equal(new Set(final.map((record) => `${record.taskId} ${record.programSha256}`)).size, 7);
      const again = countingExecutor(executor);
      const third = await evaluateSamples(dataset.tasks, samples, { executor: again, journalPath });
      assert.equal(again.requests.length, 0);
      assert.deepEqual(third.counts, uninterrupted.counts);
    } finally {
      await executor.close();
    }
  },
);
