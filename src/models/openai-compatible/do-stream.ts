/**
 * Streamed calls: one choice, stop sequences enforced here as the text arrives (the request is cancelled at the first
 * one), and `returnPartialOnAbort` ending the stream with what arrived.
 */
import { createStopCutter } from '../../core/index.js';
import type { GenerateOptions, StreamPart } from '../spec.js';
import type { BackendContext } from './backend-context.js';
import { buildPlan, type Call } from './build-request.js';
import { parseResponse } from './parse-response.js';
import type { ServerProfile } from './server-profiles.js';

export async function* doStream(
  context: BackendContext,
  call: Call,
  callOptions: GenerateOptions = {},
): AsyncGenerator<StreamPart> {
  const { model, http, requestContext, currentProfile, check } = context;
  const { signal, returnPartialOnAbort = false } = callOptions;
  let current: ServerProfile;
  try {
    current = await currentProfile(signal);
  } catch (error) {
    if (signal?.aborted !== true || !returnPartialOnAbort) throw error;
    yield { type: 'start', modelId: model, warnings: [] };
    yield { type: 'finish', finishReason: 'abort', usage: { promptTokens: 0, completionTokens: 0 } };
    return;
  }
  check(call, current);
  const plan = buildPlan(requestContext, call, callOptions, current, true, 1);
  const detectionWarning = context.detectionWarning();
  const warnings = [...(detectionWarning === undefined ? [] : [detectionWarning]), ...plan.warnings];
  if ((callOptions.n ?? 1) > 1)
    warnings.push(`n=${callOptions.n}: a stream carries one choice; only the first is streamed.`);
  yield { type: 'start', modelId: model, warnings };

  const cutter = createStopCutter(plan.stops);
  let usage: { promptTokens: number; completionTokens: number } | undefined;
  let finishReason: 'stop' | 'length' | 'abort' | 'error' | undefined;
  let stopSequence: string | undefined;
  let pieces = 0;
  try {
    events: for await (const chunk of http.postEvents(plan.url, plan.body, signal)) {
      const parsed = parseResponse(plan.endpoint, chunk, plan.url);
      if (parsed.usage !== undefined) usage = parsed.usage;
      for (const choice of parsed.choices) {
        if (choice.index !== 0) continue;
        if (choice.text !== '') {
          pieces++;
          const cut = cutter.push(choice.text);
          if (cut.text !== '') {
            yield { type: 'text-delta', text: cut.text };
            // Events already parsed from one network chunk would still be served after an abort: look first.
            signal?.throwIfAborted();
          }
          if (cut.stopSequence !== undefined) {
            finishReason = 'stop';
            stopSequence = cut.stopSequence;
            break events; // leaving the loop cancels the request: the server may not know this stop string
          }
        }
        if (choice.finishReason !== undefined) finishReason = choice.finishReason;
        if (choice.stopSequence !== undefined && plan.stops.includes(choice.stopSequence))
          stopSequence = choice.stopSequence;
      }
    }
    const rest = cutter.flush();
    if (rest !== '') {
      yield { type: 'text-delta', text: rest };
      signal?.throwIfAborted();
    }
  } catch (error) {
    if (signal?.aborted !== true || !returnPartialOnAbort) throw error;
    finishReason = 'abort';
  }
  yield {
    type: 'finish',
    finishReason: finishReason ?? 'stop',
    ...(stopSequence === undefined || finishReason !== 'stop' ? {} : { stopSequence }),
    // Without usage from the server (older servers ignore include_usage), count chunks as tokens: about right.
    usage: usage ?? { promptTokens: 0, completionTokens: pieces },
  };
}
