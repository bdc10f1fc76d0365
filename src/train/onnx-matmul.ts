/**
 * The trainer's heavy kernels, each a tiny hand-built ONNX graph run by onnxruntime-node: linear layers (forward, and
 * dX + dW in one run), causal attention (forward, and a backward that recomputes the probabilities instead of storing
 * them), and the output head fused with softmax cross-entropy and its gradient, so the (tokens × vocab) logits never
 * leave ORT. One session per graph and shape, cached. Everything else (RMSNorm, RoPE, SwiGLU, AdamW) is plain
 * Float32Array loops in model.ts / optimizer.ts: measured cheap next to these (../shared/research/embedded-model.md).
 */
import * as ort from 'onnxruntime-node';
import { encodeOnnxModel, OnnxType, type OnnxGraph, type OnnxInitializer, type OnnxNode } from './onnx-graph.js';

export interface OnnxKernelsOptions {
  /** ORT intra-op threads. Default 2: the machines this trains on have 2 cores and matmuls scale to both. */
  threads?: number;
}

function floatConst(name: string, values: number[], dims: number[] = [values.length]): OnnxInitializer {
  return { name, type: OnnxType.float, dims, data: Float32Array.from(values) };
}

function int64Const(name: string, values: number[], dims: number[] = [values.length]): OnnxInitializer {
  return { name, type: OnnxType.int64, dims, data: BigInt64Array.from(values.map(BigInt)) };
}

function tensor(data: Float32Array, dims: number[]): ort.Tensor {
  return new ort.Tensor('float32', data, dims);
}

function out(result: ort.InferenceSession.ReturnType, name: string): Float32Array {
  const value = result[name];
  if (!value) throw new Error(`onnx kernel: missing output ${name}`);
  return value.data as Float32Array;
}

/** Causal additive mask (T, T): 0 on and below the diagonal, -1e9 above. */
function causalMask(T: number): Float32Array {
  const mask = new Float32Array(T * T); // (T, T)
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) mask[i * T + j] = -1e9;
  return mask;
}

export class OnnxKernels {
  readonly threads: number;
  private sessions = new Map<string, Promise<ort.InferenceSession>>();

  constructor({ threads = 2 }: OnnxKernelsOptions = {}) {
    this.threads = threads;
  }

  private session(key: string, build: () => OnnxGraph): Promise<ort.InferenceSession> {
    let session = this.sessions.get(key);
    if (!session) {
      session = ort.InferenceSession.create(encodeOnnxModel(build()), {
        intraOpNumThreads: this.threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
        executionMode: 'sequential',
        logSeverityLevel: 3,
      });
      this.sessions.set(key, session);
    }
    return session;
  }

  /** y = x · Wᵀ. x: (N, K), W: (M, K) row-major [out][in] → y: (N, M). */
  async linear(x: Float32Array, W: Float32Array, N: number, K: number, M: number): Promise<Float32Array> {
    const session = await this.session(`linear:${N}:${K}:${M}`, () => ({
      nodes: [{ op: 'Gemm', inputs: ['x', 'W'], outputs: ['y'], attributes: { transB: 1 } }],
      inputs: [{ name: 'x', shape: [N, K] }, { name: 'W', shape: [M, K] }],
      outputs: [{ name: 'y', shape: [N, M] }],
    }));
    return out(await session.run({ x: tensor(x, [N, K]), W: tensor(W, [M, K]) }), 'y');
  }

