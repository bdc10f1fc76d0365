import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_LIMITS, type ExecutionResult } from '../sandbox/index.js';
import { JOB_FORMAT, canonicalJob, fitResult, jobKey, parseJob, parseResult } from './protocol.js';

test('jobKey: the same program under the same resolved limits is one job, whatever the spelling', () => {
  const a = jobKey(canonicalJob({ language: 'python', code: 'print(1)', files: { b: '2', a: '1' } }));
  const b = jobKey(
    canonicalJob({
      language: 'python',
      code: 'print(1)',
      files: { a: '1', b: '2' },
      limits: { wallMs: DEFAULT_LIMITS.python.wallMs },
      harness: 'exit-code',
      args: [],
    }),
  );
  assert.equal(a, b);
  assert.match(a, /^[0-9a-f]{64}$/);
});

test('jobKey: a different program, limit or harness is a different job', () => {
  const base = jobKey(canonicalJob({ language: 'python', code: 'print(1)' }));
  assert.notEqual(jobKey(canonicalJob({ language: 'python', code: 'print(2)' })), base);
  assert.notEqual(jobKey(canonicalJob({ language: 'python', code: 'print(1)', limits: { wallMs: 1000 } })), base);
  assert.notEqual(jobKey(canonicalJob({ language: 'python', code: 'print(1)', harness: 'human-eval' })), base);
});

test('canonicalJob: limits are resolved, so every worker runs the producer limits', () => {
  const job = canonicalJob({ language: 'javascript', code: '1', limits: { memoryMiB: 256 } });
  assert.equal(job.format, JOB_FORMAT);
  assert.deepEqual(job.request.limits, { ...DEFAULT_LIMITS.javascript, memoryMiB: 256 });
});

test('parseJob refuses what is not a job of this format, naming why', () => {
  assert.deepEqual(parseJob(null), { refused: 'the job data is not an object' });
  assert.match((parseJob({ format: 'x/0' }) as { refused: string }).refused, /job format "x\/0" is not/);
  const good = canonicalJob({ language: 'python', code: 'print(1)' });
  assert.deepEqual(parseJob(good), { request: good.request });
  const badLanguage = { ...good, request: { ...good.request, language: 'cobol' } };
  assert.match((parseJob(badLanguage) as { refused: string }).refused, /language "cobol" is not one of/);
  const badLimit = { ...good, request: { ...good.request, limits: { ...good.request.limits, wallMs: 0 } } };
  assert.match((parseJob(badLimit) as { refused: string }).refused, /Limit wallMs=0 is out of range/);
});

test('fitResult cuts stdout/stderr from the front until the result fits; byte counts stay', () => {
  const result: ExecutionResult = {
    verdict: 'failed',
    reason: 'exited with code 1',
    exitCode: 1,
    signal: null,
    durationMs: 5,
    cpuMs: 4,
    peakMemoryKiB: null,
    stdout: `${'a'.repeat(20_000)}END`,
    stderr: 'Traceback',
    stdoutBytes: 20_003,
    stderrBytes: 9,
    isolation: 'none',
    limits: DEFAULT_LIMITS.python,
  };
  const fitted = fitResult(result, 4096);
  assert.ok(Buffer.byteLength(JSON.stringify(fitted)) <= 4096);
  assert.ok(fitted.stdout.endsWith('END'));
  assert.equal(fitted.stdoutBytes, 20_003);
  assert.equal(fitted.verdict, 'failed');
  assert.equal(fitResult(result, 1_000_000), result);
  assert.equal(parseResult(fitted), fitted);
  assert.equal(parseResult({ verdict: 'great' }), undefined);
});
