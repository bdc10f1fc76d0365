/**
 * Next-token log-probabilities on both sides of a GGUF golden test: from llama.cpp (through node-llama-cpp) and from
 * logits computed in JS (the trainer's forward or the reference forward), plus the two comparisons the tests make.
 * One copy of the node-llama-cpp loop, so a fix to how it reads probabilities is made once.
 */
import type { LlamaModel, Token } from 'node-llama-cpp';

export interface LlamaLogProbabilityOptions {
  vocabSize: number;
  /** Context size of the evaluation context; at least `tokens.length + 1`. */
  contextSize: number;
}

/**
 * log p(next token | tokens) from llama.cpp with an f32 KV cache and no flash attention, as a dense array over the
 * vocabulary; tokens llama.cpp does not report get -Infinity. At temperature 1 with top-k and top-p off it reports
 * every token it gives a non-zero probability.
 */
export async function llamaNextTokenLogProbabilities(
  model: LlamaModel,
  tokens: readonly number[],
  options: LlamaLogProbabilityOptions,
): Promise<Float64Array> {
  const context = await model.createContext({
    contextSize: options.contextSize,
    threads: 1,
    flashAttention: false,
    experimentalKvCacheKeyType: 'F32',
    experimentalKvCacheValueType: 'F32',
  });
  try {
    // The probabilities come with a sampled token. yieldEogToken: a sampled end-of-generation token would otherwise
    // end the evaluation without yielding them (which token is sampled changes with the tokenizer and the weights);
    // the seed makes the sample, and so the run, repeatable.
    const sampling = { temperature: 1, topK: 0, topP: 1, seed: 1, yieldEogToken: true };
    for await (const output of context
      .getSequence()
      .evaluateWithMetadata(tokens as Token[], { probabilities: true }, sampling)) {
      const result = new Float64Array(options.vocabSize).fill(-Infinity);
      for (const [token, probability] of output.probabilities) result[token] = Math.log(probability);
      return result;
    }
    throw new Error('node-llama-cpp yielded no output for the next token');
  } finally {
    await context.dispose();
  }
}

/** log softmax of one row of logits, in f64. */
export function logSoftmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  let total = 0;
  for (let i = 0; i < logits.length; i++) total += Math.exp(logits[i]! - max);
  return Float64Array.from(logits, (value) => value - max - Math.log(total));
}

/** Index of the largest value (the first one on ties). */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/**
 * max |a[i] − b[i]|. A token missing on one side only (-Infinity there) makes it NaN, which fails any `<` check;
 * `reportedOnly` compares just the tokens `b` reports (finite in `b`).
 */
export function maxDifference(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  options: { reportedOnly?: boolean } = {},
): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    if (options.reportedOnly && b[i] === -Infinity) continue;
    max = Math.max(max, Math.abs(a[i]! - b[i]!));
  }
  return max;
}
