/**
 * Step 3–4: the training loop. Loads (or starts) the run's checkpoint, trains until the token budget, a wall-clock
 * deadline or an abort, checkpoints every `checkpointEverySeconds` and at the end, and appends one JSON line per
 * logged step to log.jsonl (train loss, lr, grad norm, tokens/s, MFU; held-out loss every `evalEvery` steps).
 * Resume = run it again on the same directory.
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { loadCheckpoint, saveCheckpoint, type Checkpoint, type TrainingPhase } from './checkpoint.js';
import { DataLoader, evaluationWindows } from './data-loader.js';
import type { TrainDefaults } from './defaults.js';
import {
  initParameters,
  LlamaModel,
  parameterCount,
  parameterGroups,
  trainingFlopsPerToken,
  type ModelConfig,
} from './model.js';
import { OnnxKernels } from './onnx-matmul.js';
import { adamWStep, clipGradientNorm, createAdamWState, learningRate } from './optimizer.js';
import { readStream, readTokenizer } from './token-data.js';

export interface TrainRunOptions {
  /** Stop (after checkpointing) at this time. */
  until?: Date;
  /** Stop after this many steps in this invocation. */
  maxSteps?: number;
  signal?: AbortSignal;
  onLog?: (message: string) => void;
}

export interface TrainRunResult {
  step: number;
  tokensSeen: number;
  finished: boolean;
  lastTrainLoss: number | undefined;
  lastHeldOutLoss: number | undefined;
  tokensPerSecond: number;
}

export interface LogRecord {
  step: number;
  tokens: number;
  trainLoss: number;
  lr: number;
  gradNorm: number;
  tokensPerSecond: number;
  mfu: number;
  elapsedSeconds: number;
  loadAverage: number;
  heldOutLoss?: number;
}

export function checkpointPath(runDir: string): string {
  return join(runDir, 'checkpoint.bin');
}

export function totalSteps(defaults: TrainDefaults): number {
  return Math.ceil(defaults.train.totalTokens / (defaults.train.batchSize * defaults.model.contextLength));
}

