import type { CompletionResult } from '../../fim/index.js';

/**
 * llama.cpp's `stop_type` as its server sets it: `limit` when n_predict or the time budget ended generation, `word`
 * (with `stopping_word`) for a stop string the client sent, else `eos`.
 */
export function mapLlamaCppStopType(
  finishReason: CompletionResult['finishReason'],
  stoppingWord: string | undefined,
): 'word' | 'limit' | 'eos' {
  return stoppingWord !== undefined
    ? 'word'
    : finishReason === 'length' || finishReason === 'soft-deadline' || finishReason === 'hard-deadline'
      ? 'limit'
      : 'eos';
}
