import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadMbppPlus, loadMbppPlusOriginFmt } from './mbpp-plus.js';
import { rawRecord, sharedDatasets, text } from '../../test/tasks/shared-datasets.js';
import { buildProgram } from './task.js';

const shared = sharedDatasets();

test('MBPP+: 378 tasks, EvalPlus docstring prompt + completion + assertion', { skip: shared.skip }, async () => {
  const loaded = await loadMbppPlus();
  assert.equal(loaded.tasks.length, 378);
  assert.equal(loaded.tasks[0]?.id, 'Mbpp/2');
  assert.equal(loaded.tasks.at(-1)?.id, 'Mbpp/809');
  assert.deepEqual(loaded.knownBroken, {});
  const task = loaded.tasks[0];
  assert.ok(task?.plus);
  assert.equal(task.entryPoint, 'similar_elements');
  assert.equal(task.layout, 'prompt-completion-tests');
  assert.deepEqual(task.stopSequences, ['\nif __name__', '\ndef main(', '\nprint(', '\n"""', '\nassert']);
  const record = rawRecord(
    shared.dataDir,
    'mbppplus/MbppPlus.jsonl.gz',
    (candidate) => candidate['task_id'] === 'Mbpp/2',
  );
  const completion = text(record, 'canonical_solution');
  // EvalPlus evaluate.py: solution = problems[task_id]["prompt"] + sample["completion"]; then the base asserts.
  assert.equal(buildProgram(task, completion), text(record, 'prompt') + completion + '\n' + text(record, 'assertion'));
  assert.ok(
    task.prompt.startsWith('"""\nWrite a function to find the shared elements from the given two lists.\nassert set('),
  );
});

test(
  'MBPP+ keeps Python JSON Infinity in the inputs (Mbpp/404), which JSON.parse rejects',
  { skip: shared.skip },
  async () => {
    const { tasks } = await loadMbppPlus();
    const task = tasks.find((candidate) => candidate.id === 'Mbpp/404');
    assert.ok(task?.plus);
    assert.ok(task.plus.plusInputJson.includes('[-Infinity, Infinity]'));
    assert.throws(() => JSON.parse(task.plus?.plusInputJson ?? ''), SyntaxError);
    assert.deepEqual(JSON.parse(task.plus.baseInputJson), [
      [1, 2],
      [-5, -4],
      [0, 0],
    ]);
  },
);

test(
  'MBPP+ original format: 378 tasks, program = code + "\\n" + "\\n" + test as bigcode mbppplus',
  { skip: shared.skip },
  async () => {
    const loaded = await loadMbppPlusOriginFmt();
    assert.equal(loaded.tasks.length, 378);
    const task = loaded.tasks.find((candidate) => candidate.id === 'Mbpp/2');
    assert.ok(task);
    assert.deepEqual(task.limits, { wallMs: 10_000 });
    assert.equal(task.prompt, 'Write a function to find the shared elements from the given two lists.');
    const record = rawRecord(
      shared.dataDir,
      'mbppplus/MbppPlus-OriginFmt.jsonl.gz',
      (candidate) => candidate['task_id'] === 2,
    );
    const completion = text(record, 'code');
    // bigcode code_eval.py: candidate + "\n" + test_case, where mbppplus.py get_reference returns "\n" + doc["test"].
    assert.equal(buildProgram(task, completion), completion + '\n' + ('\n' + text(record, 'test')));
  },
);
