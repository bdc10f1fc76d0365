import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadExamples } from './examples.js';
import { loadDataset } from './load-dataset.js';
import { buildProgram } from './task.js';

test('examples: 12 tasks, four per language, with distinct ids, no files and nothing known broken', async () => {
  const dataset = await loadDataset('examples', { env: {} });
  assert.equal(dataset.name, 'examples');
  assert.deepEqual(dataset.files, []);
  assert.deepEqual(dataset.knownBroken, {});
  const ids = dataset.tasks.map((task) => task.id);
  assert.equal(new Set(ids).size, 12);
  for (const [prefix, language] of [
    ['examples/py/', 'python'],
    ['examples/js/', 'javascript'],
    ['examples/ts/', 'typescript'],
  ] as const) {
    const tasks = dataset.tasks.filter((task) => task.id.startsWith(prefix));
    assert.equal(tasks.length, 4, prefix);
    assert.ok(tasks.every((task) => task.language === language && task.dataset === 'examples'));
  }
  assert.ok(ids.includes('examples/py/fizzbuzz'));
});

test('examples: each task is laid out like its benchmark (HumanEval for Python, MultiPL-E for JS/TS)', async () => {
  for (const task of (await loadExamples()).tasks) {
    const entryPoint = task.entryPoint ?? '';
    if (task.language === 'python') {
      assert.equal(task.layout, 'human-eval', task.id);
      assert.equal(task.harness, 'completion', task.id);
      assert.match(task.prompt, new RegExp(`^def ${entryPoint}\\(`, 'm'), task.id);
      assert.match(task.tests, /^def check\(candidate\):\n/, task.id);
      assert.equal(task.limits?.wallMs, 3_000, task.id);
    } else {
      assert.equal(task.layout, 'prompt-completion-tests', task.id);
      assert.equal(task.harness, 'exit-code', task.id);
      assert.match(task.prompt, new RegExp(`\nfunction ${entryPoint}\\(.*\\{\n$`), task.id);
      assert.match(task.tests, new RegExp(`let candidate = ${entryPoint};\n`), task.id);
      assert.equal(task.typeCheck === true, task.language === 'typescript', task.id);
    }
    assert.ok(task.canonicalSolution !== undefined && task.canonicalSolution.endsWith('\n'), task.id);
  }
});

test('examples: no canonical solution is cut by its own stop sequences, so a model that writes it is not truncated', async () => {
  for (const task of (await loadExamples()).tasks) {
    const solution = task.canonicalSolution ?? '';
    for (const stop of task.stopSequences)
      assert.equal(solution.includes(stop), false, `${task.id}: ${JSON.stringify(stop)}`);
    // ...and the program puts the tests after the solution exactly once.
    const program = buildProgram(task, solution);
    assert.equal(program.split(task.tests).length, 2, task.id);
  }
});

test('examples: every load returns fresh task objects', async () => {
  const first = await loadExamples();
  first.tasks[0]?.stopSequences.push('mutated');
  const second = await loadExamples();
  assert.equal(second.tasks[0]?.stopSequences.includes('mutated'), false);
});
