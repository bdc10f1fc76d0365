import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { createExecutor, type ExecutionResult, type Executor } from '../../src/sandbox/index.js';
import {
  ioTestsProgram,
  ioTestsWallMs,
  parseIoTestsResult,
  syntaxMatchProgram,
  type IoTestCase,
  type IoTestsResult,
} from '../../src/tasks/index.js';
import { noSandbox } from '../eval/helpers.js';

// The io-tests driver and the syntax-match check, run in the real sandbox: ExecEval's judging rules, the limits it
// puts on each run, and that nothing the program under test does can make the driver report a pass.
const skip = noSandbox;
let executor: Executor;

before(async () => {
  if (!skip) executor = await createExecutor({ concurrency: 2 });
});
after(async () => {
  await executor?.close();
});

async function judge(
  program: string,
  cases: IoTestCase[],
  timeoutMs = 6000,
): Promise<{ result: ExecutionResult; summary: IoTestsResult | undefined }> {
  const suite = { cases, timeoutMs };
  const result = await executor.run({
    language: 'python',
    code: ioTestsProgram(program, suite),
    harness: 'exit-code',
    limits: { wallMs: ioTestsWallMs(suite), memoryMiB: 2304 },
  });
  return { result, summary: parseIoTestsResult(result.stdout) };
}

const sum = 'a, b = map(int, input().split())\nprint(a + b)\n';

test('a correct program passes every test; the summary lists each outcome', { skip }, async () => {
  const { result, summary } = await judge(sum, [
    { input: '1 2\n', outputs: ['3'] },
    { input: '-5 5', outputs: ['0'] },
  ]);
  assert.equal(result.verdict, 'passed', result.stderr);
  assert.deepEqual(summary, { verdict: 'PASSED', tests: 2, outcomes: ['PASSED', 'PASSED'] });
  assert.equal(result.stderr, '');
});

test('a wrong answer on test 2 of 3 stops the run there, and the reason says so', { skip }, async () => {
  const { result, summary } = await judge(sum, [
    { input: '1 2', outputs: ['3'] },
    { input: '2 2', outputs: ['5'] },
    { input: '3 3', outputs: ['6'] },
  ]);
  assert.equal(result.verdict, 'failed');
  assert.equal(result.reason, 'exited with code 1 (IoTestsError: WRONG_ANSWER on test 2 of 3)');
  assert.deepEqual(summary, { verdict: 'WRONG_ANSWER', tests: 3, outcomes: ['PASSED', 'WRONG_ANSWER'] });
  assert.match(result.stderr, /test 2 of 3: WRONG_ANSWER: expected '5', got '4'/);
});

test(
  "ExecEval's output match: stripped lines, else tokens with numbers within 1e-12 and yes/no in any case",
  { skip },
  async () => {
    const cases: [string, string, string][] = [
      ['print("  1 2  \\n3   \\n\\n")', '1 2\n3', 'PASSED'], // line by line, each line stripped
      ['print("1\\n2 3")', '1 2\n3', 'PASSED'], // lines differ, tokens equal
      ['print("0.3000000000001")', '0.3', 'PASSED'], // 1e-13 apart
      ['print("0.30000000001")', '0.3', 'WRONG_ANSWER'], // 1e-11 apart
      ['print("1e3 +5 .5")', '1000.0 5 0.5', 'PASSED'],
      ['print("YES True no")', 'yes true NO', 'PASSED'],
      ['print("Yes abc")', 'yes ABC', 'WRONG_ANSWER'], // only yes/no/true/false ignore case
      ['print("100000000000000000001")', '100000000000000000000', 'WRONG_ANSWER'],
      ['print("nan")', '5', 'PASSED'], // gmpy2: abs(nan - 5) > 1e-12 is False
      ['print("1 2 3")', '1 2', 'WRONG_ANSWER'],
      ['print("1e999999999")', '1', 'WRONG_ANSWER'], // an exponent this large must not hang the driver
    ];
    for (const [program, expected, outcome] of cases) {
      const { summary } = await judge(program, [{ input: '', outputs: [expected] }]);
      assert.equal(summary?.verdict, outcome, `${program} vs ${JSON.stringify(expected)}`);
    }
  },
);

test('any one accepted output passes; \\r is removed from program, input and outputs', { skip }, async () => {
  const { summary } = await judge('x = input()\r\nprint(x == "a b", 42)\r\n', [
    { input: 'a b\r\n', outputs: ['0', 'True\r\n42'] },
  ]);
  assert.equal(summary?.verdict, 'PASSED');
});

