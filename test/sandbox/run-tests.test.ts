import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createExecutor, probeIsolation, type Executor } from '../../src/sandbox/index.js';
import { loadExamples } from '../../src/tasks/index.js';
import { collectResults, planJavaScriptSteps, runTests, type TestResult } from '../../src/sandbox/run-tests.js';

const skip = probeIsolation().level === null ? 'no OS sandbox on this machine (codeloop doctor says why)' : false;

const byId = (tests: TestResult[]): Record<string, TestResult> =>
  Object.fromEntries(tests.map((result) => [result.id, result]));

describe('runTests', { skip }, () => {
  let executor: Executor;
  before(async () => {
    executor = await createExecutor({ concurrency: 2 });
  });
  after(async () => {
    await executor.close();
  });

  test('Python: each statement of check(candidate) is a test, with expected and actual for an equality', async () => {
    const result = await runTests(executor, {
      language: 'python',
      entryPoint: 'add',
      solution: 'def add(a, b):\n    return a + b if a < 5 else a - b\n',
      sources: [
        { origin: 'public', form: 'single', idPrefix: 'public/0', code: 'assert add(1, 2) == 3' },
        {
          origin: 'hidden',
          form: 'check-function',
          idPrefix: 'hidden/',
          code: 'METADATA = {}\n\ndef check(candidate):\n    assert candidate(2, 2) == 4\n    x = 10\n    assert candidate(x, 1) == 11, "big numbers"\n    assert candidate(\n        0,\n        0) == 0\n    for i in range(3):\n        assert candidate(i, 0) == i\n    assert candidate(None, 1) == 1\n',
        },
      ],
    });
    assert.equal(result.infraError, false);
    assert.equal(result.solution.status, 'passed');
    const tests = byId(result.tests);
    assert.deepEqual(Object.keys(tests), ['public/0', 'hidden/0', 'hidden/1', 'hidden/2', 'hidden/3', 'hidden/4']);
    assert.equal(tests['public/0']?.status, 'passed');
    assert.equal(tests['hidden/0']?.status, 'passed');
    assert.equal(tests['hidden/0']?.actual, '4', 'a passing equality reports its actual value too');
    assert.deepEqual(
      {
        status: tests['hidden/1']?.status,
        expected: tests['hidden/1']?.expected,
        actual: tests['hidden/1']?.actual,
        message: tests['hidden/1']?.exception?.message,
        assertion: tests['hidden/1']?.assertion,
      },
      {
        status: 'failed',
        expected: '11',
        actual: '9',
        message: 'big numbers',
        assertion: 'assert candidate(x, 1) == 11, "big numbers"',
      },
    );
    assert.equal(tests['hidden/2']?.assertion, 'assert candidate(\n        0,\n        0) == 0');
    assert.equal(tests['hidden/3']?.status, 'passed');
    assert.equal(tests['hidden/4']?.status, 'error');
    assert.equal(tests['hidden/4']?.exception?.type, 'TypeError');
  });

  test('Python: a test that loops forever times out alone, and the next test still runs', async () => {
    const result = await runTests(executor, {
      language: 'python',
      entryPoint: 'f',
      perTestMs: 300,
      solution: 'def f(x):\n    while x < 0:\n        pass\n    return x\n',
      sources: [
        {
          origin: 'hidden',
          form: 'statements',
          idPrefix: 'hidden/',
          code: 'assert f(-1) == -1\nassert f(2) == 2\nimport sys\nsys.exit(0)\nassert f(3) == 3\n',
        },
      ],
    });
    const tests = byId(result.tests);
    assert.equal(tests['hidden/0']?.status, 'timed-out');
    assert.equal(tests['hidden/1']?.status, 'passed');
    assert.equal(tests['hidden/2']?.status, 'error', 'sys.exit is caught as SystemExit, it does not end the run');
    assert.equal(tests['hidden/2']?.exception?.type, 'SystemExit');
    assert.equal(tests['hidden/3']?.status, 'passed');
  });

  test('Python: a solution that does not parse makes every test a compile error; os._exit leaves the rest not-run', async () => {
    const broken = await runTests(executor, {
      language: 'python',
      entryPoint: 'f',
      solution: 'def f(:\n',
      sources: [{ origin: 'public', form: 'single', idPrefix: 'public/0', code: 'assert f(1) == 1' }],
    });
    assert.equal(broken.solution.status, 'compile-error');
    assert.deepEqual(
      broken.tests.map((result) => result.status),
      ['compile-error'],
    );
    const exits = await runTests(executor, {
      language: 'python',
      entryPoint: 'f',
      solution: 'import os\ndef f(x):\n    if x == 2:\n        os._exit(0)\n    return x\n',
      sources: [
        {
          origin: 'hidden',
          form: 'statements',
          idPrefix: 'h',
          code: 'assert f(1) == 1\nassert f(2) == 2\nassert f(3) == 3\n',
        },
      ],
    });
    assert.deepEqual(
      exits.tests.map((result) => result.status),
      ['passed', 'not-run', 'not-run'],
    );
    assert.equal(exits.infraError, false);
  });

  test('Python: result lines a candidate forges reach the host only in the shape the types say', async () => {
    // The runner shares the candidate's process: a frame walk finds its nonce and descriptor. Before the host checked
    // each line, these fields went through as they were, and formatting the feedback (`${test.actual}`, traceback.trim)
    // or writing the attempt (JSON.stringify) threw: a RangeError or TypeError out of codeloop solve.
    const result = await runTests(executor, {
      language: 'python',
      entryPoint: 'f',
      solution:
        'import json, os, sys\nframe = sys._getframe()\nwhile "_NONCE" not in frame.f_globals:\n    frame = frame.f_back\n' +
        'OUT, NONCE = frame.f_globals["_OUT"], frame.f_globals["_NONCE"]\n' +
        'deep = "[" * 300000 + "]" * 300000\n' +
        'def f(x):\n    if x == 2:\n' +
        '        os.write(OUT, (NONCE + \'{"type":"test","id":"h0","status":"banana","actual":\' + deep + ' +
        '\',"expected":{"a":1},"traceback":7,"exception":{"type":[1],"message":null},"durationMs":"slow","tests":5}\\n\').encode())\n' +
        '    return x\n',
      sources: [{ origin: 'hidden', form: 'statements', idPrefix: 'h', code: 'assert f(1) == 2\nassert f(2) == 2\n' }],
    });
    assert.equal(result.infraError, false);
    // The forged line came after the runner's own line for h0, so it is the one the host keeps; cut down to the types.
    assert.deepEqual(result.tests[0], {
      id: 'h0',
      origin: 'hidden',
      assertion: 'assert f(1) == 2',
      status: 'error',
      exception: { type: 'Error', message: '' },
    });
    assert.equal(result.tests[1]?.status, 'passed');
    assert.doesNotThrow(() => JSON.stringify(result));
  });

  test('a candidate that prints a lot does not crowd out the results', async () => {
    const python = await runTests(executor, {
      language: 'python',
      entryPoint: 'f',
      solution: 'def f(x):\n    print("x" * 100_000)\n    return x\n',
      sources: [
        {
          origin: 'hidden',
          form: 'statements',
          idPrefix: 'h',
          code: 'assert f(1) == 1\nassert f(2) == 2\nassert f(3) == 4\n',
        },
      ],
    });
    assert.deepEqual(
      python.tests.map((item) => item.status),
      ['passed', 'passed', 'failed'],
    );
    const javascript = await runTests(executor, {
      language: 'javascript',
      solution: 'function f(x) {\n  console.log("x".repeat(100000));\n  return x;\n}\n',
      sources: [
        {
          origin: 'hidden',
          form: 'statements',
          idPrefix: 'h',
          code: 'assert.deepStrictEqual(f(1), 1);\nassert.deepStrictEqual(f(2), 2);\nassert.deepStrictEqual(f(3), 4);\n',
        },
      ],
    });
    assert.deepEqual(
      javascript.tests.map((item) => item.status),
      ['passed', 'passed', 'failed'],
    );
  });

  test('JavaScript: MultiPL-E test() statements are tests; deepStrictEqual failures carry expected and actual', async () => {
    const task = (await loadExamples()).tasks.find((candidate) => candidate.id === 'examples/js/rotate-right');
    assert.ok(task);
    const wrong = `${task.prompt}  return arr.slice(0);\n}\n`;
    const result = await runTests(executor, {
      language: 'javascript',
      entryPoint: 'rotateRight',
      solution: wrong,
      sources: [{ origin: 'hidden', form: 'check-function', idPrefix: 'hidden/', code: task.tests }],
    });
    assert.equal(result.infraError, false);
    const tests = byId(result.tests);
    assert.equal(
      result.tests.length,
      9,
      'seven asserts, the mutating call and the check of the input (the const is setup)',
    );
    assert.deepEqual(
      { status: tests['hidden/0']?.status, expected: tests['hidden/0']?.expected, actual: tests['hidden/0']?.actual },
      { status: 'failed', expected: '[ 4, 5, 1, 2, 3 ]', actual: '[ 1, 2, 3, 4, 5 ]' },
    );
    assert.equal(tests['hidden/2']?.status, 'passed');
    assert.equal(tests['hidden/2']?.actual, '[ 1, 2, 3, 4, 5 ]', 'a passing equality reports its actual value too');
    assert.equal(tests['hidden/8']?.status, 'passed');
    const right = await runTests(executor, {
      language: 'javascript',
      entryPoint: 'rotateRight',
      solution: task.prompt + (task.canonicalSolution ?? ''),
      sources: [{ origin: 'hidden', form: 'check-function', idPrefix: 'hidden/', code: task.tests }],
    });
    assert.deepEqual(new Set(right.tests.map((item) => item.status)), new Set(['passed']));
  });

  test('JavaScript: an endless loop in one test is cut by the per-test limit; TypeScript is transpiled', async () => {
    const result = await runTests(executor, {
      language: 'typescript',
      entryPoint: 'f',
      perTestMs: 300,
      solution: 'function f(x: number): number {\n  while (x < 0) {}\n  return x;\n}\n',
      sources: [
        { origin: 'generated', form: 'single', idPrefix: 'generated/0', code: 'assert.deepStrictEqual(f(-1), -1);' },
        {
          origin: 'generated',
          form: 'single',
          idPrefix: 'generated/1',
          code: 'assert.deepStrictEqual(f(2 as number), 2);',
        },
        { origin: 'generated', form: 'single', idPrefix: 'generated/2', code: 'assert.deepStrictEqual(f(3), 4);' },
        { origin: 'generated', form: 'single', idPrefix: 'generated/3', code: 'assert.deepStrictEqual(f(3), ;' },
      ],
    });
    assert.deepEqual(
      result.tests.map((item) => item.status),
      ['timed-out', 'passed', 'failed', 'error'],
    );
    assert.equal(result.tests[3]?.exception?.type, 'SyntaxError');
    const typeError = 'function f(x: number): string {\n  return x * 2;\n}\n';
    const unchecked = await runTests(executor, {
      language: 'typescript',
      solution: typeError,
      sources: [{ origin: 'public', form: 'single', idPrefix: 'p', code: 'f(1);' }],
    });
    assert.deepEqual(
      unchecked.tests.map((item) => item.status),
      ['passed'],
      'types are stripped, not checked, by default',
    );
    const checked = await runTests(executor, {
      language: 'typescript',
      typeCheck: true,
      solution: typeError,
      sources: [{ origin: 'public', form: 'single', idPrefix: 'p', code: 'f(1);' }],
    });
    assert.equal(checked.solution.status, 'compile-error');
    assert.deepEqual(checked.solution.exception, {
      type: 'TypeScriptError',
      message: "main.ts(2,3): error TS2322: Type 'number' is not assignable to type 'string'.",
    });
    const broken = await runTests(executor, {
      language: 'typescript',
      solution: 'function f(: number {',
      sources: [{ origin: 'public', form: 'single', idPrefix: 'p', code: 'f(1);' }],
    });
    assert.equal(broken.solution.status, 'compile-error');
    assert.deepEqual(
      broken.tests.map((item) => item.status),
      ['compile-error'],
    );
  });
});

