/**
 * The Llama blocks as whole ONNX graphs, forward and backward, so one onnxruntime run does a block's matmuls and
 * its elementwise work (RMSNorm, adjacent-pair RoPE, causal softmax, SwiGLU) on both cores with vectorised exp,
 * instead of JS loops between matmul calls (measured: those loops were ~40% of a step's CPU time).
 * Forward graphs also return the activations their backward needs; backward graphs recompute the cheap rest
 * (the RMSNorm scale, attention probabilities, sigmoid). Shapes: N = B·T rows, C width, H heads, hd = C/H, F FFN
 * width, V vocab. Every graph here is checked against finite differences in model.test.ts.
 */
import {
  OnnxType,
  type OnnxAttribute,
  type OnnxGraph,
  type OnnxInitializer,
  type OnnxNode,
  type OnnxValue,
} from './onnx-graph.js';

/** A tiny builder: each `op` call appends a node and returns its (fresh) output name. */
class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxInitializer[] = [];
  private counter = 0;

  op(op: string, inputs: string[], attributes?: Record<string, OnnxAttribute>, outputCount = 1): string[] {
    const outputs = Array.from({ length: outputCount }, () => `t${this.counter++}`);
    this.nodes.push({ op, inputs, outputs, ...(attributes ? { attributes } : {}) });
    return outputs;
  }

  one(op: string, inputs: string[], attributes?: Record<string, OnnxAttribute>): string {
    return this.op(op, inputs, attributes)[0]!;
  }

  /** Names an existing value as a graph output. */
  rename(from: string, to: string): void {
    this.nodes.push({ op: 'Identity', inputs: [from], outputs: [to] });
  }

  floats(values: Float32Array | number[], dims: number[]): string {
    const name = `c${this.counter++}`;
    this.initializers.push({
      name,
      type: OnnxType.float,
      dims,
      data: values instanceof Float32Array ? values : Float32Array.from(values),
    });
    return name;
  }

  ints(values: number[], dims: number[] = [values.length]): string {
    const name = `c${this.counter++}`;
    this.initializers.push({ name, type: OnnxType.int64, dims, data: BigInt64Array.from(values.map(BigInt)) });
    return name;
  }

  graph(inputs: OnnxValue[], outputs: OnnxValue[]): OnnxGraph {
    return { nodes: this.nodes, initializers: this.initializers, inputs, outputs };
  }
}

export interface BlockShape {
  B: number;
  T: number;
  C: number;
  H: number;
  F: number;
  eps: number;
  ropeTheta: number;
}

/** RMSNorm: returns [h = x·r·g, r (N, 1)]. */
function rmsNorm(g: GraphBuilder, x: string, weight: string, eps: number): [string, string] {
  const meanSquare = g.one('ReduceMean', [g.one('Mul', [x, x])], { axes: [1], keepdims: 1 }); // (N, 1)
  const r = g.one('Reciprocal', [g.one('Sqrt', [g.one('Add', [meanSquare, g.floats([eps], [])])])]); // (N, 1)
  return [g.one('Mul', [g.one('Mul', [x, r]), weight]), r];
}

/** RMSNorm backward: returns [dx (N, C), dweight (C)] given dh, x and the weight; r is recomputed. */
function rmsNormBackward(
  g: GraphBuilder,
  dh: string,
  x: string,
  weight: string,
  C: number,
  eps: number,
): [string, string] {
  const meanSquare = g.one('ReduceMean', [g.one('Mul', [x, x])], { axes: [1], keepdims: 1 });
  const r = g.one('Reciprocal', [g.one('Sqrt', [g.one('Add', [meanSquare, g.floats([eps], [])])])]); // (N, 1)
  const u = g.one('Mul', [dh, weight]); // (N, C)
  const dot = g.one('ReduceSum', [g.one('Mul', [u, x]), g.ints([1])], { keepdims: 1 }); // (N, 1)
  const r3 = g.one('Mul', [g.one('Mul', [r, r]), r]);
  const k = g.one('Mul', [g.one('Mul', [r3, dot]), g.floats([1 / C], [])]); // (N, 1)
  const dx = g.one('Sub', [g.one('Mul', [u, r]), g.one('Mul', [x, k])]); // (N, C)
  const dweight = g.one('ReduceSum', [g.one('Mul', [g.one('Mul', [dh, x]), r]), g.ints([0])], { keepdims: 0 }); // (C)
  return [dx, dweight];
}

