import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  FUNCTION_ROW,
  STDIO_ROW,
  writeRewardsRun,
  writeSolveRun,
  type RewardsItem,
} from '../../test/export/run-fixtures.js';
import { exportSource } from './export-run.js';
import { readRewardsSource } from './read-rewards-source.js';
import { readSolveSource } from './read-solve-source.js';
import { dpoRows, grpoRows, ktoRows, openrlhfRows, sftRows, verlRows } from './training-rows.js';

const scratch = mkdtempSync(join(tmpdir(), 'codeloop-export-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const ITEMS: RewardsItem[] = [
  { rowId: 'add', completion: 'A', passRate: 1, verdict: 'passed' },
  { rowId: 'add', completion: 'B', passRate: 0.5, verdict: 'failed' },
  { rowId: 'add', completion: 'C', passRate: 0, verdict: 'compile-error' },
  { rowId: 'add', completion: 'I', passRate: null, verdict: 'infra-error', infraError: true },
  { rowId: 'add', completion: 'L', passRate: null, verdict: 'flaky' },
  { rowId: 'echo', completion: 'E1', passRate: 1, verdict: 'passed' },
  { rowId: 'echo', completion: 'E0', passRate: 0, verdict: 'failed' },
];

function rewardsSource() {
  return readRewardsSource(
    writeRewardsRun(join(scratch, `rewards-${Math.random()}`), ITEMS, [FUNCTION_ROW, STDIO_ROW]),
  );
}

const TASK = [{ role: 'user', content: 'Write add(a, b).' }];
const REPAIR = [...TASK, { role: 'assistant', content: 'def add(a, b): return a - b' }, { role: 'user', content: 'F' }];

function solveSource() {
  return readSolveSource(
    writeSolveRun(join(scratch, `solve-${Math.random()}`), [
      // Solve 0: tests generated first (a0), a sample that fails a quarter, a repair that passes.
      { task: 'add', id: 'a0', kind: 'tests', completion: 'assert add(1, 2) == 3' },
      {
        task: 'add',
        id: 'a1',
        kind: 'sample',
        messages: TASK,
        completion: 'def add(a, b): return a - b',
        passRate: 0.25,
      },
      {
        task: 'add',
        id: 'a2',
        kind: 'repair',
        parent: 'a1',
        turn: 1,
        messages: REPAIR,
        completion: 'def add(a, b): return a + b',
        passRate: 1,
        feedback: 'F',
      },
      { task: 'add', id: 'a3', kind: 'select', parent: 'a2' },
      // Solve 1, the same task again (a second run): ids restart, and a1's parent is this solve's a0.
      { task: 'add', id: 'a0', kind: 'sample', messages: TASK, completion: 'def add(a, b): pass', passRate: 0 },
      {
        task: 'add',
        id: 'a1',
        kind: 'repair',
        parent: 'a0',
        turn: 1,
        messages: REPAIR,
        completion: 'def add(a, b):\n    return b + a',
        passRate: 1,
      },
      // Solve 2: the sandbox broke on the sample; its repair passed.
      { task: 'mul', id: 'a0', kind: 'sample', prompt: 'def mul(a, b):\n', completion: 'X', infraError: true },
      {
        task: 'mul',
        id: 'a1',
        kind: 'repair',
        parent: 'a0',
        turn: 1,
        prompt: '# repair\ndef mul(a, b):\n',
        completion: '    return a * b\n',
        passRate: 1,
      },
    ]),
  );
}

test('rewards run: prompts and rows come from the rows file; flaky and infra items carry no pass rate', () => {
  const source = rewardsSource();
  assert.equal(source.kind, 'rewards');
  assert.deepEqual(
    source.completions.map((completion) => [completion.taskId, completion.completion, completion.passRate]),
    [
      ['add', 'A', 1],
      ['add', 'B', 0.5],
      ['add', 'C', 0],
      ['add', 'I', null],
      ['add', 'L', null],
      ['echo', 'E1', 1],
      ['echo', 'E0', 0],
    ],
  );
  assert.deepEqual(
    source.tasks.map((task) => [task.taskId, task.language]),
    [
      ['add', 'python'],
      ['echo', 'javascript'],
    ],
  );
  assert.deepEqual(source.completions[5]?.prompt, STDIO_ROW.prompt);
});

test('trl-grpo and openrlhf: one prompt-only row per task, the row as JSON text', () => {
  const source = rewardsSource();
  const grpo = grpoRows(source);
  assert.deepEqual(grpo[0], {
    prompt: FUNCTION_ROW.prompt,
    task_id: 'add',
    language: 'python',
    row: JSON.stringify(FUNCTION_ROW),
  });
  assert.deepEqual(grpo[1]?.prompt, STDIO_ROW.prompt);
  assert.deepEqual(JSON.parse(grpo[1]?.row as string), STDIO_ROW);
  const openrlhf = openrlhfRows(source);
  assert.deepEqual(
    openrlhf.map((row) => [row.input, JSON.parse(row.label as string).id, row.task_id]),
    [
      [FUNCTION_ROW.prompt, 'add', 'add'],
      [STDIO_ROW.prompt, 'echo', 'echo'],
    ],
  );
});

test('trl-dpo from a rewards run: text prompts give text answers, chat prompts assistant messages', () => {
  const rows = dpoRows(rewardsSource());
  assert.deepEqual(rows, [
    {
      prompt: FUNCTION_ROW.prompt,
      chosen: 'A',
      rejected: 'B',
      margin: 0.5,
      chosen_pass_rate: 1,
      rejected_pass_rate: 0.5,
      pair: 'pass-rate',
      task_id: 'add',
    },
  ]);
  // echo: E0 scored 0, so it did not run far enough to be rejected by AceCoder's rule.
});

test('trl-kto: every judged completion, labelled by "all tests passed"; infra errors and flaky items left out', () => {
  const rows = ktoRows(rewardsSource());
  assert.deepEqual(
    rows.map((row) => [row.completion, row.label]),
    [
      ['A', true],
      ['B', false],
      ['C', false],
      [[{ role: 'assistant', content: 'E1' }], true],
      [[{ role: 'assistant', content: 'E0' }], false],
    ],
  );
});

test('solve run: attempts are scoped per solve; repair pairs, KTO labels and SFT trajectories', () => {
  const source = solveSource();
  assert.equal(source.kind, 'solve');
  assert.deepEqual(
    source.completions.map((completion) => completion.attempt?.key),
    ['0/a1', '0/a2', '1/a0', '1/a1', '2/a0', '2/a1'],
  );
  const pairs = dpoRows(source);
  assert.deepEqual(
    pairs.map((pair) => [pair.pair, pair.chosen, pair.rejected]),
    [
      // Both passing repairs answered the same repair prompt: no pass-rate pair between equals.
      [
        'repair',
        [{ role: 'assistant', content: 'def add(a, b): return a + b' }],
        [{ role: 'assistant', content: 'def add(a, b): return a - b' }],
      ],
      [
        'repair',
        [{ role: 'assistant', content: 'def add(a, b):\n    return b + a' }],
        [{ role: 'assistant', content: 'def add(a, b): pass' }],
      ],
    ],
  );
  assert.deepEqual(pairs[0]?.prompt, REPAIR);
  assert.equal(pairs[1]?.rejected_pass_rate, 0);
  // The infra-error sample is no KTO negative; the generated tests and the select line are no completions.
  assert.deepEqual(
    ktoRows(source).map((row) => [row.task_id, row.label]),
    [
      ['add', false],
      ['add', true],
      ['add', false],
      ['add', true],
      ['mul', true],
    ],
  );
  assert.deepEqual(sftRows(source), [
    { messages: [...REPAIR, { role: 'assistant', content: 'def add(a, b): return a + b' }], task_id: 'add' },
    { messages: [...REPAIR, { role: 'assistant', content: 'def add(a, b):\n    return b + a' }], task_id: 'add' },
    { prompt: '# repair\ndef mul(a, b):\n', completion: '    return a * b\n', task_id: 'mul' },
  ]);
});

test('verl rows: chat prompts, the row as ground truth, the language in extra_info', () => {
  const rows = verlRows(rewardsSource());
  assert.deepEqual(rows[0], {
    data_source: 'codeloop',
    prompt: [{ role: 'user', content: FUNCTION_ROW.prompt }],
    ability: 'code',
    reward_model: { style: 'rule', ground_truth: JSON.stringify(FUNCTION_ROW) },
    extra_info: { index: 0, task_id: 'add', language: 'python' },
  });
  assert.deepEqual(rows[1]?.prompt, STDIO_ROW.prompt);
});

test('a format the source cannot give is a usage error that says why', () => {
  const solve = solveSource();
  for (const format of ['trl-grpo', 'openrlhf', 'verl'] as const)
    assert.throws(
      () => exportSource(solve, format),
      (error: Error) =>
        error.name === 'UsageError' &&
        error.message.includes(`--format ${format} needs each task's row`) &&
        error.message.includes('a solve run records test results but not the tests themselves'),
    );
  assert.throws(
    () => exportSource(rewardsSource(), 'sft'),
    /only a codeloop solve run records; .* is the folder of a codeloop rewards score run/,
  );
  // Pairs need a gap; with every completion passing there is nothing to export.
  const allPass = readRewardsSource(
    writeRewardsRun(
      join(scratch, 'all-pass'),
      [
        { rowId: 'add', completion: 'A', passRate: 1, verdict: 'passed' },
        { rowId: 'add', completion: 'A2', passRate: 1, verdict: 'passed' },
      ],
      [FUNCTION_ROW],
    ),
  );
  assert.throws(
    () => exportSource(allPass, 'trl-dpo'),
    /^UsageError: Nothing to export: no two answers to the same prompt meet the pair rule .*Read 2 completion/,
  );
});

test('rewards run without row ids: items find their row by line order, and a chat prompt kept as JSON text', () => {
  const dir = join(scratch, 'no-ids');
  mkdirSync(dir, { recursive: true });
  const { id: _add, ...addRow } = FUNCTION_ROW;
  const { id: _echo, ...echoRow } = STDIO_ROW;
  writeFileSync(join(dir, 'rows.jsonl'), `${JSON.stringify(addRow)}\n${JSON.stringify(echoRow)}\n`);
  writeFileSync(join(dir, 'completions.jsonl'), '{"completion": "A"}\n{"completion": "E"}\n');
  writeFileSync(
    join(dir, 'run.json'),
    JSON.stringify({ kind: 'rewards', rows: join(dir, 'rows.jsonl'), completions: join(dir, 'completions.jsonl') }),
  );
  const result = (index: number, completion: string, prompt: string) =>
    JSON.stringify({ index, row_id: null, prompt, completion, reward: 1, pass_rate: 1, verdict: 'passed' });
  writeFileSync(
    join(dir, 'results.jsonl'),
    `${result(0, 'A', addRow.prompt)}\n${result(1, 'E', JSON.stringify(echoRow.prompt))}\n`,
  );
  const source = readRewardsSource(dir);
  assert.deepEqual(
    source.completions.map((completion) => [completion.taskId, completion.prompt]),
    [
      ['row 0', addRow.prompt],
      ['row 1', echoRow.prompt],
    ],
  );
  assert.deepEqual(
    source.tasks.map((task) => task.row),
    [addRow, echoRow],
  );
  // Without the rows file, the results' own prompts are used (the chat prompt parsed back), and there are no rows.
  rmSync(join(dir, 'rows.jsonl'));
  const alone = readRewardsSource(dir);
  assert.deepEqual(alone.completions[1]?.prompt, echoRow.prompt);
  assert.deepEqual(alone.tasks, []);
  assert.match(alone.warnings.join('\n'), /the rows file this run scored against \(.*rows\.jsonl\) is not found/);
});
