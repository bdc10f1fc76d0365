/** Running the engine for a request, plain or streamed through the client's stop strings, as both wire formats do. */
import {
  insertOnlyText,
  type CompletionEngine,
  type CompletionRequest,
  type CompletionResult,
} from '../../fim/index.js';
import { createStopCutter } from '../../core/index.js';

export const runCompletion = (
  engine: CompletionEngine,
  request: CompletionRequest,
  signal: AbortSignal | undefined,
  onTextDelta?: (text: string) => void,
): Promise<CompletionResult> =>
  engine.complete(request, {
    ...(signal === undefined ? {} : { signal }),
    ...(onTextDelta === undefined ? {} : { onTextDelta }),
  });

/** The completion text without the part that re-types the suffix (for APIs that can only insert). */
export const insertOnly = (result: CompletionResult, suffix: string): string =>
  insertOnlyText(result.text, result.replaceLength, suffix);

/**
 * Runs a streamed completion through the client's stop strings: `emit` gets each piece of the insert-only text as it
 * is final (a piece that could start a stop string is held until the next one shows), then the rest once the result
 * is there. The pieces concatenate to `insertOnly(result, suffix)` cut at the first stop string, `stoppingWord`.
 */
export const runStreamed = async (
  engine: CompletionEngine,
  completion: CompletionRequest,
  suffix: string,
  signal: AbortSignal,
  stops: readonly string[],
  emit: (text: string) => void,
): Promise<{ result: CompletionResult; stoppingWord: string | undefined }> => {
  const cutter = createStopCutter(stops);
  let stoppingWord: string | undefined;
  const onText = (text: string): void => {
    const cut = cutter.push(text);
    stoppingWord ??= cut.stopSequence;
    if (cut.text !== '') emit(cut.text);
  };
  let sent = '';
  const result = await runCompletion(engine, completion, signal, (delta) => {
    sent += delta;
    onText(delta);
  });
  const content = insertOnly(result, suffix);
  // The engine never passes on text that the merge later leaves out, so `content` starts with what was sent.
  if (content.startsWith(sent) && content.length > sent.length) onText(content.slice(sent.length));
  const held = cutter.stopped ? '' : cutter.flush();
  if (held !== '') emit(held);
  return { result, stoppingWord };
};

/**
 * The `codeloop` field of both formats' replies: the full text with its replace range, how it was made, and the
 * request's settings that were not applied (`warnings`, see sampling-fields.ts).
 */
export function codeloopField(result: CompletionResult, warnings: readonly string[]): Record<string, unknown> {
  return {
    text: result.text,
    replace_length: result.replaceLength,
    mode: result.mode,
    finish_reason: result.finishReason,
    cache: result.cache,
    rules: result.rules,
    warnings,
  };
}
