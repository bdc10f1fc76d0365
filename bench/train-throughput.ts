/**
 * How fast does the embedded-model trainer train on this CPU? Runs full training steps (forward, backward, AdamW)
 * of a model config on random tokens and prints tokens/s, achieved matmul FLOP/s, and MFU against the peak Gemm
 * FLOP/s of the same ORT build measured in this same process, plus CPU-seconds per step (the load-independent
 * figure on a shared machine) and the load average.
 * Usage: node dist/bench/train-throughput.js [--dim 192] [--layers 4] [--heads 6] [--ff 512] [--vocab 4096]
 *        [--context 256] [--batch 16] [--steps 5] [--threads 2] [--untied]
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { parseArgs } from 'node:util';
import {
  createRandom,
  initParameters,
  LlamaModel,
  parameterCount,
  parameterGroups,
  trainingFlopsPerToken,
  type ModelConfig,
} from '../src/train/model.js';
import { OnnxKernels } from '../src/train/onnx-matmul.js';
import { adamWStep, clipGradientNorm, createAdamWState } from '../src/train/optimizer.js';

// defaults: the shipped configuration (src/train/defaults.ts)
const { values } = parseArgs({
  options: {
    dim: { type: 'string', default: '192' },
    layers: { type: 'string', default: '4' },
    heads: { type: 'string', default: '6' },
    ff: { type: 'string', default: '512' },
    vocab: { type: 'string', default: '4096' },
    context: { type: 'string', default: '256' },
    batch: { type: 'string', default: '16' },
    steps: { type: 'string', default: '5' },
    threads: { type: 'string', default: '2' },
    untied: { type: 'boolean', default: false },
  },
});
const config: ModelConfig = {
  vocabSize: Number(values.vocab),
  dim: Number(values.dim),
  layers: Number(values.layers),
  heads: Number(values.heads),
  ffDim: Number(values.ff),
  contextLength: Number(values.context),
  ropeTheta: 10000,
  normEps: 1e-5,
  tiedEmbeddings: !values.untied,
};
const B = Number(values.batch);
const T = config.contextLength;
const kernels = new OnnxKernels({ threads: Number(values.threads) });
const peak = await kernels.measurePeakFlops();
const params = initParameters(config, 1);
const model = new LlamaModel(config, params, kernels);
const grad = new Float32Array(params.length);
const state = createAdamWState(params.length);
const groups = parameterGroups(config);
const random = createRandom(5);
const inputs = Int32Array.from({ length: B * T }, () => Math.floor(random.next() * config.vocabSize));
const targets = Int32Array.from({ length: B * T }, () => Math.floor(random.next() * config.vocabSize));
const weights = new Float32Array(B * T).fill(1);
const times: number[] = [];
const cpuTimes: number[] = [];
for (let step = 0; step < Number(values.steps) + 1; step++) {
  const start = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  await model.lossAndGradient(inputs, targets, weights, B, T, grad);
  clipGradientNorm(grad, 1);
  adamWStep(params, grad, state, groups, 1e-3, { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpuStart);
  if (step > 0) {
    times.push(seconds); // step 0 builds the ORT sessions
    cpuTimes.push((cpu.user + cpu.system) / 1e6);
  }
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)]!;
const tokensPerSecond = (B * T) / median;
const achieved = tokensPerSecond * trainingFlopsPerToken(config);
let commit = 'unknown';
try {
  commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
} catch {}
console.log(
  JSON.stringify(
    {
      commit,
      cpu: os.cpus()[0]?.model,
      cores: os.cpus().length,
      loadAverage: os.loadavg().map((value) => Number(value.toFixed(2))),
      config,
      params: parameterCount(config),
      batch: B,
      stepSecondsMedian: Number(median.toFixed(3)),
      // CPU-seconds per step (all threads): independent of how much of the machine other processes take
      cpuSecondsPerStepMedian: Number([...cpuTimes].sort((a, b) => a - b)[Math.floor(cpuTimes.length / 2)]!.toFixed(3)),
      tokensPerSecond: Math.round(tokensPerSecond),
      achievedGflops: Number((achieved / 1e9).toFixed(1)),
      peakGflops: Number((peak.flops / 1e9).toFixed(1)),
      peakShape: peak.shape,
      mfu: Number((achieved / peak.flops).toFixed(3)),
      tokensIn2Hours: Math.round(tokensPerSecond * 7200),
    },
    null,
    2,
  ),
);
await kernels.release();
