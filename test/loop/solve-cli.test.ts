import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  commandSolveTask,
  solve,
  solveTaskFromDataset,
  type SolveOptions,
  type SolveTask,
} from '../../src/loop/index.js';
import { createMockBackend, type MockRequest } from '../../src/models/index.js';
import { createExecutor, probeIsolation, type Executor } from '../../src/sandbox/index.js';
import { loadExamples } from '../../src/tasks/index.js';

/**
 * `codeloop solve` end to end, with a replay model: the conversation of a library run with a scripted mock is written
 * as a replay file, and the CLI must replay it to the same attempts, verdict and exit code.
 */

const bin = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bin', 'codeloop.js');
const scratch = mkdtempSync(join(tmpdir(), 'codeloop-solve-cli-'));
const skip = probeIsolation().level === null ? 'no OS sandbox on this machine' : false;
// The sandbox sees the system's /usr only: pytest must be installed for /usr/bin/python3 (Debian: python3-pytest).
const pytestSkip =
  spawnSync('/usr/bin/python3', ['-c', 'import pytest'], { encoding: 'utf8' }).status === 0
    ? false
    : 'pytest is not installed for /usr/bin/python3 (apt-get install python3-pytest)';

function codeloop(args: string[], cwd = scratch) {
  return spawnSync(process.execPath, [bin, 'solve', ...args], {
    cwd,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    timeout: 120_000,
  });
}

/** Runs `solve` in-process with `answer` as the model and writes what it was asked as a replay file. */
async function recordReplay(
  task: SolveTask,
  executor: Executor,
  answer: (request: MockRequest) => string,
  path: string,
  options: Partial<SolveOptions> = {},
) {
  const lines: string[] = [];
  const model = createMockBackend({
    respond: (request) => {
      const text = answer(request);
      if (request.kind === 'chat')
        lines.push(
          JSON.stringify({
            task_id: task.id,
            prompt: JSON.stringify(request.messages),
            style: 'chat',
            completion: text,
          }),
        );
      return text;
    },
  });
  const result = await solve(task, { model, executor, ...options });
  writeFileSync(path, `${lines.join('\n')}\n`);
  return result;
}

const lastUser = (request: MockRequest): string =>
  request.kind === 'chat' ? (request.messages.at(-1)?.content ?? '') : '';

