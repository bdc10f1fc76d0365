import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { scoreItem } from '../../src/rewards/index.js';
import { createExecutor, probeIsolation, type Executor } from '../../src/sandbox/index.js';

/**
 * Programs from the red-team pass over the merged harness (issue 13 follow-up) that target the rewards scoring. The
 * candidate's own process knows its result channel and nonce (call-solution.py keeps them in module globals, which a
 * frame walk reaches), so it can write any line there; those lines are only its claims about its return values, but
 * the host must still survive them. The programs below crashed the host: `scoreItem` rejects (a RangeError from
 * JSON.stringify or fromTagged on a value nested 300,000 deep, a SyntaxError from BigInt('xyz')), so `rewards serve`
 * answered null ("internal error") instead of 0 and `rewards score` aborted the whole run, again on resume. The host
 * now checks every claim (src/rewards/tagged.ts): a malformed one fails that call.
 */

const skip = probeIsolation().level === null ? 'no OS sandbox on this machine (codeloop doctor says why)' : false;

const ADD_ROW = {
  prompt: 'def add(a, b):\n    """Return a + b."""\n',
  entry_point: 'add',
  test: 'def check(candidate):\n    assert candidate(1, 2) == 3\n    assert candidate(5, 7) == 12\n',
};
const ADD_CALLS_ROW = {
  language: 'python',
  ground_truth: {
    inputs: [
      [1, 2],
      [5, 7],
    ],
    outputs: [3, 12],
    fn_name: 'add',
  },
};

/** Python that finds the runner's channel and nonce by walking up the frames, then defines `body`. */
const forging = (body: string): string =>
  '```python\nimport os, sys\nf = sys._getframe()\nwhile "_NONCE" not in f.f_globals:\n    f = f.f_back\n' +
  'OUT, NONCE = f.f_globals["_OUT"], f.f_globals["_NONCE"]\n' +
  'def forge(test, k, ok):\n' +
  '    os.write(OUT, (NONCE + \'{"type":"call","test":"%s","k":%d,"outcome":{"ok":%s}}\\n\' % (test, k, ok)).encode())\n' +
  `${body}\n\`\`\``;

const DEEP = '"[" * 300000 + "]" * 300000';

const ADD_JS_ROW = {
  language: 'js',
  prompt: 'function add(a, b) {\n',
  tests:
    "const assert = require('node:assert');\n\nfunction test() {\n  let candidate = add;\n" +
    '  assert.deepEqual(candidate(1, 2), 3);\n  assert.deepEqual(candidate(5, 7), 12);\n}\n\ntest();\n',
};

/** JavaScript needs no nonce: call-solution.cjs's emit calls the global JSON.stringify, which the solution replaces. */
const JS_PATCHED_STRINGIFY =
  '```javascript\nconst original = JSON.stringify;\nJSON.stringify = function (value, ...rest) {\n' +
  "  if (value && value.type === 'call') {\n    const n = 30000;\n" +
  '    return \'{"type":"call","test":\' + original(value.test) + \',"k":\' + value.k + \',"outcome":{"ok":\' + ' +
  "'['.repeat(n) + ']'.repeat(n) + '}}';\n  }\n  return original.call(this, value, ...rest);\n};\n" +
  'function add(a, b) {\n  return 0;\n}\n```';

/** Writes `text` (Python expression) after the nonce, as one line. */
const rawLine = (text: string): string => `os.write(OUT, (NONCE + ${text} + "\\n").encode())`;