  /** Backward of `linear`: dx = dy · W (N, K) and dW = dyᵀ · x (M, K), in one run. */
  async linearBackward(dy: Float32Array, x: Float32Array, W: Float32Array, N: number, K: number, M: number): Promise<{ dx: Float32Array; dW: Float32Array }> {
    const session = await this.session(`linear-back:${N}:${K}:${M}`, () => ({
      nodes: [
        { op: 'Gemm', inputs: ['dy', 'W'], outputs: ['dx'] },
        { op: 'Gemm', inputs: ['dy', 'x'], outputs: ['dW'], attributes: { transA: 1 } },
      ],
      inputs: [{ name: 'dy', shape: [N, M] }, { name: 'x', shape: [N, K] }, { name: 'W', shape: [M, K] }],
      outputs: [{ name: 'dx', shape: [N, K] }, { name: 'dW', shape: [M, K] }],
    }));
    const result = await session.run({ dy: tensor(dy, [N, M]), x: tensor(x, [N, K]), W: tensor(W, [M, K]) });
    return { dx: out(result, 'dx'), dW: out(result, 'dW') };
  }

  /** The attention probabilities P (B, H, T, T) from q, k (B, T, H, hd), as graph nodes. */
  private attentionProbabilities(T: number, headDim: number): { nodes: OnnxGraph['nodes']; initializers: OnnxInitializer[] } {
    return {
      nodes: [
        { op: 'Transpose', inputs: ['q'], outputs: ['qt'], attributes: { perm: [0, 2, 1, 3] } }, // (B, H, T, hd)
        { op: 'Transpose', inputs: ['k'], outputs: ['kT'], attributes: { perm: [0, 2, 3, 1] } }, // (B, H, hd, T)
        { op: 'MatMul', inputs: ['qt', 'kT'], outputs: ['S0'] }, // (B, H, T, T)
        { op: 'Mul', inputs: ['S0', 'scale'], outputs: ['S1'] },
        { op: 'Add', inputs: ['S1', 'mask'], outputs: ['S'] },
        { op: 'Softmax', inputs: ['S'], outputs: ['P'], attributes: { axis: -1 } }, // (B, H, T, T)
      ],
      initializers: [
        floatConst('scale', [1 / Math.sqrt(headDim)], []),
        { name: 'mask', type: OnnxType.float, dims: [T, T], data: causalMask(T) },
      ],
    };
  }

  /** Causal softmax attention. q, k, v: (B, T, H, hd) → y: (B, T, H, hd). */
  async attention(q: Float32Array, k: Float32Array, v: Float32Array, B: number, T: number, H: number, hd: number): Promise<Float32Array> {
    const dims = [B, T, H, hd];
    const session = await this.session(`attention:${dims.join(':')}`, () => {
      const probabilities = this.attentionProbabilities(T, hd);
      return {
        nodes: [
          ...probabilities.nodes,
          { op: 'Transpose', inputs: ['v'], outputs: ['vt'], attributes: { perm: [0, 2, 1, 3] } }, // (B, H, T, hd)
          { op: 'MatMul', inputs: ['P', 'vt'], outputs: ['Y'] }, // (B, H, T, hd)
          { op: 'Transpose', inputs: ['Y'], outputs: ['y'], attributes: { perm: [0, 2, 1, 3] } }, // (B, T, H, hd)
        ],
        initializers: probabilities.initializers,
        inputs: ['q', 'k', 'v'].map((name) => ({ name, shape: dims })),
        outputs: [{ name: 'y', shape: dims }],
      };
    });
    return out(await session.run({ q: tensor(q, dims), k: tensor(k, dims), v: tensor(v, dims) }), 'y');
  }

