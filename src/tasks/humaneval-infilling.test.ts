import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadHumanEvalInfilling, type HumanEvalInfillingDatasetName } from './humaneval-infilling.js';
import { rawRecord, sharedDatasets, text } from '../../test/tasks/shared-datasets.js';
import { buildProgram } from './task.js';

const shared = sharedDatasets();

const VARIANTS: [HumanEvalInfillingDatasetName, string, number, string][] = [
  ['humaneval-infilling-single', 'HumanEval-SingleLineInfilling.jsonl.gz', 1033, 'SingleLineInfilling/HumanEval/0/L0'],
  ['humaneval-infilling-multi', 'HumanEval-MultiLineInfilling.jsonl.gz', 5815, 'MultiLineInfilling/HumanEval/0/L0_L0'],
  [
    'humaneval-infilling-random-span',
    'HumanEval-RandomSpanInfilling.jsonl.gz',
    1640,
    'RandomSpanInfilling/HumanEval/0/1',
  ],
  [
    'humaneval-infilling-random-span-light',
    'HumanEval-RandomSpanInfillingLight.jsonl.gz',
    164,
    'RandomSpanInfillingLight/HumanEval/0/1',
  ],
];

test(
  'HumanEval infilling: counts and program = prompt + middle + suffix + "\\n" + test + "\\n" + check(...)',
  { skip: shared.skip },
  async () => {
    for (const [name, file, count, firstId] of VARIANTS) {
      const { tasks } = await loadHumanEvalInfilling(name);
      assert.equal(tasks.length, count, name);
      const task = tasks[0];
      assert.ok(task?.suffix !== undefined, name);
      assert.equal(task.id, firstId);
      assert.deepEqual(task.stopSequences, []);
      assert.deepEqual(task.limits, { wallMs: 3000 });
      const record = rawRecord(
        shared.dataDir,
        `humaneval-infilling/${file}`,
        (candidate) => candidate['task_id'] === firstId,
      );
      const middle = text(record, 'canonical_solution');
      // openai/human-eval-infilling execution.py check_program.
      const reference =
        text(record, 'prompt') +
        middle +
        text(record, 'suffix') +
        '\n' +
        text(record, 'test') +
        '\n' +
        `check(${text(record, 'entry_point')})`;
      assert.equal(buildProgram(task, middle), reference, name);
    }
  },
);

test('unknown infilling variant names the known ones', async () => {
  await assert.rejects(loadHumanEvalInfilling('humaneval-infilling-x' as never), {
    name: 'UsageError',
    message:
      'Unknown HumanEval infilling variant "humaneval-infilling-x": use one of humaneval-infilling-single, humaneval-infilling-multi, humaneval-infilling-random-span, humaneval-infilling-random-span-light.',
  });
});
