/**
 * Training batches from the packed token stream. Row b of every batch reads its own stream position
 * (b·len/B + step·T), so a batch mixes B distant parts of the corpus and the whole state is the step number:
 * resuming needs no cursor beyond it. Each context of T+1 tokens gets the FIM transform with a PRNG seeded by
 * (seed, step, row), so a resumed run sees exactly the batches an uninterrupted one would.
 */
import type { BpeTokenizer } from './bpe-tokenizer.js';
import { fimTransformContext, type FimTransformOptions } from './fim-transform.js';
import { createRandom } from './model.js';

export interface Batch {
  inputs: Int32Array; // (B·T)
  targets: Int32Array; // (B·T)
  weights: Float32Array; // (B·T) 0 on padding
}

export class DataLoader {
  constructor(
    private readonly stream: Uint16Array,
    private readonly tokenizer: BpeTokenizer,
    private readonly B: number,
    private readonly T: number,
    private readonly fim: FimTransformOptions,
    private readonly seed: number,
  ) {
    if (stream.length < (T + 1) * B)
      throw new Error(`data: the token stream has ${stream.length} tokens, fewer than one batch (${(T + 1) * B})`);
  }

  /** Which pass over the stream `step` is in (1 = first). */
  epoch(step: number): number {
    return 1 + Math.floor((step * this.T) / (this.stream.length / this.B));
  }

  batch(step: number): Batch {
    const { B, T, stream } = this;
    const inputs = new Int32Array(B * T); // (B, T)
    const targets = new Int32Array(B * T); // (B, T)
    const weights = new Float32Array(B * T); // (B, T)
    const length = stream.length;
    for (let b = 0; b < B; b++) {
      const start = (Math.floor((b * length) / B) + step * T) % length;
      const context: number[] = new Array(T + 1);
      for (let t = 0; t <= T; t++) context[t] = stream[(start + t) % length]!;
      const random = createRandom((this.seed ^ Math.imul(step + 1, 0x9e3779b1) ^ Math.imul(b + 1, 0x85ebca6b)) >>> 0);
      const { tokens, weights: tokenWeights } = fimTransformContext(context, this.tokenizer, random.next, this.fim);
      for (let t = 0; t < T; t++) {
        inputs[b * T + t] = tokens[t]!;
        targets[b * T + t] = tokens[t + 1]!;
        weights[b * T + t] = tokenWeights[t + 1]!;
      }
    }
    return { inputs, targets, weights };
  }
}

/** Plain next-token windows (no FIM) over a held-out stream: up to `count` windows of T+1 at stride T. */
export function evaluationWindows(stream: Uint16Array, T: number, count: number): Batch & { B: number } {
  const B = Math.max(0, Math.min(count, Math.floor((stream.length - 1) / T)));
  const inputs = new Int32Array(B * T);
  const targets = new Int32Array(B * T);
  const weights = new Float32Array(B * T).fill(1);
  // spread the windows over the whole stream
  const stride = B > 0 ? Math.floor((stream.length - 1 - T) / Math.max(1, B - 1)) : 0;
  for (let b = 0; b < B; b++) {
    const start = Math.min(b * stride, stream.length - 1 - T);
    for (let t = 0; t < T; t++) {
      inputs[b * T + t] = stream[start + t]!;
      targets[b * T + t] = stream[start + t + 1]!;
    }
  }
  return { inputs, targets, weights, B };
}
