/**
 * The embedded code model: a Llama (RMSNorm, adjacent-pair "NORM" RoPE as llama.cpp's LLM_ARCH_LLAMA applies it,
 * causal multi-head attention, SwiGLU), with a hand-written backward pass. Parameters live in one Float32Array with
 * named views, so AdamW, gradient clipping and checkpoints treat the model as one vector. Each block (attention,
 * FFN, head with softmax cross-entropy), forward and backward, is one hand-built ONNX graph run by onnxruntime
 * (onnx-blocks.ts); only the embedding gather/scatter is a loop here.
 * Paper symbols: B batch, T tokens per sequence, C model width, H heads, hd head width, F FFN width, V vocab,
 * N = B·T rows.
 */
import type { LlamaConfig, LlamaWeights } from './llama-gguf.js';
import {
  attentionBackwardGraph,
  attentionForwardGraph,
  ffnBackwardGraph,
  ffnForwardGraph,
  headGraph,
  type BlockShape,
} from './onnx-blocks.js';
import type { OnnxKernels } from './onnx-matmul.js';

export interface ModelConfig {
  vocabSize: number;
  /** C */
  dim: number;
  layers: number;
  /** H; head width hd = dim / heads. */
  heads: number;
  /** F */
  ffDim: number;
  /** T: training context; also the exported `llama.context_length`. */
  contextLength: number;
  ropeTheta: number;
  normEps: number;
  /** Output projection shares the token embedding (GGUF without `output.weight`). */
  tiedEmbeddings: boolean;
}

interface LayerViews {
  attnNorm: Float32Array; // (C)
  wqkv: Float32Array; // (3C, C): wq, wk, wv stacked
  wq: Float32Array; // (C, C)
  wk: Float32Array; // (C, C)
  wv: Float32Array; // (C, C)
  wo: Float32Array; // (C, C)
  ffnNorm: Float32Array; // (C)
  wgu: Float32Array; // (2F, C): wGate, wUp stacked
  wGate: Float32Array; // (F, C)
  wUp: Float32Array; // (F, C)
  wDown: Float32Array; // (C, F)
}

export interface ModelViews {
  tokenEmbedding: Float32Array; // (V, C)
  layers: LayerViews[];
  outputNorm: Float32Array; // (C)
  output: Float32Array; // (V, C); the embedding itself when tied
}

/** Named parameter groups (for the gradient check and for weight decay: norms are not decayed). */
export interface ParameterGroup {
  name: string;
  offset: number;
  size: number;
  decay: boolean;
}

function layout(config: ModelConfig): ParameterGroup[] {
  const { vocabSize: V, dim: C, ffDim: F, layers } = config;
  const groups: ParameterGroup[] = [];
  let offset = 0;
  const add = (name: string, size: number, decay: boolean): void => {
    groups.push({ name, offset, size, decay });
    offset += size;
  };
  add('tokenEmbedding', V * C, true);
  for (let l = 0; l < layers; l++) {
    add(`layers.${l}.attnNorm`, C, false);
    add(`layers.${l}.wqkv`, 3 * C * C, true);
    add(`layers.${l}.wo`, C * C, true);
    add(`layers.${l}.ffnNorm`, C, false);
    add(`layers.${l}.wgu`, 2 * F * C, true);
    add(`layers.${l}.wDown`, C * F, true);
  }
  add('outputNorm', C, false);
  if (!config.tiedEmbeddings) add('output', V * C, true);
  return groups;
}

/** Views into a parameter-sized vector (the weights, or a gradient of them). */
export function modelViews(config: ModelConfig, vector: Float32Array): ModelViews {
  const C = config.dim;
  const F = config.ffDim;
  const groups = new Map(layout(config).map((group) => [group.name, group]));
  const view = (name: string): Float32Array => {
    const group = groups.get(name)!;
    return vector.subarray(group.offset, group.offset + group.size);
  };
  const tokenEmbedding = view('tokenEmbedding');
  const layers: LayerViews[] = [];
  for (let l = 0; l < config.layers; l++) {
    const wqkv = view(`layers.${l}.wqkv`);
    const wgu = view(`layers.${l}.wgu`);
    layers.push({
      attnNorm: view(`layers.${l}.attnNorm`),
      wqkv,
      wq: wqkv.subarray(0, C * C),
      wk: wqkv.subarray(C * C, 2 * C * C),
      wv: wqkv.subarray(2 * C * C, 3 * C * C),
      wo: view(`layers.${l}.wo`),
      ffnNorm: view(`layers.${l}.ffnNorm`),
      wgu,
      wGate: wgu.subarray(0, F * C),
      wUp: wgu.subarray(F * C, 2 * F * C),
      wDown: view(`layers.${l}.wDown`),
    });
  }
  return {
    tokenEmbedding,
    layers,
    outputNorm: view('outputNorm'),
    output: config.tiedEmbeddings ? tokenEmbedding : view('output'),
  };
}

