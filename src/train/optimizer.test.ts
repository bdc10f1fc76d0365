import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { adamWStep, clipGradientNorm, createAdamWState, learningRate } from './optimizer.js';

test('AdamW minimises a quadratic; norm groups get no weight decay', () => {
  const params = Float32Array.from([3, -2, 1]);
  const state = createAdamWState(3);
  const groups = [
    { name: 'w', offset: 0, size: 2, decay: true },
    { name: 'norm', offset: 2, size: 1, decay: false },
  ];
  for (let step = 0; step < 500; step++) {
    const grad = Float32Array.from([2 * params[0]!, 2 * params[1]!, 0]); // d/dx of x² (the norm has zero gradient)
    adamWStep(params, grad, state, groups, 0.05, { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 });
  }
  assert.ok(Math.abs(params[0]!) < 0.05 && Math.abs(params[1]!) < 0.05, `${params}`);
  assert.equal(params[2], 1);
});

test('gradient clipping scales to the max norm and reports the norm before', () => {
  const grad = Float32Array.from([3, 4]);
  assert.equal(clipGradientNorm(grad, 1), 5);
  assert.ok(Math.abs(Math.hypot(grad[0]!, grad[1]!) - 1) < 1e-6);
  const small = Float32Array.from([0.3, 0.4]);
  clipGradientNorm(small, 1);
  assert.deepEqual([...small], [Math.fround(0.3), Math.fround(0.4)]);
});

test('learning rate: linear warmup, cosine to the floor, then flat', () => {
  const schedule = { peak: 1, warmupSteps: 10, totalSteps: 110, floorFraction: 0.1 };
  assert.equal(learningRate(0, schedule), 0.1);
  assert.equal(learningRate(9, schedule), 1);
  assert.ok(Math.abs(learningRate(60, schedule) - 0.55) < 1e-9);
  assert.ok(Math.abs(learningRate(110, schedule) - 0.1) < 1e-9);
  assert.ok(Math.abs(learningRate(500, schedule) - 0.1) < 1e-9);
});

test('checkpoints round-trip weights, Adam moments and the header', () => {
  const dir = mkdtempSync(join(tmpdir(), 'codeloop-checkpoint-'));
  try {
    const params = Float32Array.from({ length: 37 }, (_, i) => i / 7);
    const adam = { m: params.map((x) => -x), v: params.map((x) => x * x), t: 12 };
    const config = {
      vocabSize: 16,
      dim: 4,
      layers: 1,
      heads: 2,
      ffDim: 8,
      contextLength: 8,
      ropeTheta: 10000,
      normEps: 1e-5,
      tiedEmbeddings: true,
    };
    saveCheckpoint(join(dir, 'c.bin'), {
      header: { version: 1, config, step: 12, tokensSeen: 96, adamT: 12, seed: 3, train: { a: 1 }, savedAt: 'now' },
      params,
      adam,
    });
    const loaded = loadCheckpoint(join(dir, 'c.bin'));
    assert.deepEqual(loaded.header.config, config);
    assert.equal(loaded.header.step, 12);
    assert.deepEqual(loaded.params, params);
    assert.deepEqual(loaded.adam.m, adam.m);
    assert.deepEqual(loaded.adam.v, adam.v);
    assert.equal(loaded.adam.t, 12);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