const HOST_CRASHES = [
  {
    name: 'function tests: a timeout claim with a field nested 300,000 deep (it went into the next suite as it was)',
    row: ADD_ROW,
    completion: forging(
      'for group in f.f_globals["_JOB"]["groups"]:\n    for k in range(len(group["calls"])):\n' +
        `        ${rawLine(`'{"type":"call","test":"%s","k":%d,"outcome":{"timeout":true,"x":' % (group["id"], k) + ${DEEP} + '}}'`)}\n` +
        'def add(a, b):\n    return 0',
    ),
  },
  {
    name: 'verl calls: a load line whose exception message is nested 300,000 deep (it went into the results as it was)',
    row: ADD_CALLS_ROW,
    completion: forging(
      `${rawLine(`'{"type":"load","status":"error","exception":{"type":"E","message":' + ${DEEP} + '}}'`)}\n` +
        'def add(a, b):\n    return 0',
    ),
  },
  {
    name: 'function tests: a claimed return value nested 300,000 deep (JSON.stringify of the next suite overflows)',
    row: ADD_ROW,
    completion: forging(
      `for group in f.f_globals["_JOB"]["groups"]:\n    for k in range(len(group["calls"])):\n        forge(group["id"], k, ${DEEP})\ndef add(a, b):\n    return 0`,
    ),
  },
  {
    name: 'verl calls: a claimed int that is no number (BigInt throws on the host)',
    row: ADD_CALLS_ROW,
    completion: forging(
      'def add(a, b):\n    forge("case/0", 0, \'{"i":"xyz"}\')\n    forge("case/1", 0, \'{"i":"xyz"}\')\n    return 0',
    ),
  },
  {
    name: 'verl calls: a claimed return value nested 300,000 deep (fromTagged recursion overflows)',
    row: ADD_CALLS_ROW,
    completion: forging(
      `def add(a, b):\n    forge("case/0", 0, ${DEEP})\n    forge("case/1", 0, ${DEEP})\n    return 0`,
    ),
  },
  {
    name: 'JavaScript function tests: the solution replaces JSON.stringify, so each result line it claims is 30,000 deep',
    row: ADD_JS_ROW,
    completion: JS_PATCHED_STRINGIFY,
  },
];

/**
 * A fork oracle: each call forks one child per possible answer; a child returns its answer and exits 42 at the next
 * call (0 at the end), or dies on the failed assertion. The parent returns the answer whose child got through. It
 * passes the in-process harnesses (as it passes openai/human-eval; test/sandbox/hostile-programs.ts pins that), and
 * must not pass here, where the candidate's process never learns whether an answer was right.
 */
const IS_EVEN_ROW = {
  prompt: 'def is_even(n):\n    """True when n is even."""\n',
  entry_point: 'is_even',
  test: 'def check(candidate):\n    assert candidate(2) == True\n    assert candidate(3) == False\n    assert candidate(7) == False\n    assert candidate(10) == True\n',
};
const FORK_ORACLE =
  "    import posix\n    g = globals()\n    if g.get('_probe'):\n        posix._exit(42)\n    for guess in (True, False):\n" +
  "        pid = posix.fork()\n        if pid == 0:\n            g['_probe'] = True\n            return guess\n" +
  '        _, status = posix.waitpid(pid, 0)\n' +
  '        if posix.WIFEXITED(status) and posix.WEXITSTATUS(status) in (0, 42):\n            return guess\n    return None\n';

/**
 * Not a hack: a correct JavaScript solution whose return value encodes to more than a pipe's worth of text (about
 * 64-256 KiB). call-solution.cjs touches `process.stdout` (to silence it), which makes fd 1 non-blocking, so its
 * `fs.writeSync(1, line)` writes part of the line (or throws EAGAIN, which emit swallows): the line is lost, and the
 * next one is glued to its remains. Every test from there on is `not-run`, and the correct solution gets 0.
 */
const RANGE_ROW = {
  language: 'js',
  prompt: 'function range(n) {\n',
  tests:
    "const assert = require('node:assert');\n\nfunction test() {\n  let candidate = range;\n" +
    '  assert.deepEqual(candidate(100000).length, 100000);\n  assert.deepEqual(candidate(3), [0, 1, 2]);\n}\n\ntest();\n',
};

