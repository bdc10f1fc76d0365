import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { createExecutor, SandboxUnavailableError, type Executor } from './executor.js';
import { probeIsolation } from './probe.js';
import type { ExecutionRequest, Language } from './types.js';

/** The same behaviours, written once per language: the shared conformance suite every sandbox language runs. */
const PROGRAMS: Record<Language, Record<string, string>> = {
  python: {
    pass: 'print("hello")\n',
    fail: 'assert 1 + 1 == 3, "math is broken"\n',
    syntax: 'def f(:\n    pass\n',
    loop: 'while True:\n    pass\n',
    echo: 'import sys\nsys.stdout.write(sys.stdin.read())\n',
    args: 'import sys\nprint(" ".join(sys.argv[1:]))\n',
    exit3: 'import sys\nsys.exit(3)\n',
    flood: 'print("x" * 200_000)\n',
    helper: 'from helper import value\nprint(value)\n',
    write: 'open("state.txt", "w").write("1")\nopen("/tmp/state.txt", "w").write("1")\n',
    fresh: 'import os\nassert not os.path.exists("state.txt") and not os.path.exists("/tmp/state.txt")\n',
    env: 'import os\nprint(",".join(sorted(os.environ)))\n',
  },
  javascript: {
    pass: 'console.log("hello");\n',
    fail: "require('node:assert').equal(1 + 1, 3, 'math is broken');\n",
    syntax: 'function f( {\n',
    loop: 'for (;;) {}\n',
    echo: "process.stdout.write(require('fs').readFileSync(0, 'utf8'));\n",
    args: "console.log(process.argv.slice(2).join(' '));\n",
    exit3: 'process.exit(3);\n',
    flood: "console.log('x'.repeat(200000));\n",
    helper: "console.log(require('./helper.js').value);\n",
    write: "const fs = require('fs');\nfs.writeFileSync('state.txt', '1');\nfs.writeFileSync('/tmp/state.txt', '1');\n",
    fresh:
      "const fs = require('fs');\nif (fs.existsSync('state.txt') || fs.existsSync('/tmp/state.txt')) process.exit(1);\n",
    env: "console.log(Object.keys(process.env).sort().join(','));\n",
  },
  typescript: {
    pass: 'const greeting: string = "hello";\nconsole.log(greeting);\n',
    fail: "declare var require: any;\nrequire('node:assert').equal(1 + 1, 3, 'math is broken');\n",
    syntax: 'const x: number = ;\n',
    loop: 'let n: number = 0;\nfor (;;) { n++; }\n',
    echo: "declare var require: any; declare var process: any;\nprocess.stdout.write(require('fs').readFileSync(0, 'utf8'));\n",
    args: "declare var process: any;\nconsole.log(process.argv.slice(2).join(' '));\n",
    exit3: 'declare var process: any;\nprocess.exit(3);\n',
    flood: "console.log('x'.repeat(200000));\n",
    helper: "declare var require: any;\nconsole.log(require('./helper.js').value);\n",
    write:
      "declare var require: any;\nconst fs = require('fs');\nfs.writeFileSync('state.txt', '1');\nfs.writeFileSync('/tmp/state.txt', '1');\n",
    fresh:
      "declare var require: any; declare var process: any;\nconst fs = require('fs');\nif (fs.existsSync('state.txt') || fs.existsSync('/tmp/state.txt')) process.exit(1);\n",
    env: "declare var process: any;\nconsole.log(Object.keys(process.env).sort().join(','));\n",
  },
};

const HELPERS: Record<Language, Record<string, string>> = {
  python: { 'helper.py': 'value = 42\n' },
  javascript: { 'helper.js': 'exports.value = 42;\n' },
  typescript: { 'helper.js': 'exports.value = 42;\n' },
};

const sandbox = probeIsolation();
const skip = sandbox.level === null ? 'no OS sandbox on this machine (codeloop doctor says why)' : false;

