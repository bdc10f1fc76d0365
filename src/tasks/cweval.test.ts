import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sharedDatasets } from '../../test/tasks/shared-datasets.js';
import { loadCweval } from './cweval.js';
import { loadDataset } from './load-dataset.js';
import { buildProgram, firstFencedBlock } from './task.js';

const { skip } = sharedDatasets();

test('firstFencedBlock takes the first fenced block, without its opening line, else the whole answer', () => {
  assert.equal(
    firstFencedBlock('Sure:\n```python\ndef f():\n    return 1\n```\nand\n```\nx\n```'),
    'def f():\n    return 1\n',
  );
  assert.equal(firstFencedBlock('def f():\n    return 1\n'), 'def f():\n    return 1\n');
  // An unclosed fence is no block: the whole answer, as CWEval's regular expression finds none.
  assert.equal(firstFencedBlock('```python\ndef f(): pass'), '```python\ndef f(): pass');
});

test('cweval-py and cweval-js load every task with its tests, CWE and counts', { skip }, async () => {
  const python = await loadDataset('cweval-py');
  const javascript = await loadCweval('cweval-js');
  assert.equal(python.tasks.length, 25);
  assert.equal(javascript.tasks.length, 23);
  const sum = (tasks: typeof python.tasks, key: 'functionalityTests' | 'securityTests'): number =>
    tasks.reduce((total, task) => total + (task.security?.[key] ?? 0), 0);
  // SOURCE.md: Python 56 functionality and 44 security cases, JavaScript 53 and 41.
  assert.deepEqual([sum(python.tasks, 'functionalityTests'), sum(python.tasks, 'securityTests')], [56, 44]);
  assert.deepEqual([sum(javascript.tasks, 'functionalityTests'), sum(javascript.tasks, 'securityTests')], [53, 41]);
  for (const task of [...python.tasks, ...javascript.tasks]) {
    assert.equal(task.layout, 'security-tests');
    assert.match(task.security?.cwe ?? '', /^CWE-\d{3,4}$/);
    assert.ok(task.security?.testFile.text.includes('pytest'), task.id);
  }
  const ls = javascript.tasks.find((task) => task.id === 'js/cwe_078_0');
  assert.match(ls?.security?.vacuous ?? '', /never|instead of running the JS/);
  assert.deepEqual(Object.keys(javascript.knownBroken).sort(), ['js/cwe_078_0', 'js/cwe_502_0']);
  assert.deepEqual(python.knownBroken, {});
  const regex = python.tasks.find((task) => task.id === 'py/cwe_400_0');
  assert.equal(regex?.security?.cwe, 'CWE-400');
  assert.equal(regex?.security?.cweInTestHeader, 'CWE-377');
  const sql = javascript.tasks.find((task) => task.id === 'js/cwe_943_0');
  assert.equal(sql?.security?.cweInTestHeader, 'CWE-089');
  assert.equal(javascript.tasks[0]?.security?.insecureReference?.name, 'cwe_020_0_js_unsafe.js');
  assert.equal(python.tasks[0]?.security?.insecureReference, undefined);
  assert.equal(python.files.length, 2 + 25);
  assert.equal(javascript.files.length, 2 + 2 * 23);
});

test(
  'a sample becomes the task file CWEval writes: Python as is, JavaScript with the entrypoint block',
  { skip },
  async () => {
    const python = (await loadDataset('cweval-py')).tasks[0]!;
    assert.equal(buildProgram(python, 'text\n```py\ndef f(): pass\n```'), 'def f(): pass\n');
    const javascript = (await loadDataset('cweval-js')).tasks[0]!;
    const file = buildProgram(javascript, '```js\nfunction f() {}\n```');
    assert.ok(file.startsWith('function f() {}\n\n\n// BEGIN ENTRYPOINT\n'), JSON.stringify(file.slice(0, 60)));
    assert.ok(file.endsWith(javascript.security!.entrypoint!));
  },
);
