/** The solve loop's generate step: one model call under the budget, its failures turned into outcomes. */
import { ModelError, type ChatMessage, type GenerateResult, type ModelBackend } from '../models/index.js';
import type { BudgetMeter } from './budget-meter.js';

/** What one model call needs from the solve. */
export interface ModelCallContext {
  model: ModelBackend;
  meter: BudgetMeter;
  maxTokensPerCall: number;
  topP: number;
  /** The caller's signal and the wall-clock deadline together: passed to the model. */
  callSignal: AbortSignal | undefined;
  /** The caller's signal: its abort is rethrown. */
  signal: AbortSignal | undefined;
  /** The wall-clock budget's signal: its abort gives null. */
  deadline: AbortSignal | undefined;
  /** Collects the backend's warnings (and the dropped-prompt one). */
  warnings: Set<string>;
  /** Told of a model failure that ends the solve (see 'model-error'). */
  onModelError(error: ModelError): void;
}

export type ModelCallOutcome = { result: GenerateResult; maxTokens: number } | null | 'overflow' | 'model-error';

/**
 * One model call; null when the wall-clock budget ran out during it, 'overflow' when the prompt does not fit the
 * model's context (the caller drops that request, it is not an error of the loop), 'model-error' when the call
 * failed otherwise (told to `onModelError`; the loop stops, with a verdict on what it has).
 */
export async function callModel(
  context: ModelCallContext,
  request: { prompt?: string; messages?: ChatMessage[] },
  temperature: number,
  callSeed: number,
  stop: string[],
): Promise<ModelCallOutcome> {
  const { model, meter, maxTokensPerCall, topP, callSignal, signal, deadline, warnings, onModelError } = context;
  const maxTokens = meter.callMaxTokens(maxTokensPerCall);
  const settings = {
    maxTokens,
    temperature,
    topP,
    seed: callSeed,
    ...(stop.length > 0 ? { stop } : {}),
    ...(callSignal ? { signal: callSignal } : {}),
    // A raw prompt that does not fit keeps its end (the code to continue or repair) instead of being dropped.
    ...(request.messages === undefined ? { promptOverflow: 'keep-end' as const } : {}),
  };
  try {
    const result = request.messages
      ? await model.chat(request.messages, settings)
      : await model.complete(request.prompt ?? '', settings);
    for (const warning of result.warnings) warnings.add(warning);
    meter.recordCall(result.usage);
    return { result, maxTokens };
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    if (deadline?.aborted) return null;
    // Only the model layer's own failures end the solve as a result; a usage error (a setting the backend refuses,
    // a missing API key) or a bug is the caller's to see.
    if (!(error instanceof ModelError)) throw error;
    if (error.code === 'context-overflow') {
      warnings.add(`a prompt did not fit the model's context and was dropped (${(error as Error).message})`);
      return 'overflow';
    }
    // A failed call (server down, a replay file without this prompt, a broken model) ends this solve, not the caller:
    // a dataset evaluation goes on with the next task, and the log says what happened.
    onModelError(error);
    return 'model-error';
  }
}
