import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveStrategy, sampleTemperature } from './strategy.js';

test('sampleTemperature: steps of 0.2 read 0.2, 0.4, 0.6, 0.8 (no 0.6000000000000001 in logs and progress)', () => {
  const strategy = resolveStrategy('resample', { temperature: 0.2, temperatureStep: 0.2, maxTemperature: 1 });
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5].map((index) => sampleTemperature(strategy, index)),
    [0.2, 0.4, 0.6, 0.8, 1, 1],
  );
});
