import type { CompletionRequest } from '../../fim/index.js';
import { splitFimPrompt } from './split-fim-prompt.js';

/**
 * The completion request for a raw `prompt`: a prompt with a FIM template already applied (Continue's openai and
 * llama.cpp providers) is split back into prefix, suffix and context; any other prompt is text before the cursor.
 */
export function promptRequest(
  prompt: string,
  suffix: string | undefined,
  maxTokens: number | undefined,
): { completion: CompletionRequest; suffix: string } {
  const split = suffix === undefined ? splitFimPrompt(prompt) : undefined;
  const prefix = split?.prefix ?? prompt;
  const after = split?.suffix ?? suffix ?? '';
  const completion: CompletionRequest = {
    text: prefix + after,
    cursor: prefix.length,
    ...(split !== undefined && split.context.length > 0 ? { extraContext: split.context } : {}),
    ...(split?.path === undefined ? {} : { path: split.path }),
    ...(maxTokens === undefined ? {} : { maxTokens }),
  };
  return { completion, suffix: after };
}
