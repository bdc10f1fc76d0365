import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadMultiplE, type MultiplEDatasetName } from './multipl-e.js';
import { rawRecord, sharedDatasets, text } from '../../test/tasks/shared-datasets.js';
import { buildProgram } from './task.js';

const shared = sharedDatasets();

const EXPECTED: [MultiplEDatasetName, string, number, number][] = [
  ['multipl-e-humaneval-ts', 'humaneval-ts-reworded.jsonl', 159, 0],
  ['multipl-e-humaneval-js', 'humaneval-js-reworded.jsonl', 161, 1],
  ['multipl-e-mbpp-ts', 'mbpp-ts-reworded.jsonl', 390, 9],
  ['multipl-e-mbpp-js', 'mbpp-js-reworded.jsonl', 397, 3],
];

test('MultiPL-E counts, and known_unsolvable entries exist in their files', { skip: shared.skip }, async () => {
  for (const [name, , count, broken] of EXPECTED) {
    const loaded = await loadMultiplE(name);
    assert.equal(loaded.tasks.length, count, name);
    assert.equal(Object.keys(loaded.knownBroken).length, broken, name);
    const ids = new Set(loaded.tasks.map((task) => task.id));
    for (const id of Object.keys(loaded.knownBroken)) assert.ok(ids.has(id), `${name}: ${id}`);
    assert.equal(loaded.files.length, 2);
  }
});

test(
  'MultiPL-E TS: stop tokens from the file, type-checked, judged by exit code, 15 s',
  { skip: shared.skip },
  async () => {
    const { tasks } = await loadMultiplE('multipl-e-humaneval-ts');
    for (const task of tasks) assert.deepEqual(task.stopSequences, ['\nfunction ', '\n/*', '\n//', '\nclass'], task.id);
    const task = tasks[0];
    assert.ok(task);
    assert.equal(task.id, 'HumanEval_0_has_close_elements');
    assert.equal(task.entryPoint, 'has_close_elements');
    assert.equal(task.language, 'typescript');
    assert.equal(task.typeCheck, true);
    assert.equal(task.harness, 'exit-code');
    assert.deepEqual(task.limits, { wallMs: 15_000 });
  },
);

test('MultiPL-E JS: its own stop tokens, no type check, 5 s', { skip: shared.skip }, async () => {
  const { tasks } = await loadMultiplE('multipl-e-mbpp-js');
  const task = tasks[0];
  assert.ok(task);
  assert.deepEqual(task.stopSequences, ['\nfunction ', '\n/*', '\n//', '\nconsole.log']);
  assert.equal(task.language, 'javascript');
  assert.equal(task.typeCheck, undefined);
  assert.deepEqual(task.limits, { wallMs: 5_000 });
  assert.ok(tasks.every((candidate) => candidate.entryPoint !== undefined));
  assert.deepEqual(Object.keys((await loadMultiplE('multipl-e-mbpp-js')).knownBroken).sort(), [
    'mbpp_237_check_occurences',
    'mbpp_563_extract_values',
    'mbpp_725_extract_quotation',
  ]);
});

test(
  'MultiPL-E program = prompt + completion + "\\n" + tests (main.py cached_eval_script), byte for byte',
  { skip: shared.skip },
  async () => {
    for (const [name, file] of EXPECTED) {
      const { tasks } = await loadMultiplE(name);
      const task = tasks[5];
      assert.ok(task);
      const record = rawRecord(shared.dataDir, `multipl-e/${file}`, (candidate) => candidate['name'] === task.id);
      const completion = '  return undefined;\n}';
      assert.equal(
        buildProgram(task, completion),
        text(record, 'prompt') + completion + '\n' + text(record, 'tests'),
        name,
      );
    }
    const { tasks } = await loadMultiplE('multipl-e-humaneval-ts');
    const strlen = tasks.find((task) => task.id === 'HumanEval_23_strlen');
    assert.ok(strlen);
    assert.equal(
      buildProgram(strlen, '  return string.length;\n}'),
      '//Return length of given string\n// >>> strlen("")\n// 0\n// >>> strlen("abc")\n// 3\nfunction strlen(string: string): number {\n  return string.length;\n}\n' +
        'declare var require: any;\nconst assert = require(\'node:assert\');\n\n\nfunction test() {\n  let candidate = strlen;\n  assert.deepEqual(candidate(""),0);\n  assert.deepEqual(candidate("x"),1);\n  assert.deepEqual(candidate("asdasnakj"),9);\n}\n\ntest();',
    );
  },
);
