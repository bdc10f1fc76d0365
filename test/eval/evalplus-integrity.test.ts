import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import {
  checkRequest,
  groundTruthRequest,
  parseCheck,
  parseGroundTruth,
  type EvalPlusGroundTruth,
  type EvalPlusResult,
} from '../../src/eval/evalplus.js';
import { createExecutor, type ExecutionResult, type Executor } from '../../src/sandbox/index.js';
import type { Task } from '../../src/tasks/index.js';
import { noSandbox } from './helpers.js';

// Attacks on the EvalPlus driver (issue 13): a solution that does not solve the task must never pass by reading the
// expected outputs, by faking its output's type, or break the run by what it makes the driver print.
const skip = noSandbox;
let executor: Executor;

/** A task whose expected output cannot be guessed: a salted hash of the input, known only to the ground truth. */
function secretTask(): Task {
  const salt = randomBytes(16).toString('hex');
  return {
    id: 'HumanEval/9001',
    dataset: 'test',
    language: 'python',
    prompt: 'def f(x):\n',
    entryPoint: 'f',
    tests: '',
    canonicalSolution: `    import hashlib\n    return "k9q" + hashlib.sha256(b"${salt}" + str(x).encode()).hexdigest()[:16]\n`,
    stopSequences: [],
    harness: 'completion',
    layout: 'human-eval',
    // One input, the same in both phases: the only expected value anywhere is the answer.
    plus: { baseInputJson: '[[1]]', plusInputJson: '[[1]]', atol: 0, contract: '' },
  };
}

function floatTask(): Task {
  return {
    ...secretTask(),
    id: 'HumanEval/9002',
    canonicalSolution: '    return [[1.5 * x, 1.5 * x]]\n',
    plus: { baseInputJson: '[[1]]', plusInputJson: '[[2]]', atol: 1e-6, contract: '' },
  };
}

before(async () => {
  if (!skip) executor = await createExecutor({ concurrency: 2 });
});
after(async () => {
  await executor?.close();
});

async function groundTruth(task: Task): Promise<EvalPlusGroundTruth> {
  const { request, nonce } = groundTruthRequest(task);
  return parseGroundTruth(task, await executor.run(request), nonce);
}

async function check(task: Task, solution: string): Promise<EvalPlusResult> {
  const { request, nonce } = checkRequest(task, solution, await groundTruth(task));
  const result = parseCheck(await executor.run(request), nonce);
  assert.ok(result, 'the sandbox must not break');
  return result;
}

// Looks everywhere a same-uid process can look for the expected output ("k9q…") and for anything shaped like the
// driver's nonce (32 hex digits): the files of the execution's folders, every process's command line and
// environment, its own environment. Returns the expected output when it finds it (the attack), else what it saw.
const SNOOP = String.raw`
import io, os, re

EXPECTED = re.compile(rb"k9q[0-9a-f]{16}")
NONCE = re.compile(rb"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])")

def _places():
    for top in ("/work", "/tmp", "/dev/shm", "/var/tmp", "/run"):
        for folder, _, names in os.walk(top):
            for name in names:
                yield os.path.join(folder, name)
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            yield "/proc/%s/cmdline" % pid
            yield "/proc/%s/environ" % pid

def f(x):
    nonce_like = []
    for path in _places():
        try:
            with io.open(path, "rb") as handle:
                data = handle.read(64 << 20)
        except OSError:
            continue
        found = EXPECTED.search(data)
        if found:
            return found.group().decode()
        if NONCE.search(data):
            nonce_like.append(path)
    environment = repr(dict(os.environ)).encode()
    found = EXPECTED.search(environment)
    if found:
        return found.group().decode()
    return "clean " + repr(sorted(nonce_like) + (["environ"] if NONCE.search(environment) else []))
`;

test(
  'EvalPlus: the solution finds neither the expected outputs nor the nonce anywhere it can look',
  { skip },
  async () => {
    const task = secretTask();
    const canonical = await check(task, task.prompt + (task.canonicalSolution as string));
    assert.equal(canonical.base.status, 'pass', canonical.base.reason);
    const result = await check(task, SNOOP);
    assert.equal(result.base.status, 'fail', `the snooping solution passed: ${result.base.reason}`);
    assert.match(result.base.reason, /got 'clean \[\]'$/);
  },
);

test('EvalPlus: a list subclass named builtins.float does not pass the float tolerance', { skip }, async () => {
  const task = { ...secretTask(), canonicalSolution: '    return 1.5 * x\n' };
  const fake =
    'class F(list):\n    pass\nF.__module__ = "builtins"\nF.__qualname__ = "float"\ndef f(x):\n    return F()\n';
  const result = await check(task, fake);
  assert.equal(result.base.status, 'fail', result.base.reason);
  // A real float within the tolerance still passes (EvalPlus's rule).
  const close = await check(task, 'def f(x):\n    return 1.5 * x + 1e-9\n');
  assert.equal(close.base.status, 'pass', close.base.reason);
});

test('EvalPlus: an output of another shape does not pass numpy.allclose by broadcasting', { skip }, async () => {
  const task = floatTask();
  const broadcast = await check(task, 'def f(x):\n    return [[1.5 * x]]\n');
  assert.equal(broadcast.base.status, 'fail', broadcast.base.reason);
  const close = await check(task, 'def f(x):\n    return [[1.5 * x + 1e-9, 1.5 * x]]\n');
  assert.deepEqual([close.base.status, close.plus?.status], ['pass', 'pass'], close.base.reason);
});

test('EvalPlus: a result whose text holds the nonce is read, not a crash of the host', () => {
  const nonce = 'a'.repeat(32);
  const reason = `base input 0: ValueError: ${nonce} {"base": ${nonce} ]`;
  const line = `${nonce} ${JSON.stringify({ base: { status: 'fail', passedInputs: 0, failIndex: 0, reason } })}`;
  const result = {
    verdict: 'passed',
    reason: 'exited with code 0',
    stdout: `${line}\n`,
    stderr: '',
  } as ExecutionResult;
  assert.equal(parseCheck(result, nonce, true)?.base.reason, reason);
  // A result line that is not JSON at all (the driver broke) is a failure of the sample, not an exception.
  const broken = { ...result, stdout: `${nonce} {"base": \n` } as ExecutionResult;
  const parsed = parseCheck(broken, nonce, true);
  assert.equal(parsed?.base.status, 'fail');
  assert.match(parsed?.base.reason ?? '', /unreadable result/);
});