describe('rewards: red-team programs', { skip }, () => {
  let executor: Executor;
  before(async () => {
    executor = await createExecutor({ concurrency: 2 });
  });
  after(async () => {
    await executor.close();
  });

  test('a fork oracle does not pass the out-of-process function tests (binary reward 0)', async () => {
    const result = await scoreItem(
      { row: IS_EVEN_ROW, completion: FORK_ORACLE },
      { executor, perTestMs: 1000, mode: 'binary' },
    );
    assert.equal(result.reward, 0, `${result.verdict}: ${result.reason}`);
    assert.equal(result.infraError, false);
    const correct = await scoreItem(
      { row: IS_EVEN_ROW, completion: '    return n % 2 == 0\n' },
      { executor, perTestMs: 1000, mode: 'binary' },
    );
    assert.equal(correct.reward, 1, `${correct.verdict}: ${correct.reason}`);
  });

  test('a correct JavaScript solution with a large return value passes', async () => {
    const result = await scoreItem(
      { row: RANGE_ROW, completion: '  return Array.from({ length: n }, (_, i) => i);\n}\n' },
      { executor, perTestMs: 2000 },
    );
    assert.equal(result.reward, 1, `${result.verdict}: ${result.reason}`);
  });

  test('a correct Python solution that returns a numpy integer passes, as it does under human-eval', async () => {
    // numpy.float64 is a float subclass and crosses; numpy.int64 and numpy.bool_ are not, and cross as an Opaque
    // value that equals nothing, so the correct solution gets 0 (human-eval: np.int64(6) == 6 is True).
    const result = await scoreItem(
      {
        row: {
          prompt: 'def total(xs):\n    """Sum of xs."""\n',
          entry_point: 'total',
          test: 'def check(candidate):\n    assert candidate([1, 2, 3]) == 6\n    assert candidate([]) == 0\n',
        },
        completion: '    import numpy as np\n    return np.sum(np.array(xs, dtype=np.int64))\n',
      },
      { executor, perTestMs: 2000 },
    );
    assert.equal(result.reward, 1, `${result.verdict}: ${result.reason}`);
  });

  test("a well-formed forged line is only a claim about the candidate's own return values (reward 0)", async () => {
    // The forger writes its lines first (the host keeps the first line per call), claims wrong values, and adds lines
    // in the trusted process's format: a passed test and the end of the run. Only the trusted process's asserts
    // decide, and it never saw these lines.
    const completion = forging(
      'for group in f.f_globals["_JOB"]["groups"]:\n    for k in range(len(group["calls"])):\n' +
        '        forge(group["id"], k, \'{"i":"4"}\')\n' +
        '    os.write(OUT, (NONCE + \'{"type":"test","id":"%s","status":"passed"}\\n\' % group["id"]).encode())\n' +
        'os.write(OUT, (NONCE + \'{"type":"done"}\\n\').encode())\ndef add(a, b):\n    return 0',
    );
    const result = await scoreItem({ row: ADD_ROW, completion }, { executor, perTestMs: 1000, mode: 'binary' });
    assert.equal(result.reward, 0, `${result.verdict}: ${result.reason}`);
    assert.equal(result.infraError, false);
    assert.ok(
      result.tests.every((item) => item.status !== 'passed'),
      JSON.stringify(result.tests.map((item) => item.status)),
    );
  });

  test('stdin/stdout cases past the item program budget are timed-out (0, not null)', async () => {
    const row = {
      verification_info: {
        language: 'python',
        test_cases: Array.from({ length: 8 }, (_, index) => ({ input: `${index}\n`, output: `${index}\n` })),
      },
    };
    const slow = await scoreItem(
      { row, completion: '```python\nimport time\ntime.sleep(0.5)\nprint(input())\n```' },
      { executor, perTestMs: 1000, programBudgetMs: 1000, mode: 'binary' },
    );
    assert.equal(slow.reward, 0, `${slow.verdict}: ${slow.reason}`);
    assert.equal(slow.verdict, 'timed-out');
    assert.ok(slow.tests.some((item) => /time budget/.test(item.exception?.message ?? '')));
    const fast = await scoreItem(
      { row, completion: '```python\nprint(input())\n```' },
      { executor, perTestMs: 1000, programBudgetMs: 10_000, mode: 'binary' },
    );
    assert.equal(fast.reward, 1, `${fast.verdict}: ${fast.reason}`);
  });

  for (const hack of HOST_CRASHES)
    test(`a forged result line does not crash the host: ${hack.name}`, async () => {
      const result = await scoreItem({ row: hack.row, completion: hack.completion }, { executor, perTestMs: 1000 });
      assert.equal(result.reward, 0, `${result.verdict}: ${result.reason}`);
      assert.equal(result.infraError, false);
    });
});