describe('executor', { skip }, () => {
  let executor: Executor;
  before(async () => {
    executor = await createExecutor({ concurrency: 2 });
  });
  after(async () => {
    await executor?.close();
  });

  const run = (request: ExecutionRequest) => executor.run(request);

  for (const language of ['python', 'javascript', 'typescript'] as const) {
    const code = PROGRAMS[language];
    describe(language, () => {
      test('a correct program passes with its output', async () => {
        const result = await run({ language, code: code.pass! });
        assert.equal(result.verdict, 'passed', result.stderr);
        assert.equal(result.stdout, 'hello\n');
        assert.equal(result.exitCode, 0);
        assert.equal(result.isolation, sandbox.level);
      });
      test('a failing assertion fails with its message on stderr', async () => {
        const result = await run({ language, code: code.fail! });
        assert.equal(result.verdict, 'failed');
        assert.equal(result.exitCode, 1);
        assert.match(result.stderr, /math is broken/);
      });
      test('a syntax error is a compile error', async () => {
        const result = await run({ language, code: code.syntax! });
        assert.equal(result.verdict, 'compile-error', `${result.reason}\n${result.stderr}`);
      });
      test('an endless loop times out at the wall clock', async () => {
        const result = await run({ language, code: code.loop!, limits: { wallMs: 700 } });
        assert.equal(result.verdict, 'timed-out');
        assert.equal(result.reason, 'killed at the 700 ms wall-clock limit');
        assert.ok(result.durationMs >= 700 && result.durationMs < 3000, `took ${result.durationMs} ms`);
      });
      test('stdin reaches the program', async () => {
        const result = await run({ language, code: code.echo!, stdin: 'line one\nline two\n' });
        assert.equal(result.stdout, 'line one\nline two\n');
      });
      test('arguments reach the program', async () => {
        const result = await run({ language, code: code.args!, args: ['a', 'b c'] });
        assert.equal(result.stdout, 'a b c\n');
      });
      test('an exit code is kept', async () => {
        const result = await run({ language, code: code.exit3! });
        assert.equal(result.verdict, 'failed');
        assert.equal(result.exitCode, 3);
        assert.equal(result.reason, 'exited with code 3');
      });
      test('large output is capped, counted and marked', async () => {
        const result = await run({ language, code: code.flood!, limits: { outputBytes: 4096 } });
        assert.equal(result.verdict, 'passed');
        assert.equal(result.stdoutBytes, 200_001);
        assert.ok(result.stdout.length < 8000, `kept ${result.stdout.length} characters`);
        assert.match(result.stdout, /\[codeloop: \d+ bytes omitted\]/);
      });
      test('extra files sit next to the program', async () => {
        const result = await run({ language, code: code.helper!, files: HELPERS[language] });
        assert.equal(result.stdout, '42\n', result.stderr);
      });
      test('every execution starts in a fresh working directory and /tmp', async () => {
        assert.equal((await run({ language, code: code.write! })).verdict, 'passed');
        const results = await Promise.all(Array.from({ length: 4 }, () => run({ language, code: code.fresh! })));
        assert.deepEqual(
          results.map((result) => result.verdict),
          ['passed', 'passed', 'passed', 'passed'],
        );
      });
      test('the environment is built, not inherited', async () => {
        process.env.CODELOOP_TEST_LEAK = 'leak';
        try {
          const result = await run({ language, code: code.env! });
          const expected =
            language === 'python' ? 'HOME,LANG,PATH,PYTHONDONTWRITEBYTECODE,TMPDIR' : 'HOME,LANG,PATH,TMPDIR';
          assert.equal(result.stdout.trim(), expected);
        } finally {
          delete process.env.CODELOOP_TEST_LEAK;
        }
      });
    });
  }

  test('python: the completion harness fails a program that exits before its tests ran', async () => {
    const early = await run({
      language: 'python',
      code: 'import sys\nsys.exit(0)\nassert False\n',
      harness: 'completion',
    });
    assert.equal(early.verdict, 'failed');
    assert.match(early.reason, /sys\.exit\(\) before the end/);
    const plain = await run({ language: 'python', code: 'import sys\nsys.exit(0)\nassert False\n' });
    assert.equal(plain.verdict, 'passed', 'the exit-code harness takes exit 0 as a pass, like `python3 FILE`');
    const complete = await run({ language: 'python', code: 'assert 1 + 1 == 2\n', harness: 'completion' });
    assert.equal(complete.verdict, 'passed');
  });

  // Each case is a program human-eval's check_correctness (execution.py @6d43fb98) judges differently from `python3 FILE`.
  const humanEvalCases: {
    name: string;
    code: string;
    humanEval: 'passed' | 'failed';
    completion: 'passed' | 'failed' | 'timed-out';
  }[] = [
    {
      name: 'a __main__ block does not run (exec in empty globals)',
      code: 'if __name__ == "__main__":\n    raise SystemExit(1)\nassert 1 + 1 == 2\n',
      humanEval: 'passed',
      completion: 'failed',
    },
    {
      name: 'unittest.main() in a __main__ block is skipped',
      code: 'import unittest\nclass T(unittest.TestCase):\n    def test_x(self):\n        self.assertTrue(False)\nif __name__ == "__main__":\n    unittest.main()\nassert True\n',
      humanEval: 'passed',
      completion: 'failed',
    },
    {
      name: 'os.getcwd is disabled by reliability_guard',
      code: 'import os\nos.getcwd()\n',
      humanEval: 'failed',
      completion: 'passed',
    },
    {
      name: 'shutil.rmtree is disabled',
      code: 'import shutil, os\nos.makedirs("d")\nshutil.rmtree("d")\n',
      humanEval: 'failed',
      completion: 'passed',
    },
    {
      name: 'subprocess.Popen is disabled',
      code: 'import subprocess\nsubprocess.run(["true"])\n',
      humanEval: 'failed',
      completion: 'passed',
    },
    { name: 'exit() is disabled', code: 'assert True\nexit()\n', humanEval: 'failed', completion: 'failed' },
    { name: 'import resource fails', code: 'import resource\n', humanEval: 'failed', completion: 'passed' },
    { name: 'stdin cannot be read', code: 'import sys\nsys.stdin.read()\n', humanEval: 'failed', completion: 'passed' },
    { name: '__file__ is not defined', code: 'print(__file__)\n', humanEval: 'failed', completion: 'passed' },
    {
      name: 'stdout has no fileno (a StringIO)',
      code: 'import sys\nsys.stdout.fileno()\n',
      humanEval: 'failed',
      completion: 'passed',
    },
    {
      name: 'a thread left running does not undo a pass',
      code: 'import threading, time\ndef spin():\n    while True:\n        time.sleep(0.05)\nthreading.Thread(target=spin).start()\nassert 1 + 1 == 2\n',
      humanEval: 'passed',
      completion: 'timed-out',
    },
  ];
  for (const { name, code, humanEval, completion } of humanEvalCases) {
    test(`python: human-eval harness: ${name}`, async () => {
      const limits = { wallMs: 1500 };
      const underHumanEval = await run({ language: 'python', code, harness: 'human-eval', limits });
      assert.equal(
        underHumanEval.verdict,
        humanEval,
        `human-eval harness: ${underHumanEval.reason}\n${underHumanEval.stderr}`,
      );
      const underCompletion = await run({ language: 'python', code, harness: 'completion', limits });
      assert.equal(
        underCompletion.verdict,
        completion,
        `completion harness: ${underCompletion.reason}\n${underCompletion.stderr}`,
      );
    });
  }

  test('python: human-eval harness keeps what the program prints for the tails, and the traceback', async () => {
    const result = await run({
      language: 'python',
      code: 'print("to stdout")\nimport sys\nprint("to stderr", file=sys.stderr)\nassert 1 == 2, "wrong"\n',
      harness: 'human-eval',
    });
    assert.equal(result.verdict, 'failed');
    assert.equal(result.exception, 'AssertionError');
    assert.equal(result.stdout, 'to stdout\n');
    assert.match(result.stderr, /^to stderr\nTraceback \(most recent call last\):\n {2}File "<string>", line 4/);
    assert.match(result.stderr, /AssertionError: wrong\n$/);
  });

  test('python: the traceback starts in the program, not in the runner', async () => {
    const result = await run({ language: 'python', code: 'def f():\n    raise ValueError("bad")\nf()\n' });
    assert.equal(result.exception, 'ValueError');
    assert.match(result.stderr, /^Traceback \(most recent call last\):\n {2}File "\/work\/main.py", line 3/);
    assert.doesNotMatch(result.stderr, /supervisor\.py/);
  });

  test('python: memory beyond the limit is memory-exceeded', async () => {
    const result = await run({
      language: 'python',
      code: 'x = bytearray(300 * 1024 * 1024)\n',
      limits: { memoryMiB: 128 },
    });
    assert.equal(result.verdict, 'memory-exceeded');
  });

  test('typescript: type errors are compile errors only when type-checking', async () => {
    const code = 'const n: number = "text";\nconsole.log(n);\n';
    const checked = await run({ language: 'typescript', code, typeCheck: true });
    assert.equal(checked.verdict, 'compile-error');
    assert.match(checked.stdout + checked.stderr, /TS2322/);
    const unchecked = await run({ language: 'typescript', code });
    assert.equal(unchecked.verdict, 'passed');
    assert.equal(unchecked.stdout, 'text\n');
    const valid = await run({
      language: 'typescript',
      code: 'const n: number = 2;\nconsole.log(n * 21);\n',
      typeCheck: true,
    });
    assert.equal(valid.verdict, 'passed', valid.stdout + valid.stderr);
    assert.equal(valid.stdout, '42\n');
  });

  test('a long-lived signal keeps no abort listener once its runs have ended', async () => {
    const controller = new AbortController();
    for (let index = 0; index < 3; index++) {
      const result = await executor.run({ language: 'python', code: 'print(1)\n' }, { signal: controller.signal });
      assert.equal(result.verdict, 'passed');
    }
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
  });

  test('an abort signal stops a running program and the executor keeps working', async () => {
    const controller = new AbortController();
    const running = run({ language: 'python', code: 'import time\ntime.sleep(60)\n' });
    const aborted = executor.run(
      { language: 'python', code: 'import time\ntime.sleep(60)\n' },
      { signal: controller.signal },
    );
    setTimeout(() => controller.abort(new Error('stop it')), 300);
    await assert.rejects(aborted, { message: 'stop it' });
    controller.abort();
    const [first] = await Promise.all([running.catch((error: Error) => error)]);
    assert.ok(first, 'the other execution settled');
    const next = await run({ language: 'python', code: 'print(1)\n' });
    assert.equal(next.verdict, 'passed');
  });

  test('a program larger than a pipe buffer arrives whole', async () => {
    const result = await run({
      language: 'python',
      code: `x = ${JSON.stringify('a'.repeat(300_000))}\nprint(len(x))\n`,
      stdin: 'b'.repeat(200_000),
    });
    assert.equal(result.verdict, 'passed');
    assert.equal(result.stdout, '300000\n');
  });

  test('bad limits are refused with the field, the value and the range', async () => {
    await assert.rejects(run({ language: 'python', code: '', limits: { wallMs: -1 } }), {
      name: 'UsageError',
      message: 'Limit wallMs=-1 is out of range: use a number from 10 to 3600000.',
    });
  });

  test('file names must be plain relative paths', async () => {
    await assert.rejects(run({ language: 'python', code: '', files: { '../escape.py': '' } }), {
      name: 'UsageError',
      message: /not a plain relative path/,
    });
  });
});

test('without bubblewrap the executor refuses and says what to install', async () => {
  await assert.rejects(createExecutor({ bwrapPath: '/nonexistent/bwrap' }), (error: unknown) => {
    assert.ok(error instanceof SandboxUnavailableError);
    assert.match(error.message, /No OS sandbox is available on this machine/);
    assert.match(error.message, /apt-get install bubblewrap/);
    assert.match(error.message, /--unsafe-no-sandbox/);
    return true;
  });
});

test('isolation "unsafe-none" runs programs unsandboxed and warns', async () => {
  const warnings: string[] = [];
  const executor = await createExecutor({
    concurrency: 1,
    isolation: 'unsafe-none',
    onWarning: (message) => warnings.push(message),
  });
  try {
    assert.equal(executor.isolation, 'none');
    assert.match(warnings.join('\n'), /UNSAFE/);
    const result = await executor.run({ language: 'python', code: 'print(6 * 7)\n' });
    assert.equal(result.verdict, 'passed');
    assert.equal(result.stdout, '42\n');
    assert.equal(result.isolation, 'none');
    const js = await executor.run({ language: 'javascript', code: 'console.log(6 * 7)\n' });
    assert.equal(js.stdout, '42\n');
  } finally {
    await executor.close();
  }
});