/** cos and sin (1, T, 1, hd/2, 1) for adjacent-pair RoPE, theta_i = base^(-2i/hd). */
function ropeTables(g: GraphBuilder, T: number, hd: number, base: number): [string, string] {
  const half = hd / 2;
  const cos = new Float32Array(T * half);
  const sin = new Float32Array(T * half);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < half; i++) {
      const angle = t * Math.pow(base, (-2 * i) / hd);
      cos[t * half + i] = Math.cos(angle);
      sin[t * half + i] = Math.sin(angle);
    }
  }
  return [g.floats(cos, [1, T, 1, half, 1]), g.floats(sin, [1, T, 1, half, 1])];
}

/**
 * Rotates adjacent pairs of x (B, T, H, hd): (a, b) → (a·cos − b·sin, a·sin + b·cos); `inverse` rotates back
 * (the backward of the rotation is its transpose).
 */
function rope(g: GraphBuilder, x: string, s: BlockShape, tables: [string, string], inverse: boolean): string {
  const hd = s.C / s.H;
  const pairs = g.one('Reshape', [x, g.ints([s.B, s.T, s.H, hd / 2, 2])]); // (B, T, H, hd/2, 2)
  const [a, b] = g.op('Split', [pairs, g.ints([1, 1])], { axis: 4 }, 2) as [string, string]; // (B, T, H, hd/2, 1) each
  const [cos, sin] = tables;
  const ra = inverse
    ? g.one('Add', [g.one('Mul', [a, cos]), g.one('Mul', [b, sin])])
    : g.one('Sub', [g.one('Mul', [a, cos]), g.one('Mul', [b, sin])]);
  const rb = inverse
    ? g.one('Sub', [g.one('Mul', [b, cos]), g.one('Mul', [a, sin])])
    : g.one('Add', [g.one('Mul', [a, sin]), g.one('Mul', [b, cos])]);
  return g.one('Reshape', [g.one('Concat', [ra, rb], { axis: 4 }), g.ints([s.B, s.T, s.H, hd])]); // (B, T, H, hd)
}

function causalMask(g: GraphBuilder, T: number): string {
  const mask = new Float32Array(T * T); // (T, T)
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) mask[i * T + j] = -1e9;
  return g.floats(mask, [T, T]);
}

/** Causal attention probabilities P (B, H, T, T) and the head-major q (B, H, T, hd), from q, k (B, T, H, hd). */
function probabilities(g: GraphBuilder, q: string, k: string, s: BlockShape): { P: string; qt: string; scale: string } {
  const hd = s.C / s.H;
  const qt = g.one('Transpose', [q], { perm: [0, 2, 1, 3] }); // (B, H, T, hd)
  const kT = g.one('Transpose', [k], { perm: [0, 2, 3, 1] }); // (B, H, hd, T)
  const scale = g.floats([1 / Math.sqrt(hd)], []);
  const S = g.one('Add', [g.one('Mul', [g.one('MatMul', [qt, kT]), scale]), causalMask(g, s.T)]); // (B, H, T, T)
  return { P: g.one('Softmax', [S], { axis: -1 }), qt, scale };
}

const rows = (s: BlockShape) => s.B * s.T;

/**
 * Attention block forward. Inputs x (N, C), g (C), Wqkv (3C, C), Wo (C, C).
 * Outputs out = x + Wo·attn(rope(q), rope(k), v) (N, C), and for the backward: h (N, C), q, k, v (B, T, H, hd)
 * (q and k rotated), y (N, C).
 */
