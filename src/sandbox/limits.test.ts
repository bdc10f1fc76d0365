import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_LIMITS, resolveLimits } from './limits.js';

test('defaults per language, overrides per field', () => {
  assert.equal(resolveLimits('python').wallMs, 3000);
  assert.equal(resolveLimits('javascript').wallMs, 5000);
  assert.deepEqual(resolveLimits('python', { memoryMiB: 256 }), { ...DEFAULT_LIMITS.python, memoryMiB: 256 });
});

test('the CPU backstop never fires before the wall clock', () => {
  assert.equal(resolveLimits('python', { wallMs: 30_000, cpuSeconds: 2 }).cpuSeconds, 31);
});

test('out-of-range and unknown limits name the value and the fix', () => {
  assert.throws(() => resolveLimits('python', { memoryMiB: 1 }), {
    name: 'UsageError',
    message: 'Limit memoryMiB=1 is out of range: use a number from 16 to 65536.',
  });
  assert.throws(() => resolveLimits('python', { wallMs: Number.NaN }), { message: /wallMs=NaN is out of range/ });
  assert.throws(() => resolveLimits('python', { bogus: 1 } as never), {
    message: /Unknown limit "bogus"\. Known limits: wallMs, cpuSeconds/,
  });
});
