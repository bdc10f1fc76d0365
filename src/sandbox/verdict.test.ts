import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_LIMITS } from './limits.js';
import { classifyExecution, type RawExecution } from './verdict.js';

const raw = (overrides: Partial<RawExecution>): RawExecution => ({
  exitCode: 0,
  signal: null,
  timedOut: false,
  durationMs: 5,
  cpuMs: 4,
  peakMemoryKiB: 10_000,
  stdout: '',
  stderr: '',
  stdoutBytes: 0,
  stderrBytes: 0,
  control: [],
  status: [],
  ...overrides,
});
const context = { harness: 'exit-code' as const, limits: DEFAULT_LIMITS.python, oomKilled: false };

test('exit code 0 passes; non-zero fails with the exception named', () => {
  assert.deepEqual(classifyExecution(raw({}), context), { verdict: 'passed', reason: 'exited with code 0' });
  assert.deepEqual(classifyExecution(raw({ exitCode: 1, status: ['exception:AssertionError'] }), context), {
    verdict: 'failed',
    reason: 'exited with code 1 (AssertionError)',
    exception: 'AssertionError',
  });
  assert.equal(
    classifyExecution(raw({ exitCode: 1, stderr: 'x\nTypeError: bad thing\n' }), context).reason,
    'exited with code 1 (TypeError: bad thing)',
  );
});

test('a setup error is an infra error, whatever the exit code', () => {
  const result = classifyExecution(
    raw({ exitCode: 121, control: ['setup-error:mount /work failed: No space left on device'] }),
    context,
  );
  assert.equal(result.verdict, 'infra-error');
  assert.equal(result.reason, 'the sandbox could not run the program: mount /work failed: No space left on device');
  assert.equal(classifyExecution(raw({ setupError: 'supervisor: boom' }), context).verdict, 'infra-error');
});

test('time, memory and signals', () => {
  assert.equal(classifyExecution(raw({ timedOut: true, signal: 9 }), context).verdict, 'timed-out');
  assert.equal(
    classifyExecution(raw({ exitCode: null, signal: 24 }), context).verdict,
    'timed-out',
    'SIGXCPU is the CPU-time limit',
  );
  assert.equal(
    classifyExecution(raw({ exitCode: null, signal: 9 }), { ...context, oomKilled: true }).verdict,
    'memory-exceeded',
  );
  assert.equal(
    classifyExecution(raw({ exitCode: 1, status: ['exception:MemoryError'] }), context).verdict,
    'memory-exceeded',
  );
  assert.equal(
    classifyExecution(
      raw({
        exitCode: 134,
        stderr: 'FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory',
      }),
      context,
    ).verdict,
    'memory-exceeded',
  );
  assert.deepEqual(classifyExecution(raw({ exitCode: null, signal: 11 }), context), {
    verdict: 'crashed',
    reason: 'killed by SIGSEGV',
  });
});

test('the completion harness needs the end marker, not just exit code 0', () => {
  const completion = { ...context, harness: 'completion' as const };
  assert.equal(classifyExecution(raw({ status: ['completed'] }), completion).verdict, 'passed');
  assert.equal(classifyExecution(raw({ status: ['exited'] }), completion).verdict, 'failed');
  assert.match(classifyExecution(raw({ status: [] }), completion).reason, /ended the process before the end/);
});

test('verdict lines the program itself could write are not trusted', () => {
  // Written on the status channel (open while the program runs), these mean nothing: only the control channel counts.
  for (const line of ['setup-error:ENOMEM', 'compile-error', 'signal:24']) {
    assert.equal(classifyExecution(raw({ status: [line] }), context).verdict, 'passed', line);
  }
  assert.equal(
    classifyExecution(raw({ status: ['forged-marker'] }), { ...context, harness: 'completion' }).verdict,
    'failed',
  );
});

test('a compile error wins over the exit code', () => {
  assert.equal(
    classifyExecution(raw({ exitCode: 1, control: ['compile-error'], stderr: 'SyntaxError: invalid syntax' }), context)
      .reason,
    'SyntaxError: invalid syntax',
  );
});