export function attentionForwardGraph(s: BlockShape): OnnxGraph {
  const g = new GraphBuilder();
  const { C, H } = s;
  const N = rows(s);
  const hd = C / H;
  const tables = ropeTables(g, s.T, hd, s.ropeTheta);
  const [h] = rmsNorm(g, 'x', 'g', s.eps);
  const qkv = g.one('Gemm', [h, 'Wqkv'], { transB: 1 }); // (N, 3C)
  const [q0, k0, v0] = g.op('Split', [qkv, g.ints([C, C, C])], { axis: 1 }, 3) as [string, string, string]; // (N, C) each
  const heads = g.ints([s.B, s.T, H, hd]);
  const q = rope(g, g.one('Reshape', [q0, heads]), s, tables, false); // (B, T, H, hd)
  const k = rope(g, g.one('Reshape', [k0, heads]), s, tables, false);
  const v = g.one('Reshape', [v0, heads]);
  const { P } = probabilities(g, q, k, s);
  const Y = g.one('MatMul', [P, g.one('Transpose', [v], { perm: [0, 2, 1, 3] })]); // (B, H, T, hd)
  const y = g.one('Reshape', [g.one('Transpose', [Y], { perm: [0, 2, 1, 3] }), g.ints([N, C])]); // (N, C)
  const out = g.one('Add', ['x', g.one('Gemm', [y, 'Wo'], { transB: 1 })]);
  g.rename(out, 'out');
  g.rename(h, 'h');
  g.rename(q, 'q');
  g.rename(k, 'k');
  g.rename(v, 'v');
  g.rename(y, 'y');
  const headShape = [s.B, s.T, H, hd];
  return g.graph(
    [
      { name: 'x', shape: [N, C] },
      { name: 'g', shape: [C] },
      { name: 'Wqkv', shape: [3 * C, C] },
      { name: 'Wo', shape: [C, C] },
    ],
    [
      { name: 'out', shape: [N, C] },
      { name: 'h', shape: [N, C] },
      { name: 'q', shape: headShape },
      { name: 'k', shape: headShape },
      { name: 'v', shape: headShape },
      { name: 'y', shape: [N, C] },
    ],
  );
}

/**
 * Attention block backward. Inputs dout (N, C), x, g, h, q, k, v, y, Wqkv, Wo (as in the forward).
 * Outputs dx (N, C) (residual included), dg (C), dWqkv (3C, C), dWo (C, C).
 */
export function attentionBackwardGraph(s: BlockShape): OnnxGraph {
  const g = new GraphBuilder();
  const { C, H } = s;
  const N = rows(s);
  const hd = C / H;
  const tables = ropeTables(g, s.T, hd, s.ropeTheta);
  const dy = g.one('Gemm', ['dout', 'Wo']); // (N, C)
  const dWo = g.one('Gemm', ['dout', 'y'], { transA: 1 }); // (C, C)
  const dY = g.one('Transpose', [g.one('Reshape', [dy, g.ints([s.B, s.T, H, hd])])], { perm: [0, 2, 1, 3] }); // (B, H, T, hd)
  const { P, qt, scale } = probabilities(g, 'q', 'k', s);
  const dV = g.one('MatMul', [g.one('Transpose', [P], { perm: [0, 1, 3, 2] }), dY]); // (B, H, T, hd)
  const dP = g.one('MatMul', [dY, g.one('Transpose', ['v'], { perm: [0, 2, 3, 1] })]); // (B, H, T, T)
  const rowDot = g.one('ReduceSum', [g.one('Mul', [dP, P]), g.ints([-1])], { keepdims: 1 }); // (B, H, T, 1)
  const dS = g.one('Mul', [g.one('Mul', [g.one('Sub', [dP, rowDot]), P]), scale]); // (B, H, T, T)
  const dQ = g.one('MatMul', [dS, g.one('Transpose', ['k'], { perm: [0, 2, 1, 3] })]); // (B, H, T, hd)
  const dK = g.one('MatMul', [g.one('Transpose', [dS], { perm: [0, 1, 3, 2] }), qt]); // (B, H, T, hd)
  const back = (t: string): string => g.one('Transpose', [t], { perm: [0, 2, 1, 3] }); // → (B, T, H, hd)
  const flat = g.ints([N, C]);
  const dq = g.one('Reshape', [rope(g, back(dQ), s, tables, true), flat]); // (N, C)
  const dk = g.one('Reshape', [rope(g, back(dK), s, tables, true), flat]);
  const dv = g.one('Reshape', [back(dV), flat]);
  const dqkv = g.one('Concat', [dq, dk, dv], { axis: 1 }); // (N, 3C)
  const dh = g.one('Gemm', [dqkv, 'Wqkv']); // (N, C)
  const dWqkv = g.one('Gemm', [dqkv, 'h'], { transA: 1 }); // (3C, C)
  const [dxNorm, dg] = rmsNormBackward(g, dh, 'x', 'g', C, s.eps);
  g.rename(g.one('Add', ['dout', dxNorm]), 'dx');
  g.rename(dg, 'dg');
  g.rename(dWqkv, 'dWqkv');
  g.rename(dWo, 'dWo');
  const headShape = [s.B, s.T, H, hd];
  return g.graph(
    [
      { name: 'dout', shape: [N, C] },
      { name: 'x', shape: [N, C] },
      { name: 'g', shape: [C] },
      { name: 'h', shape: [N, C] },
      { name: 'q', shape: headShape },
      { name: 'k', shape: headShape },
      { name: 'v', shape: headShape },
      { name: 'y', shape: [N, C] },
      { name: 'Wqkv', shape: [3 * C, C] },
      { name: 'Wo', shape: [C, C] },
    ],
    [
      { name: 'dx', shape: [N, C] },
      { name: 'dg', shape: [C] },
      { name: 'dWqkv', shape: [3 * C, C] },
      { name: 'dWo', shape: [C, C] },
    ],
  );
}