test('planJavaScriptSteps: declarations are setup, the check call is dropped, TypeScript steps are transpiled', () => {
  const steps = planJavaScriptSteps(
    [
      {
        origin: 'hidden',
        form: 'check-function',
        idPrefix: 'h',
        code: "declare var require: any;\nconst assert = require('node:assert');\nfunction test() {\n  let candidate = f;\n  assert.deepStrictEqual(candidate([1] as number[]), 1);\n}\n\ntest();\n",
      },
    ],
    'typescript',
  );
  assert.deepEqual(
    steps.map((step) => [step.kind, step.id, step.code.trim()]),
    [
      ['setup', undefined, ''],
      ['setup', undefined, "const assert = require('node:assert');"],
      ['setup', undefined, 'let candidate = f;'],
      ['test', 'h0', 'assert.deepStrictEqual(__codeloopActual(candidate([1])), 1);'],
    ],
  );
});

test('collectResults: an infra error marks every planned test infra-error, never failed', () => {
  const nonce = '@@n@@';
  const base = {
    exitCode: null,
    signal: null,
    durationMs: 5,
    cpuMs: 1,
    peakMemoryKiB: null,
    stderr: '',
    stdoutBytes: 0,
    stderrBytes: 0,
    isolation: 'none' as const,
    limits: {
      wallMs: 1,
      cpuSeconds: 1,
      memoryMiB: 16,
      processes: 1,
      openFiles: 16,
      fileSizeMiB: 1,
      scratchMiB: 1,
      outputBytes: 1024,
      compileMs: 100,
    },
  };
  const plan = `${nonce}${JSON.stringify({ type: 'plan', tests: [{ id: 'h0', origin: 'hidden', assertion: 'assert f() == 1' }] })}\n`;
  const infra = collectResults(
    { ...base, verdict: 'infra-error', reason: 'the sandbox could not run the program: worker died', stdout: plan },
    nonce,
  );
  assert.equal(infra.infraError, true);
  assert.deepEqual(
    infra.tests.map((item) => item.status),
    ['infra-error'],
  );
  const noPlan = collectResults(
    { ...base, verdict: 'failed', reason: 'exited with code 1', stdout: 'forged\n' },
    nonce,
  );
  assert.equal(noPlan.infraError, true, 'a runner that never printed its plan is a harness failure');
  const crashed = collectResults(
    {
      ...base,
      verdict: 'crashed',
      reason: 'killed by SIGSEGV',
      stdout: `${plan}${nonce}{"type":"solution","status":"passed"}\n`,
    },
    nonce,
  );
  assert.deepEqual(
    crashed.tests.map((item) => [item.status, item.exception?.message]),
    [['not-run', 'the process ended before this test ran: killed by SIGSEGV']],
  );
});
