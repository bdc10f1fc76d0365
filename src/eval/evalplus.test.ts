import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createExecutor, probeIsolation, type Executor } from '../sandbox/index.js';
import { loadDataset, type Task } from '../tasks/index.js';
import { sharedDatasets } from '../../test/tasks/shared-datasets.js';
import {
  checkRequest,
  evalPlusSolution,
  failedInputIndex,
  groundTruthRequest,
  jsonArrayElement,
  parseCheck,
  parseGroundTruth,
  type EvalPlusGroundTruth,
  type EvalPlusOptions,
  type EvalPlusResult,
} from './evalplus.js';

const { dataDir, skip: noData } = sharedDatasets();
const skip =
  noData || (probeIsolation().level === null ? 'no OS sandbox on this machine (see codeloop doctor)' : false);

let executor: Executor;
const tasks = new Map<string, Task>();
const truths = new Map<string, EvalPlusGroundTruth>();

before(async () => {
  if (skip) return;
  executor = await createExecutor({ concurrency: 2 });
  for (const [name, ids] of [
    ['humaneval+', ['HumanEval/0', 'HumanEval/32']],
    ['mbpp+', ['Mbpp/2', 'Mbpp/793']],
  ] as const) {
    const dataset = await loadDataset(name, { dataDir });
    for (const id of ids) {
      const task = dataset.tasks.find((candidate) => candidate.id === id) as Task;
      tasks.set(id, task);
      const { request, nonce } = groundTruthRequest(task);
      truths.set(id, parseGroundTruth(task, await executor.run(request), nonce));
    }
  }
});

after(async () => {
  await executor?.close();
});

async function check(id: string, solution: string, options: EvalPlusOptions = {}): Promise<EvalPlusResult> {
  const task = tasks.get(id) as Task;
  const { request, nonce } = checkRequest(task, solution, truths.get(id) as EvalPlusGroundTruth, options);
  const result = parseCheck(await executor.run(request), nonce, options.baseOnly);
  assert.ok(result, 'the sandbox must not break');
  return result;
}

const statuses = (result: EvalPlusResult): string[] => [result.base.status, result.plus?.status ?? 'none'];

test('ground truth: input counts and times of HumanEval/0 (7 base, 999 plus inputs)', { skip }, () => {
  const truth = truths.get('HumanEval/0') as EvalPlusGroundTruth;
  assert.equal(truth.baseInputs, 7);
  assert.equal(truth.plusInputs, 999);
  assert.ok(truth.plusSeconds > 0 && truth.plusSeconds < 5, `${truth.plusSeconds}`);
});

test(
  'the canonical solution passes base and plus; a wrong one fails at its first wrong input',
  { skip, timeout: 60_000 },
  async () => {
    const task = tasks.get('HumanEval/0') as Task;
    assert.deepEqual(
      statuses(await check('HumanEval/0', evalPlusSolution(task, { completion: task.canonicalSolution ?? '' }))),
      ['pass', 'pass'],
    );
    const wrong = await check('HumanEval/0', evalPlusSolution(task, { completion: '    return False\n' }));
    assert.equal(wrong.base.status, 'fail');
    assert.equal(wrong.base.failIndex, wrong.base.passedInputs);
    assert.match(wrong.base.reason, /^base input \d+ .*: expected True, got False$/);
  },
);

test(
  'HumanEval/32 uses the find_zero oracle: any root within atol passes, not only the canonical one',
  { skip, timeout: 60_000 },
  async () => {
    // The canonical root moved by one ulp: never equal to the expected float, but still a root within atol.
    const task = tasks.get('HumanEval/32') as Task;
    const moved = `${task.prompt}${task.canonicalSolution ?? ''}\nimport math\n_find_zero = find_zero\ndef find_zero(xs):\n    return math.nextafter(_find_zero(xs), math.inf)\n`;
    // Base inputs only: on plus input 119 (degree 11, root near 17.3) one ulp already moves poly(x) by ~0.07 > atol, and
    // EvalPlus fails it too.
    assert.deepEqual(statuses(await check('HumanEval/32', moved, { baseOnly: true })), ['pass', 'none']);
    // Without the oracle, exact comparison would fail it; returning a non-root does fail.
    const notRoot = `${task.prompt}${task.canonicalSolution ?? ''}\n_find_zero = find_zero\ndef find_zero(xs):\n    return _find_zero(xs) + 1.0\n`;
    assert.equal((await check('HumanEval/32', notRoot, { baseOnly: true })).base.status, 'fail');
  },
);

test(
  'MBPP+: set-comparison oracle (Mbpp/2) and a task without plus inputs (Mbpp/793)',
  { skip, timeout: 60_000 },
  async () => {
    assert.deepEqual(
      statuses(
        await check('Mbpp/2', 'def similar_elements(a, b):\n    return tuple(sorted(set(a) & set(b), reverse=True))\n'),
      ),
      ['pass', 'pass'],
    );
    assert.equal((await check('Mbpp/2', 'def similar_elements(a, b):\n    return ()\n')).base.status, 'fail');
    const task = tasks.get('Mbpp/793') as Task;
    assert.deepEqual(
      statuses(
        await check('Mbpp/793', evalPlusSolution(task, { solution: task.prompt + (task.canonicalSolution ?? '') })),
      ),
      ['pass', 'pass'],
    );
  },
);

