import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createRandom, initParameters, LlamaModel, parameterGroups, type ModelConfig } from './model.js';
import { OnnxKernels } from './onnx-matmul.js';

const kernels = new OnnxKernels({ threads: 1 });
after(() => kernels.release());

function tinyConfig(tiedEmbeddings: boolean): ModelConfig {
  return {
    vocabSize: 13,
    dim: 8,
    layers: 2,
    heads: 2,
    ffDim: 12,
    contextLength: 5,
    ropeTheta: 10000,
    normEps: 1e-5,
    tiedEmbeddings,
  };
}

function batch(config: ModelConfig, B: number, T: number, seed: number) {
  const random = createRandom(seed);
  const inputs = Int32Array.from({ length: B * T }, () => Math.floor(random.next() * config.vocabSize));
  const targets = Int32Array.from({ length: B * T }, () => Math.floor(random.next() * config.vocabSize));
  // one ignored position (padding), so masking is checked too
  const weights = Float32Array.from({ length: B * T }, (_, i) => (i === B * T - 1 ? 0 : 1));
  return { inputs, targets, weights };
}

for (const tied of [true, false]) {
  test(`gradient check: every parameter kind matches central finite differences (${tied ? 'tied' : 'untied'} output)`, async () => {
    const config = tinyConfig(tied);
    const B = 2;
    const T = 5;
    // A large init scale makes gradients big next to float32 noise in the loss.
    const params = initParameters(config, 7, 0.4);
    // Non-unit norm weights, so their gradients are not trivially symmetric.
    const random = createRandom(99);
    for (const group of parameterGroups(config)) {
      if (!group.decay) for (let i = 0; i < group.size; i++) params[group.offset + i] = 0.5 + random.next();
    }
    const model = new LlamaModel(config, params, kernels);
    const { inputs, targets, weights } = batch(config, B, T, 3);
    const grad = new Float32Array(params.length);
    const result = await model.lossAndGradient(inputs, targets, weights, B, T, grad);
    assert.equal(result.count, B * T - 1);
    const lossAt = async (): Promise<number> => (await model.loss(inputs, targets, weights, B, T)).loss;
    assert.ok(Math.abs((await lossAt()) - result.loss) < 1e-5, 'loss() and lossAndGradient() agree');

    const eps = 1e-2;
    for (const group of parameterGroups(config)) {
      // Directional derivative along a random direction restricted to this group, and per element for the
      // three largest gradient entries.
      const direction = new Float32Array(group.size).map(() => random.normal());
      const norm = Math.hypot(...direction);
      let analytic = 0;
      for (let i = 0; i < group.size; i++) {
        direction[i]! /= norm;
        analytic += grad[group.offset + i]! * direction[i]!;
      }
      const shift = (sign: number): void => {
        for (let i = 0; i < group.size; i++) params[group.offset + i]! += sign * eps * direction[i]!;
      };
      shift(1);
      const plus = await lossAt();
      shift(-2);
      const minus = await lossAt();
      shift(1);
      const numeric = (plus - minus) / (2 * eps);
      const scale = Math.max(1e-3, Math.abs(numeric), Math.abs(analytic));
      if (process.env['GRADCHECK_VERBOSE']) console.log(group.name, numeric, analytic);
      assert.ok(
        Math.abs(numeric - analytic) / scale < 0.03,
        `${group.name}: directional derivative numeric ${numeric} vs analytic ${analytic}`,
      );

      const largest = [...grad.subarray(group.offset, group.offset + group.size).keys()]
        .sort((a, b) => Math.abs(grad[group.offset + b]!) - Math.abs(grad[group.offset + a]!))
        .slice(0, 3);
      for (const index of largest) {
        const at = group.offset + index;
        const saved = params[at]!;
        params[at] = saved + eps;
        const up = await lossAt();
        params[at] = saved - eps;
        const down = await lossAt();
        params[at] = saved;
        const elementNumeric = (up - down) / (2 * eps);
        const elementScale = Math.max(1e-3, Math.abs(elementNumeric));
        assert.ok(
          Math.abs(elementNumeric - grad[at]!) / elementScale < 0.03,
          `${group.name}[${index}]: numeric ${elementNumeric} vs analytic ${grad[at]}`,
        );
      }
    }
  });
}

test('gradient check negative control: a wrong gradient is caught by the same comparison', async () => {
  const config = tinyConfig(true);
  const params = initParameters(config, 7, 0.4);
  const model = new LlamaModel(config, params, kernels);
  const { inputs, targets, weights } = batch(config, 2, 5, 3);
  const grad = new Float32Array(params.length);
  await model.lossAndGradient(inputs, targets, weights, 2, 5, grad);
  const group = parameterGroups(config).find((candidate) => candidate.name === 'layers.0.wqkv')!;
  const at =
    group.offset +
    [...grad.subarray(group.offset, group.offset + group.size).keys()].sort(
      (a, b) => Math.abs(grad[group.offset + b]!) - Math.abs(grad[group.offset + a]!),
    )[0]!;
  const eps = 1e-2;
  const saved = params[at]!;
  params[at] = saved + eps;
  const up = (await model.loss(inputs, targets, weights, 2, 5)).loss;
  params[at] = saved - eps;
  const down = (await model.loss(inputs, targets, weights, 2, 5)).loss;
  params[at] = saved;
  const numeric = (up - down) / (2 * eps);
  // the analytic gradient with its sign flipped must fail the 3% test
  assert.ok(Math.abs(numeric - -grad[at]!) / Math.max(1e-3, Math.abs(numeric)) > 0.03);
});

test('causality: changing a later token does not change earlier logits', async () => {
  const config = tinyConfig(false);
  const model = new LlamaModel(config, initParameters(config, 1, 0.4), kernels);
  const inputs = Int32Array.from([1, 2, 3, 4, 5]);
  const before = await model.logits(inputs, 1, 5);
  inputs[4] = 9;
  const afterChange = await model.logits(inputs, 1, 5);
  const V = config.vocabSize;
  for (let i = 0; i < 4 * V; i++) assert.ok(Math.abs(before[i]! - afterChange[i]!) < 1e-6);
  assert.ok([...Array(V).keys()].some((j) => Math.abs(before[4 * V + j]! - afterChange[4 * V + j]!) > 1e-4));
});
