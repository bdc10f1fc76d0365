/** Fitting the prompt to the model's context: the token budget of a request, and the laid-out prompt cut to it. */
import type { ContextCollector, TokenCounter } from '../context/index.js';
import type { FimFormat, ModelBackend } from '../models/index.js';
import { gatherPrompt, layoutPrompt, type CompletionPrompt, type ModelCall } from './completion-prompt.js';
import type { CompletionSite } from './completion-mode.js';
import type { CompletionRequest } from './completion-types.js';

/** Smallest prompt budget (tokens): the cursor line and a little around it. */
export const MIN_PROMPT_TOKENS = 16;

/**
 * The prompt budget (tokens) for one request: `promptTokens`, capped so that prompt + `generate` tokens fit the
 * model's context with a margin. The completion never gets more than half the context: a request for more tokens than
 * fit is given the room that is left (the backend cuts maxTokens to it and says so in a warning). The margin is 5% of
 * the context when the backend counts tokens (the prompt is measured and cut again), 25% when only the 3.5
 * characters/token estimate stands between the prompt and an overflow (dense code, CJK text run well over it).
 */
export function promptBudgetFor(
  promptTokens: number,
  generate: number,
  contextLength: number | undefined,
  measured = true,
): number {
  if (contextLength === undefined || !(contextLength > 0)) return promptTokens;
  const margin = 8 + Math.ceil(contextLength * (measured ? 0.05 : 0.25));
  const reserve = Math.min(generate, Math.floor(contextLength / 2));
  return Math.max(MIN_PROMPT_TOKENS, Math.min(promptTokens, contextLength - reserve - margin));
}

/** What `fitPrompt` needs from the engine: the model, its FIM format and the prompt settings. */
export interface PromptFitSettings {
  model: ModelBackend;
  format: FimFormat | undefined;
  countTokens: TokenCounter;
  prefixShare: number;
  suffixShare: number;
  repoName: string | undefined;
  collector: ContextCollector;
  /** The FIM format's control texts: each is one token when the prompt is measured. */
  specialTokens: readonly string[];
}

/**
 * Gathers and lays out the prompt under `budget` tokens. The budget is counted with `countTokens`, which may be an
 * estimate; when the model can count (llama: its tokenizer) and has a known context, the laid-out prompt is
 * measured, and cut again in proportion while it is over, so that it never overflows the context.
 */
export async function fitPrompt(
  settings: PromptFitSettings,
  request: CompletionRequest,
  site: CompletionSite,
  language: string | undefined,
  budget: number,
): Promise<{ prompt: CompletionPrompt; call: ModelCall }> {
  const { model, format, countTokens, prefixShare, suffixShare, repoName, collector, specialTokens } = settings;
  const contextLength = model.capabilities.contextLength;
  for (let attempt = 0; ; attempt += 1) {
    const prompt = await gatherPrompt(
      request,
      site,
      language,
      { countTokens, promptTokens: budget, prefixShare, suffixShare },
      collector,
    );
    const call = layoutPrompt(prompt, {
      ...(format === undefined ? {} : { format }),
      language,
      path: request.path,
      repoName,
    });
    if (contextLength === undefined || model.countTokens === undefined || attempt === 3 || budget <= MIN_PROMPT_TOKENS)
      return { prompt, call };
    const measured = await measurePrompt(call, model.countTokens.bind(model), specialTokens);
    if (measured <= budget) return { prompt, call };
    budget = Math.max(MIN_PROMPT_TOKENS, Math.floor((budget * budget * 0.95) / measured));
  }
}

/** Tokens of a laid-out prompt in the model's tokenizer: each sentinel is one token (countTokens reads it as text). */
export async function measurePrompt(
  call: ModelCall,
  count: (text: string) => Promise<number>,
  specialTokens: readonly string[],
): Promise<number> {
  if (call.kind === 'infill') return (await count(call.prefix)) + (await count(call.suffix)) + 4;
  let text = call.prompt;
  let sentinels = 0;
  for (const token of specialTokens) {
    const parts = text.split(token);
    sentinels += parts.length - 1;
    text = parts.join('\n');
  }
  return (await count(text)) + sentinels;
}
