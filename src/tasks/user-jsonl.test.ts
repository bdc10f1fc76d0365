import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildProgram } from './task.js';
import { loadUserJsonl } from './user-jsonl.js';

function taskFile(t: { after: (fn: () => void) => void }, lines: string[]): string {
  const directory = mkdtempSync(join(tmpdir(), 'codeloop-user-jsonl-'));
  t.after(() => rmSync(directory, { recursive: true, force: true }));
  const path = join(directory, 'tasks.jsonl');
  writeFileSync(path, lines.join('\n'));
  return path;
}

test('a user task file with defaults: Python, completion harness, prompt + completion + "\\n" + tests', async (t) => {
  const path = taskFile(t, [
    '{"task_id": "add/0", "prompt": "def add(a, b):\\n", "canonical_solution": "    return a + b\\n", "tests": "assert add(1, 2) == 3"}',
    '',
    '{"task_id": "add/1", "language": "typescript", "prompt": "function add(a: number, b: number): number {\\n", "tests": "if (add(1, 2) !== 3) throw new Error();", "type_check": true, "stop_sequences": ["\\nfunction "], "limits": {"wall_ms": 2000}}',
    '{"task_id": "add/2", "entry_point": "add", "layout": "human-eval", "tests": "def check(f):\\n    assert f(1, 2) == 3", "suffix": "\\n"}',
  ]);
  const loaded = await loadUserJsonl(path);
  assert.equal(loaded.name, path);
  assert.equal(loaded.files[0]?.path, path);
  assert.match(loaded.files[0]?.sha256 ?? '', /^[0-9a-f]{64}$/);
  const [python, typescript, humanEval] = loaded.tasks;
  assert.ok(python && typescript && humanEval);
  assert.deepEqual(python, {
    id: 'add/0',
    dataset: path,
    language: 'python',
    prompt: 'def add(a, b):\n',
    tests: 'assert add(1, 2) == 3',
    canonicalSolution: '    return a + b\n',
    stopSequences: [],
    harness: 'completion',
    layout: 'prompt-completion-tests',
  });
  assert.equal(
    buildProgram(python, python.canonicalSolution ?? ''),
    'def add(a, b):\n    return a + b\n\nassert add(1, 2) == 3',
  );
  assert.equal(typescript.harness, 'exit-code');
  assert.equal(typescript.typeCheck, true);
  assert.deepEqual(typescript.limits, { wallMs: 2000 });
  assert.deepEqual(typescript.stopSequences, ['\nfunction ']);
  assert.equal(
    buildProgram(humanEval, 'def add(a, b): return a + b'),
    'def add(a, b): return a + b\n\ndef check(f):\n    assert f(1, 2) == 3\ncheck(add)',
  );
});

test('a human-eval problem record ({task_id, prompt, canonical_solution, test, entry_point}) loads as a human-eval task', async (t) => {
  const path = taskFile(t, [
    '{"task_id": "test/0", "prompt": "def return1():\\n", "canonical_solution": "    return 1", "test": "def check(candidate):\\n    assert candidate() == 1", "entry_point": "return1"}',
  ]);
  const [task] = (await loadUserJsonl(path)).tasks;
  assert.ok(task);
  assert.equal(task.layout, 'human-eval');
  assert.equal(task.harness, 'human-eval', 'a human-eval record runs as human-eval runs it');
  assert.equal(task.tests, 'def check(candidate):\n    assert candidate() == 1');
  // openai/human-eval execution.py: prompt + completion + "\n" + test + "\n" + f"check({entry_point})".
  assert.equal(
    buildProgram(task, task.canonicalSolution ?? ''),
    'def return1():\n    return 1\ndef check(candidate):\n    assert candidate() == 1\ncheck(return1)',
  );
});

test('a malformed line is a UsageError naming the file and the line', async (t) => {
  const path = taskFile(t, ['{"task_id": "a", "tests": "assert True"}', '', '{"task_id": "b", "tests": "assert True"']);
  await assert.rejects(loadUserJsonl(path), {
    name: 'UsageError',
    // The parser's own words in the parentheses vary with the V8 version; the rest is codeloop's.
    message: new RegExp(`^${path.replaceAll('.', '\\.')}:3: not valid JSON \\(.+\\)\\.$`),
  });
});

test('field errors name file, line and field', async (t) => {
  const cases: [string, string][] = [
    ['{"task_id": "a"}', ':1: field "tests" must be a string, got nothing.'],
    [
      '{"task_id": "a", "tset": "x"}',
      ':1: unknown field "tset"; the fields are task_id, tests, test, language, prompt, entry_point, canonical_solution, suffix, stop_sequences, layout, harness, type_check, limits (see the user task schema in src/tasks/user-jsonl.ts).',
    ],
    [
      '{"task_id": "a", "test": "x", "tests": "y"}',
      ':1: both "tests" and "test" are given; "test" is human-eval\'s name for "tests", so keep one of them.',
    ],
    [
      '{"task_id": "a", "test": "def check(candidate):\\n    pass"}',
      ':1: layout "human-eval" ends the program with check(entry_point), so "entry_point" is required.',
    ],
    [
      '{"task_id": "a", "tests": "x", "language": "rust"}',
      ':1: field "language" is "rust"; use one of "python", "javascript", "typescript".',
    ],
    [
      '{"task_id": "a", "tests": "x", "layout": "human-eval"}',
      ':1: layout "human-eval" ends the program with check(entry_point), so "entry_point" is required.',
    ],
    [
      '{"task_id": "a", "tests": "x", "language": "javascript", "harness": "completion"}',
      ':1: harness "completion" is for Python only; use "exit-code" for javascript.',
    ],
    [
      '{"task_id": "a", "tests": "x", "type_check": true}',
      ':1: "type_check" applies to TypeScript only, and this task is python.',
    ],
    [
      '{"task_id": "a", "tests": "x", "limits": {"wall_ms": -1}}',
      ':1: "limits.wall_ms" must be a positive number, got -1.',
    ],
    ['{"task_id": 7, "tests": "x"}', ':1: field "task_id" must be a string, got number 7.'],
    ['[1, 2]', ':1: expected a JSON object per line, got an array.'],
  ];
  for (const [line, message] of cases) {
    const path = taskFile(t, [line]);
    await assert.rejects(loadUserJsonl(path), { name: 'UsageError', message: path + message }, line);
  }
});

test('duplicate ids, empty files and missing files are named', async (t) => {
  const duplicate = taskFile(t, ['{"task_id": "a", "tests": "x"}', '{"task_id": "a", "tests": "y"}']);
  await assert.rejects(loadUserJsonl(duplicate), {
    message: `${duplicate}:2: task_id "a" is already used on line 1; ids must be unique.`,
  });
  const empty = taskFile(t, ['', '  ']);
  await assert.rejects(loadUserJsonl(empty), {
    message: `Task file ${empty} has no tasks: write one JSON object per line.`,
  });
  await assert.rejects(loadUserJsonl('/nonexistent/tasks.jsonl'), {
    message: 'Task file /nonexistent/tasks.jsonl could not be read (ENOENT): check the path.',
  });
});
