/**
 * The embedded code model: a Llama (RMSNorm, adjacent-pair "NORM" RoPE as llama.cpp's LLM_ARCH_LLAMA applies it,
 * causal multi-head attention, SwiGLU), with a hand-written backward pass. Parameters live in one Float32Array with
 * named views, so AdamW, gradient clipping and checkpoints treat the model as one vector. The matmuls, attention and
 * the softmax-cross-entropy head run in onnxruntime (onnx-matmul.ts); norms, RoPE and SwiGLU are loops here.
 * Paper symbols: B batch, T tokens per sequence, C model width, H heads, hd head width, F FFN width, V vocab,
 * N = B·T rows.
 */
import type { LlamaConfig, LlamaWeights } from './llama-gguf.js';
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
  return { tokenEmbedding, layers, outputNorm: view('outputNorm'), output: config.tiedEmbeddings ? tokenEmbedding : view('output') };
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
export function createRandom(seed: number): { next(): number; normal(): number; state(): number; setState(state: number): void } {
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
export function toLlamaWeights(config: ModelConfig, params: Float32Array): { config: LlamaConfig; weights: LlamaWeights } {
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
// Elementwise pieces

/** y = x / rms(x) · g per row; returns y (N, C) and the inverse rms (N). */
function rmsNorm(x: Float32Array, g: Float32Array, N: number, C: number, eps: number): { y: Float32Array; inv: Float32Array } {
  const y = new Float32Array(N * C); // (N, C)
  const inv = new Float32Array(N); // (N)
  for (let n = 0; n < N; n++) {
    const row = n * C;
    let sum = 0;
    for (let c = 0; c < C; c++) sum += x[row + c]! * x[row + c]!;
    const r = 1 / Math.sqrt(sum / C + eps);
    inv[n] = r;
    for (let c = 0; c < C; c++) y[row + c] = x[row + c]! * r * g[c]!;
  }
  return { y, inv };
}

/** Backward of rmsNorm: adds dx (N, C) into `dxOut`, and dg (C) into `dg`. */
function rmsNormBackward(dy: Float32Array, x: Float32Array, inv: Float32Array, g: Float32Array, dxOut: Float32Array, dg: Float32Array, N: number, C: number): void {
  for (let n = 0; n < N; n++) {
    const row = n * C;
    const r = inv[n]!;
    let dot = 0; // Σ_c dy·g·x
    for (let c = 0; c < C; c++) {
      const u = dy[row + c]! * g[c]!;
      dot += u * x[row + c]!;
      dg[c]! += dy[row + c]! * x[row + c]! * r;
    }
    const k = (r * r * r * dot) / C;
    for (let c = 0; c < C; c++) dxOut[row + c]! += r * dy[row + c]! * g[c]! - k * x[row + c]!;
  }
}

/** cos/sin tables (T, hd/2) for adjacent-pair RoPE: theta_i = base^(-2i/hd). */
export function ropeTables(T: number, hd: number, base: number): { cos: Float32Array; sin: Float32Array } {
  const half = hd / 2;
  const cos = new Float32Array(T * half); // (T, hd/2)
  const sin = new Float32Array(T * half); // (T, hd/2)
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < half; i++) {
      const angle = t * Math.pow(base, (-2 * i) / hd);
      cos[t * half + i] = Math.cos(angle);
      sin[t * half + i] = Math.sin(angle);
    }
  }
  return { cos, sin };
}

/**
 * Rotates adjacent pairs (x[2i], x[2i+1]) of every head in place; `direction` −1 applies the inverse (the backward).
 * x: rows of width `stride`, head h of row n at n·stride + offset + h·hd; position of row n is n mod T.
 */
function rope(x: Float32Array, N: number, T: number, H: number, hd: number, stride: number, offset: number, tables: { cos: Float32Array; sin: Float32Array }, direction: 1 | -1): void {
  const half = hd / 2;
  for (let n = 0; n < N; n++) {
    const t = n % T;
    for (let h = 0; h < H; h++) {
      const base = n * stride + offset + h * hd;
      for (let i = 0; i < half; i++) {
        const cos = tables.cos[t * half + i]!;
        const sin = direction * tables.sin[t * half + i]!;
        const a = x[base + 2 * i]!;
        const b = x[base + 2 * i + 1]!;
        x[base + 2 * i] = a * cos - b * sin;
        x[base + 2 * i + 1] = a * sin + b * cos;
      }
    }
  }
}

/** Splits qkv (N, 3C) into q, k, v (N, C) each. */
function splitQkv(qkv: Float32Array, N: number, C: number): [Float32Array, Float32Array, Float32Array] {
  const q = new Float32Array(N * C); // (N, C) = (B, T, H, hd)
  const k = new Float32Array(N * C);
  const v = new Float32Array(N * C);
  for (let n = 0; n < N; n++) {
    q.set(qkv.subarray(n * 3 * C, n * 3 * C + C), n * C);
    k.set(qkv.subarray(n * 3 * C + C, n * 3 * C + 2 * C), n * C);
    v.set(qkv.subarray(n * 3 * C + 2 * C, n * 3 * C + 3 * C), n * C);
  }
  return [q, k, v];
}