/**
 * FFN block forward. Inputs x (N, C), g (C), Wgu (2F, C) = [Wgate; Wup], Wdown (C, F).
 * Outputs out = x + Wdown·(silu(Wgate·h) ⊙ Wup·h) (N, C) with h = rmsnorm(x)·g, and h, gu (N, 2F), a (N, F).
 */
export function ffnForwardGraph(s: BlockShape): OnnxGraph {
  const g = new GraphBuilder();
  const { C, F } = s;
  const N = rows(s);
  const [h] = rmsNorm(g, 'x', 'g', s.eps);
  const gu = g.one('Gemm', [h, 'Wgu'], { transB: 1 }); // (N, 2F)
  const [gate, up] = g.op('Split', [gu, g.ints([F, F])], { axis: 1 }, 2) as [string, string]; // (N, F) each
  const a = g.one('Mul', [g.one('Mul', [gate, g.one('Sigmoid', [gate])]), up]); // (N, F)
  g.rename(g.one('Add', ['x', g.one('Gemm', [a, 'Wdown'], { transB: 1 })]), 'out');
  g.rename(h, 'h');
  g.rename(gu, 'gu');
  g.rename(a, 'a');
  return g.graph(
    [
      { name: 'x', shape: [N, C] },
      { name: 'g', shape: [C] },
      { name: 'Wgu', shape: [2 * F, C] },
      { name: 'Wdown', shape: [C, F] },
    ],
    [
      { name: 'out', shape: [N, C] },
      { name: 'h', shape: [N, C] },
      { name: 'gu', shape: [N, 2 * F] },
      { name: 'a', shape: [N, F] },
    ],
  );
}

