import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadHumanEval } from './humaneval.js';
import { loadHumanEvalPlus, loadHumanEvalPlusOriginFmt } from './humaneval-plus.js';
import { rawRecord, sharedDatasets, text } from '../../test/tasks/shared-datasets.js';
import { buildProgram } from './task.js';

const shared = sharedDatasets();

test('HumanEval+: 164 tasks with EvalPlus inputs kept under plus', { skip: shared.skip }, async () => {
  const loaded = await loadHumanEvalPlus();
  assert.equal(loaded.tasks.length, 164);
  const first = loaded.tasks[0];
  assert.ok(first?.plus);
  assert.equal(first.id, 'HumanEval/0');
  assert.equal(first.plus.atol, 0);
  assert.equal((JSON.parse(first.plus.baseInputJson) as unknown[]).length, 7);
  assert.equal((JSON.parse(first.plus.plusInputJson) as unknown[]).length, 999);
  assert.match(
    first.plus.contract,
    /assert isinstance\(threshold, float\) and threshold > 0, "invalid inputs" # \$_CONTRACT_\$/,
  );
  assert.equal(first.limits, undefined, 'EvalPlus derives limits from the ground truth; none is set here');
  assert.deepEqual(first.stopSequences, [
    '\nif __name__',
    '\ndef main(',
    '\nprint(',
    '\ndef ',
    '\nclass ',
    '\nimport ',
    '\nfrom ',
    '\nassert ',
  ]);
});

test('HumanEval+ inputs keep integers beyond 2^53 exactly as stored', { skip: shared.skip }, async () => {
  const { tasks } = await loadHumanEvalPlus();
  const task = tasks.find((candidate) => candidate.id === 'HumanEval/137');
  assert.ok(task?.plus);
  assert.ok(task.plus.plusInputJson.includes(`1${'0'.repeat(98)}`), 'a 99-digit integer survives');
  const firstIs = tasks.find((candidate) => candidate.id === 'HumanEval/88');
  assert.ok(firstIs?.plus?.plusInputJson.includes('9223372036854775807'));
});

test(
  'HumanEval+ tests are the HumanEval check functions; the program is human-eval check_program',
  { skip: shared.skip },
  async () => {
    const [plus, original] = [await loadHumanEvalPlus(), await loadHumanEval()];
    for (const [index, task] of plus.tasks.entries()) assert.equal(task.tests, original.tasks[index]?.tests, task.id);
    const task = plus.tasks.find((candidate) => candidate.id === 'HumanEval/115');
    assert.ok(task);
    const record = rawRecord(
      shared.dataDir,
      'humanevalplus/HumanEvalPlus.jsonl.gz',
      (candidate) => candidate['task_id'] === 'HumanEval/115',
    );
    const completion = text(record, 'canonical_solution');
    assert.equal(
      buildProgram(task, completion),
      text(record, 'prompt') + completion + '\n' + text(record, 'test') + '\n' + 'check(max_fill)',
    );
    // HumanEval+ moved this task's `import math` from inside the function to the top of the prompt.
    assert.ok(task.prompt.startsWith('import math\n\ndef max_fill(grid, capacity):'));
  },
);

test(
  'HumanEval+ original format: 164 tasks, 20 s, HumanEval/32 reported as broken',
  { skip: shared.skip },
  async () => {
    const loaded = await loadHumanEvalPlusOriginFmt();
    assert.equal(loaded.tasks.length, 164);
    assert.deepEqual(Object.keys(loaded.knownBroken), ['HumanEval/32']);
    assert.match(loaded.knownBroken['HumanEval/32'] ?? '', /_poly\(\*candidate\(\*inp\), inp\)/);
    const task = loaded.tasks.find((candidate) => candidate.id === 'HumanEval/1');
    assert.ok(task);
    assert.deepEqual(task.limits, { wallMs: 20_000 });
    assert.equal(task.plus, undefined);
    const record = rawRecord(
      shared.dataDir,
      'humanevalplus/HumanEvalPlus-OriginFmt.jsonl.gz',
      (candidate) => candidate['task_id'] === 'HumanEval/1',
    );
    const completion = text(record, 'canonical_solution');
    assert.equal(
      buildProgram(task, completion),
      text(record, 'prompt') + completion + '\n' + text(record, 'test') + '\n' + 'check(separate_paren_groups)',
    );
    assert.match(task.tests, /^\n\nimport numpy as np\n/);
  },
);