describe('codeloop solve', { skip }, () => {
  let executor: Executor;
  before(async () => {
    executor = await createExecutor({ concurrency: 2 });
  });
  after(async () => {
    await executor.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  test('a dataset task: the replayed run repairs the program, exits 0 and logs every attempt', async () => {
    const task = (await loadExamples()).tasks.find((candidate) => candidate.id === 'examples/ts/pascal-row');
    assert.ok(task);
    const wrong = `\`\`\`typescript\n${task.prompt}${(task.canonicalSolution ?? '').replace('k <= n', 'k < n')}\`\`\``;
    const right = `\`\`\`typescript\n${task.prompt}${task.canonicalSolution ?? ''}\`\`\``;
    const replay = join(scratch, 'pascal-row.jsonl');
    const library = await recordReplay(
      solveTaskFromDataset(task),
      executor,
      (request) => (lastUser(request).includes('Feedback:') ? right : wrong),
      replay,
    );
    assert.equal(library.passed, true, 'the in-process run passes');
    const out = join(scratch, 'out-pascal-row');
    const result = codeloop(['examples/ts/pascal-row', '--model', `replay:${replay}`, '--out', out, '--json']);
    assert.equal(result.status, 0, result.stderr);
    const summary = JSON.parse(result.stdout) as {
      passed: boolean;
      stop_reason: string;
      program_attempts: number;
      verdict: { by: string };
    };
    assert.deepEqual(
      [summary.passed, summary.stop_reason, summary.program_attempts, summary.verdict.by],
      [true, 'visible-pass', 2, 'reference'],
    );
    const records = readFileSync(join(out, 'attempts.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { kind: string; code: string; feedback_in: { text: string } | null });
    assert.deepEqual(
      records.map((record) => record.kind),
      ['sample', 'repair', 'select'],
    );
    assert.deepEqual(
      records.map((record) => record.code),
      library.attempts.map((record) => record.code),
    );
    assert.equal(records[1]?.feedback_in?.text, library.attempts[1]?.feedback_in?.text);
    assert.equal(readFileSync(join(out, 'solution.ts'), 'utf8'), library.code);
  });

  test('select: the text output gives the generated tests and their false-positive rate', async () => {
    const task = (await loadExamples()).tasks.find((candidate) => candidate.id === 'examples/js/is-palindrome');
    assert.ok(task);
    const right = `\`\`\`javascript\n${task.prompt}${task.canonicalSolution ?? ''}\`\`\``;
    const tests =
      '```javascript\nassert.deepStrictEqual(isPalindrome("aba"), true);\nassert.deepStrictEqual(isPalindrome("ab"), false);\n```';
    const replay = join(scratch, 'select.jsonl');
    await recordReplay(
      solveTaskFromDataset(task),
      executor,
      (request) => (lastUser(request).includes('different tests') ? tests : right),
      replay,
      { strategy: 'select', strategyOverrides: { samples: 1, testSamples: 1 } },
    );
    const result = codeloop([
      'examples/js/is-palindrome',
      '--model',
      `replay:${replay}`,
      '--strategy',
      'select',
      '--samples',
      '1',
      '--test-samples',
      '1',
      '--out',
      join(scratch, 'out-select'),
    ]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(
      result.stdout,
      /^generated tests: 2 kept, 0 rejected, 2 passed by the reference solution; false-positive rate 0\.0% \(0 of 1 attempts that passed every generated test fail the hidden ones\)$/m,
    );
  });

  test('--file with --test-command: the command judges, its output is the feedback', async () => {
    writeFileSync(join(scratch, 'calc.py'), 'def add(a, b):\n    return a - b\n');
    const testFile =
      'import unittest\nfrom calc import add\n\nclass TestAdd(unittest.TestCase):\n    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n';
    writeFileSync(join(scratch, 'test_calc.py'), testFile);
    const command = 'python3 -m unittest -q test_calc';
    const task = commandSolveTask({
      source: 'def add(a, b):\n    return a - b\n',
      sourcePath: 'calc.py',
      language: 'python',
      command,
      files: { 'test_calc.py': testFile },
    });
    const replay = join(scratch, 'calc.jsonl');
    await recordReplay(
      task,
      executor,
      (request) =>
        lastUser(request).includes('I ran the tests')
          ? '```python\ndef add(a, b):\n    return a + b\n```'
          : '```python\ndef add(a, b):\n    return a * b\n```',
      replay,
    );
    const out = join(scratch, 'out-calc');
    const result = codeloop([
      '--file',
      'calc.py',
      '--test-command',
      command,
      '--test-file',
      'test_calc.py',
      '--model',
      `replay:${replay}`,
      '--out',
      out,
    ]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^calc\.py: PASSED \(exited with code 0\) after 2 program\(s\)/);
    const records = readFileSync(join(out, 'attempts.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { feedback_in: { template_id: string; text: string } | null });
    assert.equal(records[1]?.feedback_in?.template_id, 'command-output@1');
    assert.match(records[1]?.feedback_in?.text ?? '', /AssertionError: 6 != 5/);
  });

  test(
    '--test-command with pytest (the system python3-pytest, which the sandbox sees under /usr)',
    { skip: pytestSkip },
    async () => {
      const project = join(scratch, 'pytest-project');
      mkdirSync(project, { recursive: true });
      const wrongSource = 'def add(a, b):\n    return a - b\n';
      writeFileSync(join(project, 'calc.py'), wrongSource);
      const testFile = 'from calc import add\n\ndef test_add():\n    assert add(2, 3) == 5\n';
      writeFileSync(join(project, 'test_calc.py'), testFile);
      const command = 'python3 -m pytest -q -p no:cacheprovider test_calc.py';
      const task = commandSolveTask({
        source: wrongSource,
        sourcePath: 'calc.py',
        language: 'python',
        command,
        files: { 'test_calc.py': testFile },
      });
      const replay = join(scratch, 'pytest-calc.jsonl');
      const library = await recordReplay(
        task,
        executor,
        (request) =>
          lastUser(request).includes('I ran the tests')
            ? '```python\ndef add(a, b):\n    return a + b\n```'
            : '```python\ndef add(a, b):\n    return a * b\n```',
        replay,
      );
      assert.match(
        library.attempts[1]?.feedback_in?.text ?? '',
        /assert 6 == 5[\s\S]*1 failed in <time>/,
        'pytest ran in the sandbox and its output is the feedback',
      );
      const result = codeloop(
        [
          '--file',
          'calc.py',
          '--test-command',
          command,
          '--model',
          `replay:${replay}`,
          '--out',
          join(scratch, 'out-pytest'),
        ],
        project,
      );
      assert.equal(result.status, 0, result.stderr);
      assert.match(result.stdout, /^calc\.py: PASSED \(exited with code 0\) after 2 program\(s\)/);
    },
  );

  test('--file in a subfolder keeps its path: `import src.calc` finds the candidate, and the original is not copied in', async () => {
    const project = join(scratch, 'project');
    mkdirSync(join(project, 'src'), { recursive: true });
    mkdirSync(join(project, 'tests'), { recursive: true });
    const wrongSource = 'def add(a, b):\n    return a - b\n';
    writeFileSync(join(project, 'src', 'calc.py'), wrongSource);
    const testFile =
      'import unittest\nfrom src.calc import add\n\nclass TestAdd(unittest.TestCase):\n    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n';
    writeFileSync(join(project, 'tests', 'test_calc.py'), testFile);
    // The command names the source file too: it must be the candidate there, not the original.
    const command = 'python3 -m py_compile src/calc.py && python3 -m unittest -q tests/test_calc.py';
    const task = commandSolveTask({
      source: wrongSource,
      sourcePath: 'src/calc.py',
      language: 'python',
      command,
      files: { 'tests/test_calc.py': testFile },
    });
    const replay = join(scratch, 'src-calc.jsonl');
    await recordReplay(
      task,
      executor,
      (request) =>
        lastUser(request).includes('I ran the tests')
          ? '```python\ndef add(a, b):\n    return a + b\n```'
          : '```python\ndef add(a, b):\n    return a * b\n```',
      replay,
    );
    const out = join(scratch, 'out-src-calc');
    const result = codeloop(
      ['--file', './src//calc.py', '--test-command', command, '--model', `replay:${replay}`, '--out', out],
      project,
    );
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^src\/calc\.py: PASSED \(exited with code 0\) after 2 program\(s\)/);
    const outside = codeloop(
      ['--file', '../calc.py', '--test-command', command, '--model', `replay:${replay}`],
      project,
    );
    assert.equal(outside.status, 2);
    assert.match(outside.stderr, /--file \.\.\/calc\.py: give a file inside the current folder/);
  });

  test('--dataset: a strategy over a task set, with pass@k and pass rate against tokens', async () => {
    const tasks = (await loadExamples()).tasks.slice(0, 2);
    assert.deepEqual(
      tasks.map((task) => task.id),
      ['examples/py/fizzbuzz', 'examples/py/bisect-left'],
    );
    const mutations: Record<string, [string, string]> = {
      'examples/py/fizzbuzz': ['range(1, n + 1)', 'range(1, n)'],
      'examples/py/bisect-left': ['lo, hi = 0, len(xs)', 'lo, hi = 0, len(xs) - 1'],
    };
    const lines: string[] = [];
    for (const task of tasks) {
      const [from, to] = mutations[task.id] ?? ['', ''];
      const path = join(scratch, `${task.id.replace(/\//g, '_')}.jsonl`);
      await recordReplay(
        solveTaskFromDataset(task),
        executor,
        (request) =>
          `\`\`\`python\n${task.prompt}${lastUser(request).includes('Feedback:') ? task.canonicalSolution : (task.canonicalSolution ?? '').replace(from, to)}\`\`\``,
        path,
      );
      lines.push(readFileSync(path, 'utf8').trim());
    }
    const replay = join(scratch, 'two-tasks.jsonl');
    writeFileSync(replay, `${lines.join('\n')}\n`);
    const out = join(scratch, 'out-dataset');
    const result = codeloop([
      '--dataset',
      'examples',
      '--limit',
      '2',
      '--model',
      `replay:${replay}`,
      '--max-tokens',
      '300',
      '--per-test-ms',
      '1500',
      '--style',
      'chat',
      '--out',
      out,
      '--json',
    ]);
    assert.equal(result.status, 0, result.stderr);
    const evaluation = JSON.parse(readFileSync(join(out, 'evaluation.json'), 'utf8')) as {
      tasks: number;
      passRate: number;
      passAtK: Record<string, number>;
      perTask: { taskId: string; runs: { passed: boolean; programAttempts: number; tokens: number }[] }[];
      passAtTokens: { tokens: number; passRate: number }[];
    };
    assert.deepEqual(JSON.parse(result.stdout), evaluation);
    // fizzbuzz's public example catches the mutant, which is repaired; bisect-left's does not, so the loop stops, failed.
    assert.deepEqual(
      evaluation.perTask.map((task) => [task.taskId, task.runs[0]?.passed, task.runs[0]?.programAttempts]),
      [
        ['examples/py/fizzbuzz', true, 2],
        ['examples/py/bisect-left', false, 1],
      ],
    );
    assert.equal(evaluation.passRate, 0.5);
    assert.deepEqual(evaluation.passAtK, { 'pass@1': 0.5 });
    const fizzbuzzTokens = evaluation.perTask[0]?.runs[0]?.tokens ?? 0;
    assert.equal(evaluation.passAtTokens.find((point) => point.tokens === fizzbuzzTokens)?.passRate, 0.5);
    assert.equal(evaluation.passAtTokens.find((point) => point.tokens < fizzbuzzTokens)?.passRate ?? 0, 0);
    const records = readFileSync(join(out, 'attempts.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line) as {
            kind: string;
            model: { max_tokens: number; style: string } | null;
            repro: { per_test_ms: number };
          },
      );
    assert.equal(records.length, 5, 'fizzbuzz: sample, repair, select; bisect-left: sample, select');
    // --max-tokens, --per-test-ms and --style reach every run of the evaluation.
    assert.deepEqual(
      new Set(
        records
          .filter((record) => record.model !== null)
          .map((record) => `${record.model?.max_tokens} ${record.model?.style}`),
      ),
      new Set(['300 chat']),
    );
    assert.deepEqual(new Set(records.map((record) => record.repro.per_test_ms)), new Set([1500]));
    // `codeloop eval --strategy` is the same evaluation.
    const viaEval = spawnSync(
      process.execPath,
      [
        bin,
        'eval',
        '--dataset',
        'examples',
        '--limit',
        '2',
        '--strategy',
        'repair',
        '--model',
        `replay:${replay}`,
        '--out',
        join(scratch, 'out-eval'),
        '--json',
      ],
      { cwd: scratch, encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, timeout: 120_000 },
    );
    assert.equal(viaEval.status, 0, viaEval.stderr);
    const again = JSON.parse(viaEval.stdout) as typeof evaluation;
    assert.deepEqual(
      [again.passRate, again.passAtK, again.perTask.map((task) => task.runs[0]?.tokens)],
      [evaluation.passRate, evaluation.passAtK, evaluation.perTask.map((task) => task.runs[0]?.tokens)],
    );
  });

  test('a failed model call: exit 4, the error in result.json and the log; --dataset goes on with the other tasks and counts it', () => {
    // A replay file with one unrelated prompt has no completion for the loop's prompts: every call fails with prompt-not-recorded.
    const empty = join(scratch, 'unrelated.jsonl');
    writeFileSync(
      empty,
      `${JSON.stringify({ task_id: 'other', prompt: JSON.stringify([{ role: 'user', content: 'hello' }]), style: 'chat', completion: 'hi' })}\n`,
    );
    const out = join(scratch, 'out-model-error');
    const single = codeloop(['examples/py/fizzbuzz', '--model', `replay:${empty}`, '--out', out]);
    assert.equal(single.status, 4, single.stderr);
    assert.match(single.stderr, /the model call after the start failed \(prompt-not-recorded\)/);
    const summary = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as {
      passed: boolean;
      stop_reason: string;
      model_error: { code: string };
    };
    assert.deepEqual(
      [summary.passed, summary.stop_reason, summary.model_error.code],
      [false, 'model-error', 'prompt-not-recorded'],
    );
    const records = readFileSync(join(out, 'attempts.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { kind: string; stop_reason: string; model_error: { code: string } });
    assert.deepEqual(
      records.map((record) => [record.kind, record.stop_reason, record.model_error.code]),
      [['select', 'model-error', 'prompt-not-recorded']],
    );
    const dataset = codeloop([
      '--dataset',
      'examples',
      '--limit',
      '2',
      '--model',
      `replay:${empty}`,
      '--out',
      join(scratch, 'out-model-error-dataset'),
      '--json',
    ]);
    assert.equal(dataset.status, 4, dataset.stderr);
    const evaluation = JSON.parse(dataset.stdout) as {
      tasks: number;
      modelErrors: number;
      perTask: { runs: { stopReason: string; modelError: { code: string } | null }[] }[];
    };
    assert.deepEqual([evaluation.tasks, evaluation.modelErrors], [2, 2]);
    assert.deepEqual(
      evaluation.perTask.map((task) => [task.runs[0]?.stopReason, task.runs[0]?.modelError?.code]),
      [
        ['model-error', 'prompt-not-recorded'],
        ['model-error', 'prompt-not-recorded'],
      ],
    );
    const missing = codeloop([
      'examples/py/fizzbuzz',
      '--model',
      'gguf:/nonexistent/model.gguf',
      '--out',
      join(scratch, 'out-no-model'),
    ]);
    assert.equal(missing.status, 4, missing.stderr);
    assert.match(missing.stderr, /cannot open --model gguf:\/nonexistent\/model\.gguf/);
  });

  test('usage errors name the value and the fix, exit 2', () => {
    const noTask = codeloop([]);
    assert.equal(noTask.status, 2);
    assert.match(
      noTask.stderr,
      /give a TASK \(examples\/ID, DATASET\/ID or a task file\), or --file with --test-command/,
    );
    const cost = codeloop(['examples/py/fizzbuzz', '--max-cost-usd', '1']);
    assert.equal(cost.status, 2);
    assert.match(cost.stderr, /--max-cost-usd needs --price IN,OUT/);
    writeFileSync(
      join(scratch, 'bad.json'),
      JSON.stringify({ language: 'python', prompt: 'x', publicTests: ['assert f(1) == 1'] }),
    );
    const bad = codeloop(['bad.json']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /bad\.json: "hiddenTests" is empty; the final verdict needs at least one hidden test/);
  });
});