export async function trainRun(
  runDir: string,
  defaults: TrainDefaults,
  options: TrainRunOptions = {},
): Promise<TrainRunResult> {
  const log = options.onLog ?? (() => {});
  const { train, model: modelDefaults } = defaults;
  const tokenizer = readTokenizer(join(runDir, 'tokenizer.json'));
  const config: ModelConfig = { ...modelDefaults, vocabSize: tokenizer.vocabSize };
  const B = train.batchSize;
  const T = config.contextLength;
  const steps = totalSteps(defaults);
  const path = checkpointPath(runDir);

  let checkpoint: Checkpoint;
  if (existsSync(path)) {
    checkpoint = loadCheckpoint(path);
    if (JSON.stringify(checkpoint.header.config) !== JSON.stringify(config)) {
      throw new Error(
        `checkpoint ${path} has model config ${JSON.stringify(checkpoint.header.config)}, but this run asks for ` +
          `${JSON.stringify(config)}; use a new run directory`,
      );
    }
    log(`resuming at step ${checkpoint.header.step} (${checkpoint.header.tokensSeen} tokens)`);
  } else {
    const params = initParameters(config, train.seed);
    checkpoint = {
      header: {
        version: 1,
        config,
        step: 0,
        tokensSeen: 0,
        adamT: 0,
        seed: train.seed,
        train: { ...train },
        savedAt: new Date().toISOString(),
      },
      params,
      adam: createAdamWState(params.length),
    };
    log(`new run: ${parameterCount(config)} parameters, ${steps} steps of ${B}×${T} tokens`);
  }

  const phases = (checkpoint.header.phases ??=
    checkpoint.header.step > 0
      ? [
          {
            fromStep: 0,
            totalTokens: Number(checkpoint.header.train['totalTokens']),
            learningRate: Number(checkpoint.header.train['learningRate']),
            data: null,
            startedAt: null,
          },
        ]
      : []);
  const phase: TrainingPhase = {
    fromStep: checkpoint.header.step,
    totalTokens: train.totalTokens,
    learningRate: train.learningRate,
    data: { ...defaults.data },
    startedAt: new Date().toISOString(),
  };
  const current = phases.at(-1);
  // (a phase whose data settings were not recorded counts as different: resuming such a checkpoint records one)
  if (
    !current ||
    current.totalTokens !== phase.totalTokens ||
    current.learningRate !== phase.learningRate ||
    JSON.stringify(current.data) !== JSON.stringify(phase.data)
  ) {
    phases.push(phase);
    if (current)
      log(
        `new training phase from step ${phase.fromStep}: ` +
          `${JSON.stringify({ totalTokens: phase.totalTokens, learningRate: phase.learningRate, data: phase.data })}`,
      );
  }

  const kernels = new OnnxKernels({ threads: train.threads });
  const peak = await kernels.measurePeakFlops();
  const runInfoPath = join(runDir, 'run.json');
  const runInfo = existsSync(runInfoPath)
    ? (JSON.parse(readFileSync(runInfoPath, 'utf8')) as Record<string, unknown>)
    : {};
  writeFileSync(
    runInfoPath,
    JSON.stringify(
      {
        ...runInfo,
        config,
        defaults,
        phases,
        parameters: parameterCount(config),
        peakGflops: peak.flops / 1e9,
        peakShape: peak.shape,
        cpu: os.cpus()[0]?.model,
        cores: os.cpus().length,
        updatedAt: new Date().toISOString(),
      },
      null,
      2,
    ) + '\n',
  );
  log(`ORT peak matmul: ${(peak.flops / 1e9).toFixed(1)} GFLOP/s at ${peak.shape.join('×')}`);

  const model = new LlamaModel(config, checkpoint.params, kernels);
  const groups = parameterGroups(config);
  const grad = new Float32Array(checkpoint.params.length);
  const loader = new DataLoader(
    readStream(join(runDir, 'tokens', 'train.bin')),
    tokenizer,
    B,
    T,
    defaults.data,
    train.seed,
  );
  const heldOutStreams = ['typescript', 'javascript', 'python'].map((language) =>
    readStream(join(runDir, 'tokens', `heldout-${language}.bin`)),
  );
  const perLanguage = Math.max(1, Math.ceil(train.evalSequences / 3));
  const heldOut = heldOutStreams
    .map((stream) => evaluationWindows(stream, T, perLanguage))
    .filter((windows) => windows.B > 0);
  const flopsPerToken = trainingFlopsPerToken(config);
  const schedule = {
    peak: train.learningRate,
    warmupSteps: train.warmupSteps,
    totalSteps: steps,
    floorFraction: train.minLearningRateFraction,
  };
  const logPath = join(runDir, 'log.jsonl');

  const heldOutLoss = async (): Promise<number> => {
    let sum = 0;
    let count = 0;
    for (const windows of heldOut) {
      const result = await model.loss(windows.inputs, windows.targets, windows.weights, windows.B, T);
      sum += result.loss * result.count;
      count += result.count;
    }
    return count > 0 ? sum / count : Number.NaN;
  };

  const save = (): void => {
    checkpoint.header.adamT = checkpoint.adam.t;
    checkpoint.header.savedAt = new Date().toISOString();
    saveCheckpoint(path, checkpoint);
  };

  let lastCheckpoint = Date.now();
  let lastTrainLoss: number | undefined;
  let lastHeldOutLoss: number | undefined;
  let smoothed: number | undefined;
  const started = Date.now();
  let stepsThisRun = 0;
  let windowStart = Date.now();
  let windowTokens = 0;
  let tokensPerSecond = 0;
  while (checkpoint.header.step < steps) {
    if (options.signal?.aborted) break;
    if (options.until && Date.now() >= options.until.getTime()) break;
    if (options.maxSteps !== undefined && stepsThisRun >= options.maxSteps) break;
    const step = checkpoint.header.step;
    const stepStart = Date.now();
    const batch = loader.batch(step);
    const result = await model.lossAndGradient(batch.inputs, batch.targets, batch.weights, B, T, grad);
    if (!Number.isFinite(result.loss))
      throw new Error(
        `training diverged at step ${step}: loss ${result.loss}; lower --lr or resume from the last checkpoint`,
      );
    const gradNorm = clipGradientNorm(grad, train.gradClip);
    const lr = learningRate(step, schedule);
    adamWStep(checkpoint.params, grad, checkpoint.adam, groups, lr, {
      beta1: train.beta1,
      beta2: train.beta2,
      eps: train.eps,
      weightDecay: train.weightDecay,
    });
    checkpoint.header.step = step + 1;
    checkpoint.header.tokensSeen += B * T;
    stepsThisRun++;
    windowTokens += B * T;
    lastTrainLoss = result.loss;
    smoothed = smoothed === undefined ? result.loss : 0.95 * smoothed + 0.05 * result.loss;
    const seconds = (Date.now() - stepStart) / 1000;
    const windowSeconds = (Date.now() - windowStart) / 1000;
    tokensPerSecond = windowTokens / Math.max(1e-9, windowSeconds);
    const record: LogRecord = {
      step: step + 1,
      tokens: checkpoint.header.tokensSeen,
      trainLoss: Number(result.loss.toFixed(4)),
      lr: Number(lr.toExponential(3)),
      gradNorm: Number(gradNorm.toFixed(3)),
      tokensPerSecond: Math.round((B * T) / seconds),
      mfu: Number(((((B * T) / seconds) * flopsPerToken) / peak.flops).toFixed(4)),
      elapsedSeconds: Math.round((Date.now() - started) / 1000),
      loadAverage: Number(os.loadavg()[0]!.toFixed(2)),
    };
    const isLast = checkpoint.header.step >= steps;
    if (checkpoint.header.step % train.evalEvery === 0 || isLast || stepsThisRun === 1) {
      lastHeldOutLoss = await heldOutLoss();
      record.heldOutLoss = Number(lastHeldOutLoss.toFixed(4));
    }
    appendFileSync(logPath, JSON.stringify(record) + '\n');
    if (checkpoint.header.step % 10 === 0 || record.heldOutLoss !== undefined) {
      log(
        `step ${record.step}/${steps} loss ${record.trainLoss} (ema ${smoothed.toFixed(3)})${record.heldOutLoss !== undefined ? ` held-out ${record.heldOutLoss}` : ''} lr ${record.lr} ${Math.round(tokensPerSecond)} tok/s load ${record.loadAverage} epoch ${loader.epoch(step)}`,
      );
      windowStart = Date.now();
      windowTokens = 0;
    }
    if (Date.now() - lastCheckpoint >= train.checkpointEverySeconds * 1000) {
      save();
      lastCheckpoint = Date.now();
      log(`checkpoint at step ${checkpoint.header.step}`);
    }
  }
  save();
  log(`checkpoint at step ${checkpoint.header.step} (${checkpoint.header.tokensSeen} tokens)`);
  await kernels.release();
  return {
    step: checkpoint.header.step,
    tokensSeen: checkpoint.header.tokensSeen,
    finished: checkpoint.header.step >= steps,
    lastTrainLoss,
    lastHeldOutLoss,
    tokensPerSecond,
  };
}
