/**
 * A plain f32 forward pass of the Llama model llama-gguf.ts writes, for golden tests: the logits llama.cpp computes
 * from a GGUF must match these for the same weights and tokens. No KV cache and no speed tricks: it is an oracle,
 * written to be read against the definitions in llama-gguf.ts (RMSNorm, NORM RoPE on adjacent pairs, causal GQA
 * attention, SwiGLU FFN, tied or separate output).
 */
import type { LlamaConfig, LlamaWeights } from './llama-gguf.js';

/** y[out] = W[out][in] · x[in] for a row-major [rows][columns] matrix. */
function matVec(W: Float32Array, x: Float32Array, rows: number, columns: number): Float32Array {
  const y = new Float32Array(rows); // (rows)
  for (let row = 0; row < rows; row++) {
    let sum = 0;
    const offset = row * columns;
    for (let column = 0; column < columns; column++) sum += W[offset + column]! * x[column]!;
    y[row] = sum;
  }
  return y;
}

function rmsNorm(x: Float32Array, weight: Float32Array, eps: number): Float32Array {
  let sumOfSquares = 0;
  for (const value of x) sumOfSquares += value * value;
  const scale = 1 / Math.sqrt(sumOfSquares / x.length + eps);
  return x.map((value, index) => value * scale * weight[index]!);
}

/** Rotates adjacent pairs (v[2i], v[2i+1]) of each head by position·θ_i, θ_i = theta^(-2i/headDim), in place. */
function applyRope(v: Float32Array, headCount: number, headDim: number, position: number, theta: number): void {
  for (let head = 0; head < headCount; head++) {
    for (let i = 0; i < headDim / 2; i++) {
      const angle = position * Math.pow(theta, (-2 * i) / headDim);
      const cos = Math.cos(angle);
      const sin = Math.sin(angle);
      const index = head * headDim + 2 * i;
      const x0 = v[index]!;
      const x1 = v[index + 1]!;
      v[index] = x0 * cos - x1 * sin;
      v[index + 1] = x0 * sin + x1 * cos;
    }
  }
}

/**
 * Logits for every position of `tokens`: an array of T Float32Arrays of vocabSize. `logits[t]` predicts token t+1.
 */
export function referenceForward(
  config: LlamaConfig,
  weights: LlamaWeights,
  tokens: readonly number[],
): Float32Array[] {
  const { vocabSize, dim, heads, kvHeads, ffDim, ropeTheta, normEps } = config;
  const headDim = dim / heads;
  const groupSize = heads / kvHeads; // query heads per kv head
  const T = tokens.length;
  const keys: Float32Array[][] = weights.layers.map(() => []); // [layer][t] (kvHeads*headDim)
  const values: Float32Array[][] = weights.layers.map(() => []); // [layer][t] (kvHeads*headDim)
  const output = weights.output ?? weights.tokenEmbedding; // [vocabSize][dim]
  const logits: Float32Array[] = [];
  for (let t = 0; t < T; t++) {
    const token = tokens[t]!;
    if (token < 0 || token >= vocabSize)
      throw new RangeError(`token ${token} is outside the vocabulary (0..${vocabSize - 1})`);
    let x = weights.tokenEmbedding.slice(token * dim, (token + 1) * dim); // (dim)
    weights.layers.forEach((layer, layerIndex) => {
      const h = rmsNorm(x, layer.attnNorm, normEps); // (dim)
      const q = matVec(layer.wq, h, heads * headDim, dim); // (heads*headDim)
      const k = matVec(layer.wk, h, kvHeads * headDim, dim); // (kvHeads*headDim)
      const v = matVec(layer.wv, h, kvHeads * headDim, dim); // (kvHeads*headDim)
      applyRope(q, heads, headDim, t, ropeTheta);
      applyRope(k, kvHeads, headDim, t, ropeTheta);
      keys[layerIndex]!.push(k);
      values[layerIndex]!.push(v);
      const attention = new Float32Array(heads * headDim); // (heads*headDim)
      for (let head = 0; head < heads; head++) {
        const kvHead = Math.floor(head / groupSize);
        const scores = new Float64Array(t + 1); // (t+1)
        let max = -Infinity;
        for (let s = 0; s <= t; s++) {
          const key = keys[layerIndex]![s]!;
          let dot = 0;
          for (let i = 0; i < headDim; i++) dot += q[head * headDim + i]! * key[kvHead * headDim + i]!;
          scores[s] = dot / Math.sqrt(headDim);
          max = Math.max(max, scores[s]!);
        }
        let total = 0;
        for (let s = 0; s <= t; s++) total += scores[s] = Math.exp(scores[s]! - max);
        for (let s = 0; s <= t; s++) {
          const value = values[layerIndex]![s]!;
          const weight = scores[s]! / total;
          for (let i = 0; i < headDim; i++) attention[head * headDim + i]! += weight * value[kvHead * headDim + i]!;
        }
      }
      const attended = matVec(layer.wo, attention, dim, heads * headDim); // (dim)
      x = x.map((value, index) => value + attended[index]!);
      const h2 = rmsNorm(x, layer.ffnNorm, normEps); // (dim)
      const gate = matVec(layer.wGate, h2, ffDim, dim); // (ffDim)
      const up = matVec(layer.wUp, h2, ffDim, dim); // (ffDim)
      const hidden = gate.map((g, index) => (g / (1 + Math.exp(-g))) * up[index]!); // silu(gate) * up, (ffDim)
      const down = matVec(layer.wDown, hidden, dim, ffDim); // (dim)
      x = x.map((value, index) => value + down[index]!);
    });
    logits.push(matVec(output, rmsNorm(x, weights.outputNorm, normEps), vocabSize, dim));
  }
  return logits;
}
