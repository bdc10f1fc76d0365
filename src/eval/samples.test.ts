import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Task } from '../tasks/index.js';
import { parseSamples, sampleProgram } from './samples.js';

const TASK: Task = {
  id: 'T/0',
  dataset: 'test',
  language: 'python',
  prompt: 'def f():\n',
  entryPoint: 'f',
  tests: 'def check(candidate):\n    assert candidate() == 1\n',
  stopSequences: [],
  harness: 'completion',
  layout: 'human-eval',
};

test('parseSamples keeps order, counts the index per task and skips blank lines', () => {
  const text = ['{"task_id":"A","completion":"x"}', '', '{"task_id":"B","completion":"y"}', '{"task_id":"A","solution":"z","extra":1}'].join('\n');
  const samples = parseSamples(text, 's.jsonl', new Set(['A', 'B']));
  assert.deepEqual(
    samples.map(({ taskId, index, source, completion, solution }) => ({ taskId, index, source, completion, solution })),
    [
      { taskId: 'A', index: 0, source: 's.jsonl:1', completion: 'x', solution: undefined },
      { taskId: 'B', index: 0, source: 's.jsonl:3', completion: 'y', solution: undefined },
      { taskId: 'A', index: 1, source: 's.jsonl:4', completion: undefined, solution: 'z' },
    ],
  );
  assert.deepEqual(samples[2]?.record, { task_id: 'A', solution: 'z', extra: 1 });
});

test('parseSamples: bad lines and unknown task ids are usage errors naming file:line', () => {
  assert.throws(() => parseSamples('{"task_id":"A","completion":"x"}\n{oops', 'f.jsonl'), { name: 'UsageError', message: /^f\.jsonl:2: not valid JSON/ });
  assert.throws(() => parseSamples('[1]', 'f.jsonl'), { message: /^f\.jsonl:1: expected a JSON object/ });
  assert.throws(() => parseSamples('{"completion":"x"}', 'f.jsonl'), { message: /^f\.jsonl:1: "task_id" is missing/ });
  assert.throws(() => parseSamples('{"task_id":"A"}', 'f.jsonl'), { message: /^f\.jsonl:1: the sample has neither "completion"/ });
  assert.throws(() => parseSamples('{"task_id":"A","completion":3}', 'f.jsonl'), { message: /^f\.jsonl:1: "completion" is not a string/ });
  assert.throws(() => parseSamples('{"task_id":"Z","completion":"x"}', 'f.jsonl', new Set(['A'])), {
    message: /^f\.jsonl:1: task_id "Z" is not a task of this dataset/,
  });
});

test('sampleProgram: a completion follows the layout; an EvalPlus solution replaces prompt + completion', () => {
  assert.equal(sampleProgram(TASK, { completion: '    return 1\n' }), `def f():\n    return 1\n\n${TASK.tests}\ncheck(f)`);
  assert.equal(sampleProgram(TASK, { solution: 'def f():\n    return 1\n' }), `def f():\n    return 1\n\n${TASK.tests}\ncheck(f)`);
  // A suffix (infilling) belongs to prompt + completion, so a whole solution drops it too.
  assert.equal(sampleProgram({ ...TASK, suffix: '# end\n' }, { solution: 'def f():\n    return 1\n' }), `def f():\n    return 1\n\n${TASK.tests}\ncheck(f)`);
  assert.equal(sampleProgram({ ...TASK, layout: 'prompt-completion-tests' }, { solution: 'S' }), `S\n${TASK.tests}`);
});