  /** Backward of `attention` (recomputes P): dq, dk, dv (B, T, H, hd) from dy (B, T, H, hd). */
  async attentionBackward(q: Float32Array, k: Float32Array, v: Float32Array, dy: Float32Array, B: number, T: number, H: number, hd: number): Promise<{ dq: Float32Array; dk: Float32Array; dv: Float32Array }> {
    const dims = [B, T, H, hd];
    const session = await this.session(`attention-back:${dims.join(':')}`, () => {
      const probabilities = this.attentionProbabilities(T, hd);
      return {
        nodes: [
          ...probabilities.nodes,
          { op: 'Transpose', inputs: ['dy'], outputs: ['dY'], attributes: { perm: [0, 2, 1, 3] } }, // (B, H, T, hd)
          { op: 'Transpose', inputs: ['P'], outputs: ['PT'], attributes: { perm: [0, 1, 3, 2] } }, // (B, H, T, T)
          { op: 'MatMul', inputs: ['PT', 'dY'], outputs: ['dV'] }, // (B, H, T, hd)
          { op: 'Transpose', inputs: ['v'], outputs: ['vT'], attributes: { perm: [0, 2, 3, 1] } }, // (B, H, hd, T)
          { op: 'MatMul', inputs: ['dY', 'vT'], outputs: ['dP'] }, // (B, H, T, T)
          { op: 'Mul', inputs: ['dP', 'P'], outputs: ['dPP'] },
          { op: 'ReduceSum', inputs: ['dPP', 'lastAxis'], outputs: ['rowDot'], attributes: { keepdims: 1 } }, // (B, H, T, 1)
          { op: 'Sub', inputs: ['dP', 'rowDot'], outputs: ['dPc'] },
          { op: 'Mul', inputs: ['dPc', 'P'], outputs: ['dS0'] },
          { op: 'Mul', inputs: ['dS0', 'scale'], outputs: ['dS'] }, // (B, H, T, T)
          { op: 'Transpose', inputs: ['k'], outputs: ['kt'], attributes: { perm: [0, 2, 1, 3] } }, // (B, H, T, hd)
          { op: 'MatMul', inputs: ['dS', 'kt'], outputs: ['dQ'] }, // (B, H, T, hd)
          { op: 'Transpose', inputs: ['dS'], outputs: ['dST'], attributes: { perm: [0, 1, 3, 2] } },
          { op: 'MatMul', inputs: ['dST', 'qt'], outputs: ['dK'] }, // (B, H, T, hd)
          { op: 'Transpose', inputs: ['dQ'], outputs: ['dq'], attributes: { perm: [0, 2, 1, 3] } },
          { op: 'Transpose', inputs: ['dK'], outputs: ['dk'], attributes: { perm: [0, 2, 1, 3] } },
          { op: 'Transpose', inputs: ['dV'], outputs: ['dv'], attributes: { perm: [0, 2, 1, 3] } },
        ],
        initializers: [...probabilities.initializers, int64Const('lastAxis', [-1])],
        inputs: ['q', 'k', 'v', 'dy'].map((name) => ({ name, shape: dims })),
        outputs: ['dq', 'dk', 'dv'].map((name) => ({ name, shape: dims })),
      };
    });
    const result = await session.run({ q: tensor(q, dims), k: tensor(k, dims), v: tensor(v, dims), dy: tensor(dy, dims) });
    return { dq: out(result, 'dq'), dk: out(result, 'dk'), dv: out(result, 'dv') };
  }