export function parameterGroups(config: ModelConfig): ParameterGroup[] {
  return layout(config);
}

export function parameterCount(config: ModelConfig): number {
  return layout(config).reduce((sum, group) => sum + group.size, 0);
}

/** Matmul FLOPs per trained token (forward + backward = 3× forward), counting attention scores; for MFU. */
export function trainingFlopsPerToken(config: ModelConfig): number {
  const { dim: C, ffDim: F, layers: L, vocabSize: V, contextLength: T } = config;
  const matmulParams = L * (4 * C * C + 3 * C * F) + V * C;
  // attention: QKᵀ and PV are 2·T·C MACs per token at full T, halved by causality is NOT exploited (dense graph).
  return 6 * matmulParams + 3 * L * 2 * 2 * T * C;
}

/** A small deterministic PRNG (mulberry32), so init and data order are reproducible from a seed. */
export function createRandom(seed: number): {
  next(): number;
  normal(): number;
  state(): number;
  setState(state: number): void;
} {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    normal: () => Math.sqrt(-2 * Math.log(next() + 1e-12)) * Math.cos(2 * Math.PI * next()),
    state: () => a,
    setState: (state) => {
      a = state >>> 0;
    },
  };
}

/** GPT-2 style init: N(0, std) matrices, residual outputs scaled by 1/√(2L), norm weights 1. */
export function initParameters(config: ModelConfig, seed: number, std = 0.02): Float32Array {
  const params = new Float32Array(parameterCount(config));
  const random = createRandom(seed);
  for (const group of layout(config)) {
    const slice = params.subarray(group.offset, group.offset + group.size);
    if (!group.decay) {
      slice.fill(1);
      continue;
    }
    const scale = /\.(wo|wDown)$/.test(group.name) ? std / Math.sqrt(2 * config.layers) : std;
    for (let i = 0; i < slice.length; i++) slice[i] = random.normal() * scale;
  }
  return params;
}

