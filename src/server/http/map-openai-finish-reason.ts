import type { CompletionResult } from '../../fim/index.js';

/** OpenAI's `finish_reason`: `length` when max_tokens ended generation, else `stop`. */
export const mapOpenAIFinishReason = (finishReason: CompletionResult['finishReason']): 'length' | 'stop' =>
  finishReason === 'length' ? 'length' : 'stop';
