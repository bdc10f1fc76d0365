/** Checking the completion engine's options: each bad value is named with the range it must be in. */
import { UsageError } from '../core/index.js';
import type { FimFormat, ModelBackend } from '../models/index.js';
import { POST_PROCESS_RULES } from './post-process.js';
import { MIN_PROMPT_TOKENS } from './prompt-fit.js';

function checkFraction(name: string, value: number): void {
  if (!(value >= 0 && value <= 1)) throw new UsageError(`${name}=${value} must be between 0 and 1.`);
}

/** The options `checkEngineOptions` checks, defaults applied. */
export interface CheckedEngineOptions {
  model: ModelBackend;
  format: FimFormat | undefined;
  promptTokens: number;
  prefixShare: number;
  suffixShare: number;
  softDeadlineMs: number;
  hardDeadlineMs: number;
  firstTokenTimeoutMs: number;
  disabledRuleNames: readonly string[];
}

/** Throws a UsageError naming the first bad option; returns the disabled post-process rules as a set. */
export function checkEngineOptions(options: CheckedEngineOptions): ReadonlySet<string> {
  const {
    model,
    format,
    promptTokens,
    prefixShare,
    suffixShare,
    softDeadlineMs,
    hardDeadlineMs,
    firstTokenTimeoutMs,
    disabledRuleNames,
  } = options;
  if (model === undefined || typeof model.streamComplete !== 'function')
    throw new UsageError('createCompletionEngine needs a model (a ModelBackend from openModel).');
  checkFraction('prefixShare', prefixShare);
  checkFraction('suffixShare', suffixShare);
  if (prefixShare + suffixShare > 1)
    throw new UsageError(`prefixShare + suffixShare = ${prefixShare + suffixShare} must be at most 1.`);
  if (!Number.isInteger(promptTokens) || promptTokens < MIN_PROMPT_TOKENS)
    throw new UsageError(`promptTokens=${promptTokens} must be an integer ≥ ${MIN_PROMPT_TOKENS}.`);
  for (const [name, value] of [
    ['softDeadlineMs', softDeadlineMs],
    ['hardDeadlineMs', hardDeadlineMs],
    ['firstTokenTimeoutMs', firstTokenTimeoutMs],
  ] as const) {
    if (!(value >= 0)) throw new UsageError(`${name}=${value} must be a number of milliseconds ≥ 0.`);
  }
  const known: ReadonlySet<string> = new Set(POST_PROCESS_RULES);
  const unknownRules = disabledRuleNames.filter((name) => !known.has(name));
  if (unknownRules.length > 0)
    throw new UsageError(
      `disabledRules: ${unknownRules.map((name) => JSON.stringify(name)).join(', ')} is not a rule; the rules are ` +
        `${POST_PROCESS_RULES.join(', ')}.`,
    );
  if (format === undefined && !model.capabilities.supportsInfill) {
    throw new UsageError(
      `${model.modelId} cannot infill and no FIM format was given; pass format (src/fim getFimFormat) so the engine ` +
        `renders FIM prompts itself.`,
    );
  }
  return new Set(disabledRuleNames);
}