/** FFN block backward. Inputs dout, x, g, h, gu, a, Wgu, Wdown. Outputs dx (residual included), dg, dWgu, dWdown. */
export function ffnBackwardGraph(s: BlockShape): OnnxGraph {
  const g = new GraphBuilder();
  const { C, F } = s;
  const N = rows(s);
  const da = g.one('Gemm', ['dout', 'Wdown']); // (N, F)
  const dWdown = g.one('Gemm', ['dout', 'a'], { transA: 1 }); // (C, F)
  const [gate, up] = g.op('Split', ['gu', g.ints([F, F])], { axis: 1 }, 2) as [string, string];
  const sig = g.one('Sigmoid', [gate]);
  const silu = g.one('Mul', [gate, sig]);
  const dUp = g.one('Mul', [da, silu]); // (N, F)
  // d silu/d gate = σ(g)·(1 + g·(1 − σ(g)))
  const dSilu = g.one('Mul', [
    sig,
    g.one('Add', [g.floats([1], []), g.one('Mul', [gate, g.one('Sub', [g.floats([1], []), sig])])]),
  ]);
  const dGate = g.one('Mul', [g.one('Mul', [da, up]), dSilu]); // (N, F)
  const dgu = g.one('Concat', [dGate, dUp], { axis: 1 }); // (N, 2F)
  const dh = g.one('Gemm', [dgu, 'Wgu']); // (N, C)
  const dWgu = g.one('Gemm', [dgu, 'h'], { transA: 1 }); // (2F, C)
  const [dxNorm, dg] = rmsNormBackward(g, dh, 'x', 'g', C, s.eps);
  g.rename(g.one('Add', ['dout', dxNorm]), 'dx');
  g.rename(dg, 'dg');
  g.rename(dWgu, 'dWgu');
  g.rename(dWdown, 'dWdown');
  return g.graph(
    [
      { name: 'dout', shape: [N, C] },
      { name: 'x', shape: [N, C] },
      { name: 'g', shape: [C] },
      { name: 'h', shape: [N, C] },
      { name: 'gu', shape: [N, 2 * F] },
      { name: 'a', shape: [N, F] },
      { name: 'Wgu', shape: [2 * F, C] },
      { name: 'Wdown', shape: [C, F] },
    ],
    [
      { name: 'dx', shape: [N, C] },
      { name: 'dg', shape: [C] },
      { name: 'dWgu', shape: [2 * F, C] },
      { name: 'dWdown', shape: [C, F] },
    ],
  );
}

/**
 * Final RMSNorm + output head + softmax cross-entropy. Inputs x (N, C), g (C), W (V, C), targets (N) int32, and
 * with `backward` weight (N) (0 = ignore; the caller folds in 1/count). Outputs nll (N), and with `backward`
 * dx (N, C), dg (C), dW (V, C) of Σ weight·nll. With `logitsOnly`, outputs logits (N, V) instead.
 */
export function headGraph(
  N: number,
  C: number,
  V: number,
  eps: number,
  mode: 'loss' | 'backward' | 'logits',
): OnnxGraph {
  const g = new GraphBuilder();
  const [h] = rmsNorm(g, 'x', 'g', eps);
  const logits = g.one('Gemm', [h, 'W'], { transB: 1 }); // (N, V)
  const inputs: OnnxValue[] = [
    { name: 'x', shape: [N, C] },
    { name: 'g', shape: [C] },
    { name: 'W', shape: [V, C] },
  ];
  if (mode === 'logits') {
    g.rename(logits, 'logits');
    return g.graph(inputs, [{ name: 'logits', shape: [N, V] }]);
  }
  inputs.push({ name: 'targets', type: OnnxType.int32, shape: [N] });
  const logp = g.one('LogSoftmax', [logits], { axis: 1 }); // (N, V)
  const t64 = g.one('Cast', ['targets'], { to: OnnxType.int64 }); // (N)
  const column = g.ints([1]);
  const picked = g.one('GatherElements', [logp, g.one('Unsqueeze', [t64, column])], { axis: 1 }); // (N, 1)
  g.rename(g.one('Squeeze', [g.one('Neg', [picked]), column]), 'nll');
  if (mode === 'loss') return g.graph(inputs, [{ name: 'nll', shape: [N] }]);
  inputs.push({ name: 'weight', shape: [N] });
  const Y = g.one('OneHot', [t64, g.ints([V], []), g.floats([0, 1], [2])], { axis: -1 }); // (N, V)
  const G = g.one('Mul', [g.one('Sub', [g.one('Exp', [logp]), Y]), g.one('Unsqueeze', ['weight', column])]); // (N, V) dLoss/dlogits
  const dh = g.one('MatMul', [G, 'W']); // (N, C)
  g.rename(g.one('Gemm', [G, h], { transA: 1 }), 'dW'); // (V, C)
  const [dx, dg] = rmsNormBackward(g, dh, 'x', 'g', C, eps);
  g.rename(dx, 'dx');
  g.rename(dg, 'dg');
  return g.graph(inputs, [
    { name: 'nll', shape: [N] },
    { name: 'dx', shape: [N, C] },
    { name: 'dg', shape: [C] },
    { name: 'dW', shape: [V, C] },
  ]);
}