test(
  'outcomes in ExecEval order: runtime error, out of memory, killed without stderr, time limit, compile error',
  { skip },
  async () => {
    const expectations: [string, string][] = [
      ['raise ValueError("boom")', 'RUNTIME_ERROR'],
      ['x = bytearray(3 * 2 ** 30)', 'MEMORY_LIMIT_EXCEEDED'], // over the 2 GiB address space: MemoryError on stderr
      ['import os, signal\nos.kill(os.getpid(), signal.SIGKILL)', 'MEMORY_LIMIT_EXCEEDED'], // non-zero exit, empty stderr
      ['import sys\nsys.exit(3)', 'MEMORY_LIMIT_EXCEEDED'],
      ['import sys\nprint(3)\nprint("warning", file=sys.stderr)', 'PASSED'], // exit 0: stderr does not matter
      ['while True:\n    pass', 'TIME_LIMIT_EXCEEDED'],
      ['import os\nos.close(1)\nos.close(2)\nwhile True:\n    pass', 'TIME_LIMIT_EXCEEDED'],
      ['def f(:\n    pass', 'COMPILATION_ERROR'],
    ];
    for (const [program, outcome] of expectations) {
      const { result, summary } = await judge(program, [{ input: '', outputs: ['3'] }], 1000);
      assert.equal(summary?.verdict, outcome, `${program}: ${result.stderr}`);
      assert.equal(result.verdict, outcome === 'PASSED' ? 'passed' : 'failed', program);
    }
    const { result, summary } = await judge('def f(:\n    pass', [{ input: '', outputs: ['3'] }]);
    assert.deepEqual(summary, { verdict: 'COMPILATION_ERROR', tests: 1, outcomes: [] });
    assert.equal(result.reason, 'exited with code 1 (IoTestsError: COMPILATION_ERROR)');
  },
);

test(
  "ExecEval's flags and limits: -OO drops asserts, no threads, no file writes, deep recursion on an unlimited stack",
  { skip },
  async () => {
    const expectations: [string, string][] = [
      ['assert False\nprint(3)', 'PASSED'],
      ['import threading\nt = threading.Thread(target=print, args=(3,))\nt.start()\nt.join()', 'RUNTIME_ERROR'],
      ['with open("out.txt", "w") as out:\n    out.write("x" * 10)\nprint(3)', 'RUNTIME_ERROR'],
      [
        'import sys\nsys.setrecursionlimit(10 ** 6)\ndef f(n):\n    return 0 if n == 0 else 1 + f(n - 1)\nprint(f(200000) // 66666)',
        'PASSED',
      ],
    ];
    for (const [program, outcome] of expectations) {
      const { result, summary } = await judge(program, [{ input: '', outputs: ['3'] }]);
      assert.equal(summary?.verdict, outcome, `${program}: ${result.stderr}`);
    }
  },
);

test(
  'stdin larger than a pipe buffer is fed while output is read; output beyond 32 MiB is a wrong answer',
  { skip },
  async () => {
    const big = `${'7 '.repeat(300_000)}\n`;
    const echo = await judge('import sys\ndata = sys.stdin.read().split()\nprint(len(data))\nprint(" ".join(data))', [
      { input: big, outputs: [`300000\n${'7 '.repeat(300_000).trim()}`] },
    ]);
    assert.equal(echo.summary?.verdict, 'PASSED', echo.result.stderr);
    const flood = await judge('import sys\nchunk = "x" * 2 ** 20\nfor _ in range(40):\n    sys.stdout.write(chunk)', [
      { input: '', outputs: ['x'] },
    ]);
    assert.equal(flood.summary?.verdict, 'WRONG_ANSWER');
    assert.match(flood.result.stderr, /wrote more than 32 MiB on stdout/);
  },
);

test(
  'every test runs on a fresh copy: a program that deletes itself still runs on the next test',
  { skip },
  async () => {
    const { summary } = await judge('import os\nos.remove(__file__)\nprint(input())', [
      { input: '1', outputs: ['1'] },
      { input: '2', outputs: ['2'] },
    ]);
    assert.deepEqual(summary, { verdict: 'PASSED', tests: 2, outcomes: ['PASSED', 'PASSED'] });
  },
);