/** The exporter's view: separate q/k/v and gate/up matrices, [out][in] row-major, as llama-gguf.ts expects. */
export function toLlamaWeights(
  config: ModelConfig,
  params: Float32Array,
): { config: LlamaConfig; weights: LlamaWeights } {
  const views = modelViews(config, params);
  return {
    config: {
      vocabSize: config.vocabSize,
      dim: config.dim,
      layers: config.layers,
      heads: config.heads,
      kvHeads: config.heads,
      ffDim: config.ffDim,
      contextLength: config.contextLength,
      ropeTheta: config.ropeTheta,
      normEps: config.normEps,
    },
    weights: {
      tokenEmbedding: views.tokenEmbedding,
      layers: views.layers.map((layer) => ({
        attnNorm: layer.attnNorm,
        wq: layer.wq,
        wk: layer.wk,
        wv: layer.wv,
        wo: layer.wo,
        ffnNorm: layer.ffnNorm,
        wGate: layer.wGate,
        wUp: layer.wUp,
        wDown: layer.wDown,
      })),
      outputNorm: views.outputNorm,
      ...(config.tiedEmbeddings ? {} : { output: views.output }),
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Forward and backward

export interface StepResult {
  /** Mean loss over the weighted targets (nats/token). */
  loss: number;
  /** Per-position nll (N), nats; 0-weight positions included. */
  nll: Float32Array;
  /** Number of targets with non-zero weight. */
  count: number;
}

interface LayerCache {
  x0: Float32Array; // (N, C) block input
  h1: Float32Array; // (N, C) rmsnorm(x0)·g
  q: Float32Array; // (B, T, H, hd) rotated
  k: Float32Array; // (B, T, H, hd) rotated
  v: Float32Array; // (B, T, H, hd)
  y: Float32Array; // (N, C) attention output before Wo
  x1: Float32Array; // (N, C) after the attention residual
  h2: Float32Array; // (N, C)
  gu: Float32Array; // (N, 2F)
  a: Float32Array; // (N, F)
}

export class LlamaModel {
  readonly config: ModelConfig;
  readonly params: Float32Array;
  readonly views: ModelViews;
  private readonly kernels: OnnxKernels;

  constructor(config: ModelConfig, params: Float32Array, kernels: OnnxKernels) {
    if (config.dim % config.heads !== 0 || (config.dim / config.heads) % 2 !== 0) {
      throw new Error(`model: dim ${config.dim} must split into ${config.heads} heads of even width`);
    }
    if (params.length !== parameterCount(config))
      throw new Error(`model: ${params.length} parameters given, config needs ${parameterCount(config)}`);
    this.config = config;
    this.params = params;
    this.views = modelViews(config, params);
    this.kernels = kernels;
  }

  /** Logits (N, V) for inputs (B, T). */
  async logits(inputs: Int32Array, B: number, T: number): Promise<Float32Array> {
    const { x } = await this.forward(inputs, B, T, false);
    const { C, V } = this.shape(B, T);
    const N = B * T;
    const result = await this.kernels.run(
      `head-logits:${N}:${C}:${V}`,
      () => headGraph(N, C, V, this.config.normEps, 'logits'),
      this.headFeeds(x, N),
    );
    return result['logits']!;
  }

  /** Loss only (no gradient): inputs, targets (B·T), weights (B·T) (0 = ignore). */
  async loss(
    inputs: Int32Array,
    targets: Int32Array,
    weights: Float32Array,
    B: number,
    T: number,
  ): Promise<StepResult> {
    const { x } = await this.forward(inputs, B, T, false);
    const { C, V } = this.shape(B, T);
    const N = B * T;
    const result = await this.kernels.run(
      `head-loss:${N}:${C}:${V}`,
      () => headGraph(N, C, V, this.config.normEps, 'loss'),
      { ...this.headFeeds(x, N), targets: [targets, [N]] },
    );
    return summarise(result['nll']!, weights);
  }

  /**
   * Forward + backward of the weighted mean cross-entropy. Writes the gradient into `grad` (parameter-sized; it is
   * overwritten, not accumulated).
   */
  async lossAndGradient(
    inputs: Int32Array,
    targets: Int32Array,
    weights: Float32Array,
    B: number,
    T: number,
    grad: Float32Array,
  ): Promise<StepResult> {
    const s = this.shape(B, T);
    const { C, V, F, H } = s;
    const N = B * T;
    const hd = C / H;
    let count = 0;
    for (let i = 0; i < N; i++) if (weights[i]! > 0) count++;
    const scaled = new Float32Array(N); // (N) weight / count, so gradients are of the mean
    for (let i = 0; i < N; i++) scaled[i] = count > 0 ? weights[i]! / count : 0;

    const { x, layers } = await this.forward(inputs, B, T, true);
    const head = await this.kernels.run(
      `head-backward:${N}:${C}:${V}`,
      () => headGraph(N, C, V, this.config.normEps, 'backward'),
      { ...this.headFeeds(x, N), targets: [targets, [N]], weight: [scaled, [N]] },
    );
    grad.fill(0);
    const g = modelViews(this.config, grad);
    g.output.set(head['dW']!); // tied: this is the embedding's gradient, the scatter below adds to it
    g.outputNorm.set(head['dg']!);
    let dx = head['dx']!; // (N, C) gradient of the residual stream

    const heads = [B, T, H, hd];
    for (let l = this.config.layers - 1; l >= 0; l--) {
      const w = this.views.layers[l]!;
      const gl = g.layers[l]!;
      const cache = layers[l]!;
      const ffn = await this.kernels.run(`ffn-backward:${blockKey(s)}`, () => ffnBackwardGraph(s), {
        dout: [dx, [N, C]],
        x: [cache.x1, [N, C]],
        g: [w.ffnNorm, [C]],
        h: [cache.h2, [N, C]],
        gu: [cache.gu, [N, 2 * F]],
        a: [cache.a, [N, F]],
        Wgu: [w.wgu, [2 * F, C]],
        Wdown: [w.wDown, [C, F]],
      });
      gl.ffnNorm.set(ffn['dg']!);
      gl.wgu.set(ffn['dWgu']!);
      gl.wDown.set(ffn['dWdown']!);
      const attention = await this.kernels.run(`attention-backward:${blockKey(s)}`, () => attentionBackwardGraph(s), {
        dout: [ffn['dx']!, [N, C]],
        x: [cache.x0, [N, C]],
        g: [w.attnNorm, [C]],
        h: [cache.h1, [N, C]],
        q: [cache.q, heads],
        k: [cache.k, heads],
        v: [cache.v, heads],
        y: [cache.y, [N, C]],
        Wqkv: [w.wqkv, [3 * C, C]],
        Wo: [w.wo, [C, C]],
      });
      gl.attnNorm.set(attention['dg']!);
      gl.wqkv.set(attention['dWqkv']!);
      gl.wo.set(attention['dWo']!);
      dx = attention['dx']!;
    }
    // embedding: scatter-add (tied: on top of the head's gradient)
    for (let n = 0; n < N; n++) {
      const row = inputs[n]! * C;
      for (let c = 0; c < C; c++) g.tokenEmbedding[row + c]! += dx[n * C + c]!;
    }
    return summarise(head['nll']!, weights);
  }

  private shape(B: number, T: number): BlockShape & { V: number } {
    const { vocabSize: V, dim: C, ffDim: F, heads: H, normEps: eps, ropeTheta } = this.config;
    return { B, T, C, H, F, eps, ropeTheta, V };
  }

  private headFeeds(x: Float32Array, N: number): Record<string, [Float32Array, number[]]> {
    const { dim: C, vocabSize: V } = this.config;
    return { x: [x, [N, C]], g: [this.views.outputNorm, [C]], W: [this.views.output, [V, C]] };
  }

  /** The residual stream after the last block (N, C), and each block's saved activations when `keep`. */
  private async forward(
    inputs: Int32Array,
    B: number,
    T: number,
    keep: boolean,
  ): Promise<{ x: Float32Array; layers: LayerCache[] }> {
    const s = this.shape(B, T);
    const { C, V, F } = s;
    const N = B * T;
    if (T > this.config.contextLength)
      throw new Error(`model: ${T} tokens exceed the context length ${this.config.contextLength}`);
    if (inputs.length !== N) throw new Error(`model: ${inputs.length} inputs for B=${B}, T=${T}`);
    let x: Float32Array = new Float32Array(N * C); // (N, C)
    for (let n = 0; n < N; n++) {
      const id = inputs[n]!;
      if (id < 0 || id >= V) throw new Error(`model: token id ${id} outside the vocabulary (${V})`);
      x.set(this.views.tokenEmbedding.subarray(id * C, id * C + C), n * C);
    }
    const layers: LayerCache[] = [];
    for (const w of this.views.layers) {
      const attention = await this.kernels.run(`attention-forward:${blockKey(s)}`, () => attentionForwardGraph(s), {
        x: [x, [N, C]],
        g: [w.attnNorm, [C]],
        Wqkv: [w.wqkv, [3 * C, C]],
        Wo: [w.wo, [C, C]],
      });
      const x1 = attention['out']!;
      const ffn = await this.kernels.run(`ffn-forward:${blockKey(s)}`, () => ffnForwardGraph(s), {
        x: [x1, [N, C]],
        g: [w.ffnNorm, [C]],
        Wgu: [w.wgu, [2 * F, C]],
        Wdown: [w.wDown, [C, F]],
      });
      if (keep) {
        layers.push({
          x0: x,
          h1: attention['h']!,
          q: attention['q']!,
          k: attention['k']!,
          v: attention['v']!,
          y: attention['y']!,
          x1,
          h2: ffn['h']!,
          gu: ffn['gu']!,
          a: ffn['a']!,
        });
      }
      x = ffn['out']!;
    }
    return { x, layers };
  }
}

function blockKey(s: BlockShape): string {
  return [s.B, s.T, s.C, s.H, s.F, s.eps, s.ropeTheta].join(':');
}

function summarise(nll: Float32Array, weights: Float32Array): StepResult {
  let sum = 0;
  let weightSum = 0;
  let count = 0;
  for (let i = 0; i < nll.length; i++) {
    if (weights[i]! > 0) {
      sum += nll[i]! * weights[i]!;
      weightSum += weights[i]!;
      count++;
    }
  }
  return { loss: weightSum > 0 ? sum / weightSum : 0, nll, count };
}