  /**
   * Output head + softmax cross-entropy. x: (N, C), W: (V, C), targets: (N) token ids, weight: (N) per-token loss
   * weight (0 for padding; the caller folds in 1/count). Returns nll (N) (unweighted, nats), and when `backward`:
   * dx (N, C) and dW (V, C) of Σ weight·nll.
   */
  async crossEntropyHead(x: Float32Array, W: Float32Array, targets: Int32Array, weight: Float32Array, N: number, C: number, V: number, backward: boolean): Promise<{ nll: Float32Array; dx?: Float32Array; dW?: Float32Array }> {
    const session = await this.session(`head:${N}:${C}:${V}:${backward}`, (): OnnxGraph => ({
      nodes: [
        { op: 'Gemm', inputs: ['x', 'W'], outputs: ['logits'], attributes: { transB: 1 } }, // (N, V)
        { op: 'LogSoftmax', inputs: ['logits'], outputs: ['logp'], attributes: { axis: 1 } }, // (N, V)
        { op: 'Cast', inputs: ['targets'], outputs: ['t64'], attributes: { to: OnnxType.int64 } }, // (N)
        { op: 'Unsqueeze', inputs: ['t64', 'axis1'], outputs: ['tcol'] }, // (N, 1)
        { op: 'GatherElements', inputs: ['logp', 'tcol'], outputs: ['lpt'], attributes: { axis: 1 } }, // (N, 1)
        { op: 'Neg', inputs: ['lpt'], outputs: ['nll2'] },
        { op: 'Squeeze', inputs: ['nll2', 'axis1'], outputs: ['nll'] }, // (N)
        ...(backward
          ? ([
              { op: 'Exp', inputs: ['logp'], outputs: ['P'] }, // (N, V)
              { op: 'OneHot', inputs: ['t64', 'depth', 'onOff'], outputs: ['Y'], attributes: { axis: -1 } }, // (N, V)
              { op: 'Sub', inputs: ['P', 'Y'], outputs: ['G0'] },
              { op: 'Unsqueeze', inputs: ['weight', 'axis1'], outputs: ['wcol'] }, // (N, 1)
              { op: 'Mul', inputs: ['G0', 'wcol'], outputs: ['G'] }, // (N, V) dLoss/dlogits
              { op: 'MatMul', inputs: ['G', 'W'], outputs: ['dx'] }, // (N, C)
              { op: 'Gemm', inputs: ['G', 'x'], outputs: ['dW'], attributes: { transA: 1 } }, // (V, C)
            ] satisfies OnnxNode[])
          : []),
      ],
      initializers: [int64Const('axis1', [1]), int64Const('depth', [V], []), floatConst('onOff', [0, 1])],
      inputs: [
        { name: 'x', shape: [N, C] },
        { name: 'W', shape: [V, C] },
        { name: 'targets', type: OnnxType.int32, shape: [N] },
        ...(backward ? [{ name: 'weight', shape: [N] }] : []),
      ],
      outputs: [{ name: 'nll', shape: [N] }, ...(backward ? [{ name: 'dx', shape: [N, C] }, { name: 'dW', shape: [V, C] }] : [])],
    }));
    const feeds: Record<string, ort.Tensor> = {
      x: tensor(x, [N, C]),
      W: tensor(W, [V, C]),
      targets: new ort.Tensor('int32', targets, [N]),
    };
    if (backward) feeds['weight'] = tensor(weight, [N]);
    const result = await session.run(feeds);
    return backward ? { nll: out(result, 'nll'), dx: out(result, 'dx'), dW: out(result, 'dW') } : { nll: out(result, 'nll') };
  }

  /** Logits only: x (N, C) · Wᵀ (V, C) → (N, V). Used by evaluation and the golden test. */
  logits(x: Float32Array, W: Float32Array, N: number, C: number, V: number): Promise<Float32Array> {
    return this.linear(x, W, N, C, V);
  }

  /**
   * Peak matmul throughput of this ORT build on this machine, in FLOP/s: the best of `repeats` timed runs of a
   * square-ish Gemm at each of the given shapes (M, K, N). The denominator of MFU.
   */
  async measurePeakFlops(shapes: [number, number, number][] = [[512, 512, 512], [4096, 128, 384], [1024, 1024, 1024]], repeats = 5): Promise<{ flops: number; shape: [number, number, number] }> {
    let best = { flops: 0, shape: shapes[0]! };
    for (const [M, K, N] of shapes) {
      const x = new Float32Array(M * K).map(() => Math.random() - 0.5);
      const W = new Float32Array(N * K).map(() => Math.random() - 0.5);
      await this.linear(x, W, M, K, N); // warm-up (session creation, allocator)
      for (let i = 0; i < repeats; i++) {
        const start = process.hrtime.bigint();
        await this.linear(x, W, M, K, N);
        const seconds = Number(process.hrtime.bigint() - start) / 1e9;
        const flops = (2 * M * K * N) / seconds;
        if (flops > best.flops) best = { flops, shape: [M, K, N] };
      }
    }
    return best;
  }

  async release(): Promise<void> {
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    for (const session of sessions) await (await session).release();
  }
}
