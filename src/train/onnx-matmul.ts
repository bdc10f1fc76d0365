/**
 * Runs the trainer's hand-built ONNX graphs (onnx-blocks.ts) in onnxruntime-node: one InferenceSession per graph and
 * shape, cached; plus a plain Gemm (`linear`) and the peak-FLOP/s measurement that MFU is reported against.
 */
import type * as Ort from 'onnxruntime-node';
import { isPackageNotFound, MissingDependencyError } from '../core/index.js';
import { encodeOnnxModel, type OnnxGraph } from './onnx-graph.js';

export interface OnnxKernelsOptions {
  /** ORT intra-op threads. Default 2: the machines this trains on have 2 cores and matmuls scale to both. */
  threads?: number;
}

/** The version range `codeloop train` is tested with (package.json's peerDependencies). */
const ONNX_RUNTIME_VERSION = '1.30.0';

let onnxRuntime: Promise<typeof Ort> | undefined;

/**
 * onnxruntime-node, imported on first use: it is an optional peer dependency (its install script downloads files from
 * outside npm), so evaluating or serving never loads it and an install without it still works.
 */
export function loadOnnxRuntime(): Promise<typeof Ort> {
  onnxRuntime ??= import('onnxruntime-node').catch((error: unknown) => {
    onnxRuntime = undefined;
    if (isPackageNotFound(error, 'onnxruntime-node'))
      throw new MissingDependencyError('onnxruntime-node', 'training (codeloop train)', ONNX_RUNTIME_VERSION, {
        cause: error,
      });
    throw error;
  });
  return onnxRuntime;
}

function tensor(ort: typeof Ort, data: Float32Array, dims: number[]): Ort.Tensor {
  return new ort.Tensor('float32', data, dims);
}

function out(result: Ort.InferenceSession.ReturnType, name: string): Float32Array {
  const value = result[name];
  if (!value) throw new Error(`onnx kernel: missing output ${name}`);
  return value.data as Float32Array;
}

export class OnnxKernels {
  readonly threads: number;
  private sessions = new Map<string, Promise<Ort.InferenceSession>>();
  /** Set once the first session is made (every tensor is made after awaiting a session). */
  private ort: typeof Ort | undefined;

  constructor({ threads = 2 }: OnnxKernelsOptions = {}) {
    this.threads = threads;
  }

  private session(key: string, build: () => OnnxGraph): Promise<Ort.InferenceSession> {
    let session = this.sessions.get(key);
    if (!session) {
      session = loadOnnxRuntime().then((ort) => {
        this.ort = ort;
        return ort.InferenceSession.create(encodeOnnxModel(build()), {
          intraOpNumThreads: this.threads,
          interOpNumThreads: 1,
          graphOptimizationLevel: 'all',
          executionMode: 'sequential',
          logSeverityLevel: 3,
          // No spin-waiting between runs: on a shared 2-core machine spinning burns the CPU the JS side and other
          // processes need (measured: half the CPU time for the same wall time).
          extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
        });
      });
      this.sessions.set(key, session);
    }
    return session;
  }

  /** y = x · Wᵀ. x: (N, K), W: (M, K) row-major [out][in] → y: (N, M). */
  async linear(x: Float32Array, W: Float32Array, N: number, K: number, M: number): Promise<Float32Array> {
    const session = await this.session(`linear:${N}:${K}:${M}`, () => ({
      nodes: [{ op: 'Gemm', inputs: ['x', 'W'], outputs: ['y'], attributes: { transB: 1 } }],
      inputs: [
        { name: 'x', shape: [N, K] },
        { name: 'W', shape: [M, K] },
      ],
      outputs: [{ name: 'y', shape: [N, M] }],
    }));
    const ort = this.ort as typeof Ort;
    return out(await session.run({ x: tensor(ort, x, [N, K]), W: tensor(ort, W, [M, K]) }), 'y');
  }

  /**
   * Runs a graph (built once per `key`, then cached) on float32 / int32 inputs; returns every output's data.
   * Inputs are (data, dims) pairs; Int32Array inputs are int32 tensors.
   */
  async run(
    key: string,
    build: () => OnnxGraph,
    feeds: Record<string, [Float32Array | Int32Array, number[]]>,
  ): Promise<Record<string, Float32Array>> {
    const session = await this.session(key, build);
    const ort = this.ort as typeof Ort;
    const tensors: Record<string, Ort.Tensor> = {};
    for (const [name, [data, dims]] of Object.entries(feeds)) {
      tensors[name] = data instanceof Int32Array ? new ort.Tensor('int32', data, dims) : tensor(ort, data, dims);
    }
    const result = await session.run(tensors);
    const outputs: Record<string, Float32Array> = {};
    for (const name of session.outputNames) outputs[name] = out(result, name);
    return outputs;
  }

  /**
   * Peak matmul throughput of this ORT build on this machine, in FLOP/s: the best of `repeats` timed runs of a
   * square-ish Gemm at each of the given shapes (M, K, N). The denominator of MFU.
   */
  async measurePeakFlops(
    shapes: [number, number, number][] = [
      [512, 512, 512],
      [4096, 128, 384],
      [1024, 1024, 1024],
    ],
    repeats = 5,
  ): Promise<{ flops: number; shape: [number, number, number] }> {
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