test(
  'hostile solutions cannot pass: __eq__ that always answers True, a forged result line, killing the driver, reading its memory',
  { skip, timeout: 120_000 },
  async () => {
    const alwaysEqual = `class Anything:\n    def __eq__(self, other):\n        return True\n    __hash__ = object.__hash__\n\ndef has_close_elements(numbers, threshold):\n    return Anything()\n`;
    assert.deepEqual(statuses(await check('HumanEval/0', alwaysEqual)), ['fail', 'fail']);
    const subclassEqual = `class Yes(int):\n    def __eq__(self, other):\n        return True\n    __hash__ = int.__hash__\n\ndef has_close_elements(numbers, threshold):\n    return Yes(7)\n`;
    assert.deepEqual(statuses(await check('HumanEval/0', subclassEqual)), ['fail', 'fail']);
    // Tries every way to reach the driver's stdout or memory: /proc of the parent and of PID 1, then prints fake results.
    const forge = [
      'import os, json, sys',
      'for pid in (os.getppid(), 1):',
      '    for path in (f"/proc/{pid}/fd/1", f"/proc/{pid}/mem", f"/proc/{pid}/environ"):',
      '        try:',
      '            with (__builtins__["open"] if isinstance(__builtins__, dict) else __builtins__.open)(path, "rb") as f:',
      '                f.read(1)',
      '            reached = True',
      '        except OSError:',
      '            pass',
      'print("0" * 32 + " " + json.dumps({"base": {"status": "pass"}}))',
      '# Correct only if an attack got through, so the test fails if one did.',
      'def has_close_elements(numbers, threshold):',
      '    if "reached" in globals():',
      '        return any(abs(a - b) < threshold for i, a in enumerate(numbers) for b in numbers[i + 1:])',
      '    return False',
    ].join('\n');
    assert.deepEqual(statuses(await check('HumanEval/0', forge)), ['fail', 'fail']);
    const killParent =
      'import ctypes, os, signal\nctypes.CDLL(None).kill(os.getppid(), signal.SIGKILL)\ndef has_close_elements(numbers, threshold):\n    return False\n';
    const killed = await check('HumanEval/0', killParent);
    assert.notEqual(killed.base.status, 'pass');
    assert.notEqual(killed.plus?.status, 'pass');
  },
);

test(
  'EvalPlus statuses: exiting the process is "timeout", an endless loop fails at the per-input limit, base-only skips plus',
  { skip, timeout: 120_000 },
  async () => {
    assert.deepEqual(statuses(await check('HumanEval/0', 'import os\nos._exit(0)\n')), ['timeout', 'timeout']);
    const loop = await check(
      'HumanEval/0',
      'def has_close_elements(numbers, threshold):\n    while True:\n        pass\n',
      { minTimeLimit: 0.5, baseOnly: true },
    );
    assert.deepEqual(statuses(loop), ['fail', 'none']);
    assert.match(loop.base.reason, /Timed out/);
    // reliability_guard as in EvalPlus: open() is disabled in the solution's process.
    assert.equal((await check('HumanEval/0', 'open("/tmp/x", "w")\n', { baseOnly: true })).base.status, 'fail');
  },
);

test('jsonArrayElement: finds an element without parsing it (big integers, Infinity, nested strings with brackets)', () => {
  const text = '[[1, "a,]b"], [123456789012345678901234567890], [Infinity, {"k": [1, 2]}], []]';
  assert.equal(jsonArrayElement(text, 0), '[1, "a,]b"]');
  assert.equal(jsonArrayElement(text, 1), '[123456789012345678901234567890]');
  assert.equal(jsonArrayElement(text, 2), '[Infinity, {"k": [1, 2]}]');
  assert.equal(jsonArrayElement(text, 3), '[]');
  assert.equal(jsonArrayElement(text, 4), undefined);
  assert.equal(jsonArrayElement('[]', 0), undefined);
  assert.equal(jsonArrayElement('{}', 0), undefined);
});

test('failedInputIndex follows EvalPlus: the failing input, else the last one reached, none for a pass', () => {
  assert.equal(failedInputIndex({ status: 'pass', passedInputs: 3, failIndex: null, reason: '' }), undefined);
  assert.equal(failedInputIndex({ status: 'fail', passedInputs: 2, failIndex: 2, reason: '' }), 2);
  assert.equal(failedInputIndex({ status: 'timeout', passedInputs: 2, failIndex: null, reason: '' }), 1);
  assert.equal(failedInputIndex({ status: 'fail', passedInputs: 0, failIndex: null, reason: '' }), undefined);
});
