import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadMbpp, loadMbppSanitized } from './mbpp.js';
import { sharedDatasets } from '../../test/tasks/shared-datasets.js';
import { buildProgram } from './task.js';

const shared = sharedDatasets();

test('MBPP: 974 tasks (task_id 1..974) as Mbpp/N; the test split has 500', { skip: shared.skip }, async () => {
  const loaded = await loadMbpp();
  assert.equal(loaded.tasks.length, 974);
  assert.equal(loaded.tasks[0]?.id, 'Mbpp/1');
  assert.equal(loaded.tasks.at(-1)?.id, 'Mbpp/974');
  const testSplit = await loadMbpp({ split: 'test' });
  assert.equal(testSplit.tasks.length, 500);
  assert.equal(testSplit.tasks[0]?.id, 'Mbpp/11');
  await assert.rejects(loadMbpp({ split: 'dev' as never }), {
    message: 'Unknown MBPP split "dev": use all, prompt, test, validation or train.',
  });
});

test(
  'MBPP program = completion + "\\n" + test_list joined, as bigcode (prompt is prose, not code)',
  { skip: shared.skip },
  async () => {
    const { tasks } = await loadMbpp();
    const task = tasks.find((candidate) => candidate.id === 'Mbpp/2');
    assert.ok(task);
    assert.equal(task.prompt, 'Write a function to find the similar elements from the given two tuple lists.');
    assert.equal(task.layout, 'completion-tests');
    assert.deepEqual(task.limits, { wallMs: 3000 });
    assert.equal(
      buildProgram(task, 'def similar_elements(a, b):\n    return tuple(set(a) & set(b))'),
      'def similar_elements(a, b):\n    return tuple(set(a) & set(b))\n' +
        'assert similar_elements((3, 4, 5, 6),(5, 7, 4, 10)) == (4, 5)\n' +
        'assert similar_elements((1, 2, 3, 4),(5, 4, 3, 7)) == (3, 4)\n' +
        'assert similar_elements((11, 12, 14, 13),(17, 15, 14, 13)) == (13, 14)',
    );
  },
);

test('MBPP test_setup_code goes between the completion and the asserts (task 367)', { skip: shared.skip }, async () => {
  const { tasks } = await loadMbpp();
  const task = tasks.find((candidate) => candidate.id === 'Mbpp/367');
  assert.ok(task?.canonicalSolution);
  const program = buildProgram(task, task.canonicalSolution);
  assert.ok(program.startsWith(`${task.canonicalSolution}\nroot = Node(1) \r\nroot.left = Node(2)`));
  assert.ok(
    program.endsWith(
      'root2.left.left.left = Node(7)\nassert is_tree_balanced(root) == False\nassert is_tree_balanced(root1) == True\nassert is_tree_balanced(root2) == False ',
    ),
  );
});

test(
  'sanitized MBPP: 427 tasks; test_imports come before the asserts, after the completion',
  { skip: shared.skip },
  async () => {
    const loaded = await loadMbppSanitized();
    assert.equal(loaded.tasks.length, 427);
    const task = loaded.tasks.find((candidate) => candidate.id === 'Mbpp/82');
    assert.ok(task);
    assert.equal(task.prompt, 'Write a function to find the volume of a sphere.');
    assert.equal(
      buildProgram(task, 'X'),
      'X\nimport math\nassert math.isclose(volume_sphere(10), 4188.790204786391, rel_tol=0.001)\nassert math.isclose(volume_sphere(25), 65449.84694978735, rel_tol=0.001)\nassert math.isclose(volume_sphere(20), 33510.32163829113, rel_tol=0.001)',
    );
  },
);
