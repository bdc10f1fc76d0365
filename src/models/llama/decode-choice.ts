/**
 * The token loop of one choice: takes a sequence from the pool, evaluates the prompt (reusing the tokens the sequence
 * already holds), samples until an end token, a stop string or maxTokens, and yields the text as it is final.
 */
import type { LlamaContextSequence, LlamaModel, Token } from 'node-llama-cpp';
import type { FinishReason, GenerateOptions, TokenLogprob } from '../spec.js';
import { createStopCutter } from '../../core/index.js';
import type { Prepared } from './prompt-tokens.js';
import type { SequencePool } from './sequence-pool.js';

export type ChoicePart =
  | { type: 'text-delta'; text: string }
  | {
      type: 'end';
      finishReason: FinishReason;
      stopSequence?: string;
      completionTokens: number;
      logprobs?: TokenLogprob[];
    };

/** One choice on one sequence: evaluates the prompt (reusing the sequence's matching prefix), then samples. */
export async function* decodeChoice(
  model: LlamaModel,
  getPool: () => Promise<SequencePool>,
  prepared: Prepared,
  callOptions: GenerateOptions,
  seed: number,
  maxTokens: number,
): AsyncGenerator<ChoicePart> {
  const { signal, returnPartialOnAbort = false, temperature = 0, topP = 1, topK = 0 } = callOptions;
  let completionTokens = 0;
  const sequencePool = await getPool();
  let sequence: LlamaContextSequence | undefined;
  try {
    sequence = await sequencePool.acquire(signal);
    // Keep the longest prefix the sequence already holds; at least one prompt token must be evaluated anew so
    // that there are logits to sample the first token from.
    const held = sequence.contextTokens;
    let common = 0;
    const limit = Math.min(held.length, prepared.tokens.length - 1);
    while (common < limit && held[common] === prepared.tokens[common]) common++;
    if (common < sequence.nextTokenIndex)
      await sequence.eraseContextTokenRanges([{ start: common, end: sequence.nextTokenIndex }]);
    signal?.throwIfAborted();
    const cutter = createStopCutter(prepared.stop);
    const generated: Token[] = [];
    let pending: Token[] = [];
    if (maxTokens <= 0) {
      yield { type: 'end', finishReason: 'length', completionTokens };
      return;
    }
    const sampling = { temperature, topP, topK, minP: 0, ...(temperature > 0 ? { seed } : {}) };
    // With logprobs, each token comes with its probability in the distribution it was sampled from (after
    // temperature, top-k and top-p; at temperature 0 the model's own softmax), as llama-server's n_probs reports.
    const logprobs: TokenLogprob[] | undefined = callOptions.logprobs === true ? [] : undefined;
    const evaluation: AsyncGenerator<Token, void, void | Token | Token[]> = logprobs
      ? (async function* (): AsyncGenerator<Token, void, void | Token | Token[]> {
          const inner = sequence.evaluateWithMetadata(prepared.tokens.slice(common), { confidence: true }, sampling);
          try {
            for await (const output of inner) {
              logprobs.push({ token: model.detokenize([output.token], true), logprob: Math.log(output.confidence) });
              yield output.token;
            }
          } finally {
            await inner.return();
          }
        })()
      : sequence.evaluate(prepared.tokens.slice(common), sampling);
    let finishReason: FinishReason = 'stop';
    let stopSequence: string | undefined;
    try {
      for await (const token of evaluation) {
        signal?.throwIfAborted();
        if (prepared.endTokens.has(token)) {
          logprobs?.pop(); // the end token is not part of the completion
          break;
        }
        completionTokens++;
        pending.push(token);
        let text = model.detokenize(pending, true, generated);
        // A token may end inside a UTF-8 character: wait (up to 4 tokens) for the rest of it.
        if (text.endsWith('\uFFFD') && pending.length < 4 && completionTokens < maxTokens) continue;
        generated.push(...pending);
        pending = [];
        const cut = cutter.push(text);
        text = cut.text;
        if (text !== '') {
          yield { type: 'text-delta', text };
          signal?.throwIfAborted(); // the consumer may have aborted while it held the delta
        }
        if (cut.stopSequence !== undefined) {
          stopSequence = cut.stopSequence;
          break;
        }
        if (completionTokens >= maxTokens) {
          finishReason = 'length';
          break;
        }
      }
    } finally {
      await evaluation.return();
    }
    if (pending.length > 0 && stopSequence === undefined) {
      // The generation ended (an end-of-generation or FIM token) while tokens waited for the rest of a UTF-8
      // character: their text is part of the completion all the same.
      const cut = cutter.push(model.detokenize(pending, true, generated));
      generated.push(...pending);
      pending = [];
      if (cut.text !== '') yield { type: 'text-delta', text: cut.text };
      if (cut.stopSequence !== undefined) {
        stopSequence = cut.stopSequence;
        finishReason = 'stop';
      }
    }
    if (stopSequence === undefined) {
      const rest = cutter.flush();
      if (rest !== '') yield { type: 'text-delta', text: rest };
    }
    yield {
      type: 'end',
      finishReason,
      ...(stopSequence === undefined ? {} : { stopSequence }),
      completionTokens,
      ...(logprobs ? { logprobs } : {}),
    };
  } catch (error) {
    if (signal?.aborted !== true) throw error;
    // Never wrap an abort: rethrow the signal's reason unchanged, or end the choice here.
    if (!returnPartialOnAbort) throw signal.reason;
    yield { type: 'end', finishReason: 'abort', completionTokens };
  } finally {
    if (sequence) sequencePool.release(sequence);
  }
}