function joinQkv(dq: Float32Array, dk: Float32Array, dv: Float32Array, N: number, C: number): Float32Array {
  const dqkv = new Float32Array(N * 3 * C); // (N, 3C)
  for (let n = 0; n < N; n++) {
    dqkv.set(dq.subarray(n * C, n * C + C), n * 3 * C);
    dqkv.set(dk.subarray(n * C, n * C + C), n * 3 * C + C);
    dqkv.set(dv.subarray(n * C, n * C + C), n * 3 * C + 2 * C);
  }
  return dqkv;
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** a = silu(gate) · up from gu (N, 2F) = [gate | up] per row → (N, F). */
function swiglu(gu: Float32Array, N: number, F: number): Float32Array {
  const a = new Float32Array(N * F); // (N, F)
  for (let n = 0; n < N; n++) {
    const row = n * 2 * F;
    for (let f = 0; f < F; f++) {
      const g = gu[row + f]!;
      a[n * F + f] = (g * sigmoid(g)) * gu[row + F + f]!;
    }
  }
  return a;
}

function swigluBackward(da: Float32Array, gu: Float32Array, N: number, F: number): Float32Array {
  const dgu = new Float32Array(N * 2 * F); // (N, 2F)
  for (let n = 0; n < N; n++) {
    const row = n * 2 * F;
    for (let f = 0; f < F; f++) {
      const g = gu[row + f]!;
      const u = gu[row + F + f]!;
      const s = sigmoid(g);
      const d = da[n * F + f]!;
      dgu[row + f] = d * u * s * (1 + g * (1 - s));
      dgu[row + F + f] = d * g * s;
    }
  }
  return dgu;
}

function addInto(target: Float32Array, source: Float32Array): void {
  for (let i = 0; i < target.length; i++) target[i]! += source[i]!;
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

export class LlamaModel {
  readonly config: ModelConfig;
  readonly params: Float32Array;
  readonly views: ModelViews;
  private readonly kernels: OnnxKernels;
  private readonly tables: { cos: Float32Array; sin: Float32Array };

  constructor(config: ModelConfig, params: Float32Array, kernels: OnnxKernels) {
    if (config.dim % config.heads !== 0 || (config.dim / config.heads) % 2 !== 0) {
      throw new Error(`model: dim ${config.dim} must split into ${config.heads} heads of even width`);
    }
    if (params.length !== parameterCount(config)) throw new Error(`model: ${params.length} parameters given, config needs ${parameterCount(config)}`);
    this.config = config;
    this.params = params;
    this.views = modelViews(config, params);
    this.kernels = kernels;
    this.tables = ropeTables(config.contextLength, config.dim / config.heads, config.ropeTheta);
  }

  /** Hidden state after the final norm, (N, C), for inputs (B, T); T ≤ contextLength. */
  async hidden(inputs: Int32Array, B: number, T: number): Promise<Float32Array> {
    return (await this.run(inputs, B, T, false)).hF;
  }

  /** Logits (N, V) for inputs (B, T). */
  async logits(inputs: Int32Array, B: number, T: number): Promise<Float32Array> {
    const hF = await this.hidden(inputs, B, T);
    return this.kernels.logits(hF, this.views.output, B * T, this.config.dim, this.config.vocabSize);
  }

  /** Loss only (no gradient): inputs, targets (B·T), weights (B·T) (0 = ignore). */
  async loss(inputs: Int32Array, targets: Int32Array, weights: Float32Array, B: number, T: number): Promise<StepResult> {
    const { hF } = await this.run(inputs, B, T, false);
    const { nll } = await this.kernels.crossEntropyHead(hF, this.views.output, targets, weights, B * T, this.config.dim, this.config.vocabSize, false);
    return summarise(nll, weights);
  }

  /**
   * Forward + backward of the weighted mean cross-entropy. Writes the gradient into `grad` (parameter-sized; it is
   * overwritten, not accumulated).
   */
  async lossAndGradient(inputs: Int32Array, targets: Int32Array, weights: Float32Array, B: number, T: number, grad: Float32Array): Promise<StepResult> {
    const { V, C, F, H, hd, L } = this.shape();
    const N = B * T;
    let count = 0;
    for (let i = 0; i < N; i++) if (weights[i]! > 0) count++;
    const scaled = new Float32Array(N); // (N) weight / Σ-count, so gradients are of the mean
    for (let i = 0; i < N; i++) scaled[i] = count > 0 ? weights[i]! / count : 0;

    const forward = await this.run(inputs, B, T, true);
    const head = await this.kernels.crossEntropyHead(forward.hF, this.views.output, targets, scaled, N, C, V, true);
    grad.fill(0);
    const g = modelViews(this.config, grad);
    addInto(g.output, head.dW!); // tied: lands in the embedding's gradient

    let dx = new Float32Array(N * C); // (N, C) gradient of the residual stream
    rmsNormBackward(head.dx!, forward.xF, forward.invF, this.views.outputNorm, dx, g.outputNorm, N, C);

    for (let l = L - 1; l >= 0; l--) {
      const w = this.views.layers[l]!;
      const gl = g.layers[l]!;
      const cache = forward.layers[l]!;
      // FFN: x2 = x1 + Wdown · swiglu(Wgu · norm(x1))
      const down = await this.kernels.linearBackward(dx, cache.a, w.wDown, N, F, C);
      gl.wDown.set(down.dW);
      const dgu = swigluBackward(down.dx, cache.gu, N, F); // (N, 2F)
      const up = await this.kernels.linearBackward(dgu, cache.h2, w.wgu, N, C, 2 * F);
      gl.wgu.set(up.dW);
      const dx1 = dx; // residual path; rmsNormBackward adds the branch into it
      rmsNormBackward(up.dx, cache.x1, cache.inv2, w.ffnNorm, dx1, gl.ffnNorm, N, C);
      // attention: x1 = x0 + Wo · attn(rope(q), rope(k), v)
      const o = await this.kernels.linearBackward(dx1, cache.y, w.wo, N, C, C);
      gl.wo.set(o.dW);
      const attention = await this.kernels.attentionBackward(cache.q, cache.k, cache.v, o.dx, B, T, H, hd);
      rope(attention.dq, N, T, H, hd, C, 0, this.tables, -1);
      rope(attention.dk, N, T, H, hd, C, 0, this.tables, -1);
      const dqkv = joinQkv(attention.dq, attention.dk, attention.dv, N, C);
      const qkv = await this.kernels.linearBackward(dqkv, cache.h1, w.wqkv, N, C, 3 * C);
      gl.wqkv.set(qkv.dW);
      rmsNormBackward(qkv.dx, cache.x0, cache.inv1, w.attnNorm, dx1, gl.attnNorm, N, C);
      dx = dx1;
    }
    // embedding: scatter-add (tied: on top of the head's gradient)
    for (let n = 0; n < N; n++) {
      const row = inputs[n]! * C;
      for (let c = 0; c < C; c++) g.tokenEmbedding[row + c]! += dx[n * C + c]!;
    }
    return summarise(head.nll, weights);
  }

  private shape(): { V: number; C: number; F: number; H: number; hd: number; L: number } {
    const { vocabSize: V, dim: C, ffDim: F, heads: H, layers: L } = this.config;
    return { V, C, F, H, hd: C / H, L };
  }

  private async run(inputs: Int32Array, B: number, T: number, keep: boolean) {
    const { V, C, F, H, hd } = this.shape();
    const N = B * T;
    if (T > this.config.contextLength) throw new Error(`model: ${T} tokens exceed the context length ${this.config.contextLength}`);
    if (inputs.length !== N) throw new Error(`model: ${inputs.length} inputs for B=${B}, T=${T}`);
    let x = new Float32Array(N * C); // (N, C)
    for (let n = 0; n < N; n++) {
      const id = inputs[n]!;
      if (id < 0 || id >= V) throw new Error(`model: token id ${id} outside the vocabulary (${V})`);
      x.set(this.views.tokenEmbedding.subarray(id * C, id * C + C), n * C);
    }
    const layers: { x0: Float32Array; inv1: Float32Array; h1: Float32Array; q: Float32Array; k: Float32Array; v: Float32Array; y: Float32Array; x1: Float32Array; inv2: Float32Array; h2: Float32Array; gu: Float32Array; a: Float32Array }[] = [];
    for (const w of this.views.layers) {
      const x0 = x;
      const n1 = rmsNorm(x0, w.attnNorm, N, C, this.config.normEps);
      const qkv = await this.kernels.linear(n1.y, w.wqkv, N, C, 3 * C); // (N, 3C)
      const [q, k, v] = splitQkv(qkv, N, C);
      rope(q, N, T, H, hd, C, 0, this.tables, 1);
      rope(k, N, T, H, hd, C, 0, this.tables, 1);
      const y = await this.kernels.attention(q, k, v, B, T, H, hd); // (N, C)
      const o = await this.kernels.linear(y, w.wo, N, C, C); // (N, C)
      const x1 = new Float32Array(N * C);
      for (let i = 0; i < x1.length; i++) x1[i] = x0[i]! + o[i]!;
      const n2 = rmsNorm(x1, w.ffnNorm, N, C, this.config.normEps);
      const gu = await this.kernels.linear(n2.y, w.wgu, N, C, 2 * F); // (N, 2F)
      const a = swiglu(gu, N, F); // (N, F)
      const d = await this.kernels.linear(a, w.wDown, N, F, C); // (N, C)
      const x2 = new Float32Array(N * C);
      for (let i = 0; i < x2.length; i++) x2[i] = x1[i]! + d[i]!;
      if (keep) layers.push({ x0, inv1: n1.inv, h1: n1.y, q, k, v, y, x1, inv2: n2.inv, h2: n2.y, gu, a });
      x = x2;
    }
    const nF = rmsNorm(x, this.views.outputNorm, N, C, this.config.normEps);
    return { hF: nF.y, xF: x, invF: nF.inv, layers };
  }
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