test(
  "the program cannot fake the driver's pass: not by printing its line, writing /proc/<driver>/fd/1 or killing it",
  { skip },
  async () => {
    const forged = 'codeloop-io-tests: {"verdict": "PASSED", "tests": 1, "outcomes": ["PASSED"]}';
    const printed = await judge(`print(${JSON.stringify(forged)})\nimport sys\nsys.exit(0)`, [
      { input: '', outputs: ['3'] },
    ]);
    assert.equal(printed.result.verdict, 'failed');
    assert.equal(printed.summary?.verdict, 'WRONG_ANSWER');
    assert.ok(!printed.result.stdout.includes('"PASSED"'), printed.result.stdout);

    const viaProc = await judge(
      `import os\ntry:\n    with open("/proc/%d/fd/1" % os.getppid(), "w") as out:\n        out.write(${JSON.stringify(`${forged}\n`)})\nexcept OSError as error:\n    print("blocked", type(error).__name__)\nprint(3)`,
      [{ input: '', outputs: ['blocked PermissionError\n3'] }],
    );
    assert.equal(viaProc.summary?.verdict, 'PASSED', viaProc.result.stderr);
    assert.equal(viaProc.result.stdout.split('\n').filter((line) => line.startsWith('codeloop-io-tests: ')).length, 1);

    // The driver is PID 1 of the execution's PID namespace, which a SIGKILL from inside it does not end.
    const killer = await judge('import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nprint(4)', [
      { input: '', outputs: ['3'] },
    ]);
    assert.equal(killer.result.verdict, 'failed');
    assert.equal(killer.summary?.verdict, 'WRONG_ANSWER');
  },
);

test(
  "the program finds the expected outputs nowhere: not in the driver file, the other runs' folders or /proc",
  { skip },
  async () => {
    // The attack of issue 13: read the driver's embedded test cases, pick the one whose input is on stdin, print its
    // expected output. Also looks for the secret in plain text anywhere in the execution's folders.
    const snoop = String.raw`import base64, json, os, re, sys
data = sys.stdin.read()
found = "clean"
for top in ("/work", "/tmp", "/dev/shm", "/var/tmp"):
    for folder, _, names in os.walk(top):
        for name in names:
            path = os.path.join(folder, name)
            try:
                with open(path, "rb") as handle:
                    text = handle.read()
            except OSError:
                continue
            for blob in re.findall(rb'b64decode\("([A-Za-z0-9+/=]+)"\)', text):
                for case in json.loads(base64.b64decode(blob))["cases"]:
                    if case["input"] == data:
                        found = case["outputs"][0]
            if found == "clean" and re.search(rb"k9q[0-9a-f]{16}", text):
                found = "leak in " + path
for pid in filter(str.isdigit, os.listdir("/proc")):
    for part in ("cmdline", "environ"):
        try:
            with open("/proc/%s/%s" % (pid, part), "rb") as handle:
                if re.search(rb"k9q[0-9a-f]{16}", handle.read()) and found == "clean":
                    found = "leak in /proc/%s/%s" % (pid, part)
        except OSError:
            pass
print(found)`;
    const secret = () => `k9q${randomBytes(8).toString('hex')}`;
    const { result, summary } = await judge(snoop, [
      { input: 'first\n', outputs: [secret()] },
      { input: 'second\n', outputs: [secret()] },
    ]);
    assert.equal(summary?.verdict, 'WRONG_ANSWER', `the snooping program passed: ${result.stderr}`);
    assert.match(result.stderr, /test 1 of 2: WRONG_ANSWER: expected 'k9q[0-9a-f]{16}', got 'clean'/);
  },
);

test(
  'syntax match (SAFIM evaluate.py): whitespace-free equality; Python calls by their arguments only',
  { skip },
  async () => {
    const cases: [string, string, string, boolean][] = [
      ['np.sum( grad , axis = 0 )', 'np.sum(grad, axis=0)', 'python', true],
      ['np.mean(grad, axis=0)', 'np.sum(grad, axis=0)', 'python', true], // the called function is not compared
      ['f(a, c=2, b=1)', 'f(a, b=1, c=2)', 'python', true], // keywords compare as a dict
      ['f(a, b=1)', 'f(a, 1)', 'python', false],
      ['"a b".split()', '"ab".split()', 'python', true], // whitespace goes inside strings too
      ['new JSONObject( data )', 'new JSONObject(data)', 'java', true],
      ['JSONObject(data)', 'new JSONObject(data)', 'java', false],
      ['f(a, c=2, b=1)', 'f(a, b=1, c=2)', 'java', false], // only Python gets the AST comparison
    ];
    for (const [completion, reference, language, match] of cases) {
      const result = await executor.run({
        language: 'python',
        code: syntaxMatchProgram({ completion, reference, language }),
        harness: 'exit-code',
      });
      assert.equal(
        result.verdict,
        match ? 'passed' : 'failed',
        `${completion} vs ${reference} (${language}): ${result.stderr}`,
      );
    }
    const unparsable = await executor.run({
      language: 'python',
      code: syntaxMatchProgram({ completion: 'f(', reference: 'f(x)', language: 'python', program: 'y = f(\n' }),
      harness: 'exit-code',
    });
    assert.equal(unparsable.reason, 'exited with code 1 (SyntaxMatchError: COMPILATION_ERROR)');
    assert.match(unparsable.stdout, /^codeloop-syntax-match: \{"match": false, "label": "COMPILATION_ERROR"\}\n$/);
  },
);
