/**
 * Non-streamed calls (`complete`, `infill`, `chat`): the request(s) for `n` choices, natively where the server honours
 * `n`, else one request per choice with seeds in a row; copied when decoding is greedy. `returnPartialOnAbort` streams
 * each choice instead, so an abort keeps what arrived.
 */
import { UsageError } from '../../core/index.js';
import type { Choice, GenerateOptions, GenerateResult } from '../spec.js';
import type { BackendContext } from './backend-context.js';
import { buildPlan, type Call, type Plan } from './build-request.js';
import { doStream } from './do-stream.js';
import { finishChoices, parseResponse, type ParsedResponse } from './parse-response.js';

export async function doGenerate(
  context: BackendContext,
  call: Call,
  callOptions: GenerateOptions = {},
): Promise<GenerateResult> {
  const { model, http, requestContext, currentProfile, check } = context;
  const n = callOptions.n ?? 1;
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`n=${n} must be a positive integer.`);
  if (callOptions.returnPartialOnAbort === true) return generateByStreams(context, call, callOptions, n);
  const current = await currentProfile(callOptions.signal);
  check(call, current);
  const request = async (
    count: number,
    seed: number | undefined,
  ): Promise<{ choices: Choice[]; parsed: ParsedResponse; plan: Plan }> => {
    const plan = buildPlan(
      requestContext,
      call,
      { ...callOptions, ...(seed === undefined ? {} : { seed }) },
      current,
      false,
      count,
    );
    const parsed = parseResponse(plan.endpoint, await http.postJson(plan.url, plan.body, callOptions.signal), plan.url);
    return { choices: finishChoices(parsed, plan.stops).slice(0, count), parsed, plan };
  };
  const seedAt = (offset: number): number | undefined =>
    callOptions.seed === undefined ? undefined : callOptions.seed + offset;
  const seeds = (from: number): string =>
    callOptions.seed === undefined ? 'unseeded' : `seeds ${seedAt(from)}–${seedAt(n - 1)}`;
  const greedy = (callOptions.temperature ?? 0) === 0;
  const detectionWarning = context.detectionWarning();
  const warnings = detectionWarning === undefined ? [] : [detectionWarning];
  let responses: Awaited<ReturnType<typeof request>>[];
  /** Completion tokens of copied greedy choices: in the choices, but never generated (not in usage). */
  let copiedTokens = 0;
  if (n > 1 && !current.nativeN && !greedy) {
    // The server answers one choice per request: send n at once, each with its own seed so the samples differ.
    responses = await Promise.all(Array.from({ length: n }, (_, index) => request(1, seedAt(index))));
    warnings.push(
      ...(responses[0]?.plan.warnings ?? []),
      `n=${n}: ${current.displayName} returns one choice per request; sent ${n} requests in parallel (${seeds(0)}).`,
    );
  } else {
    const first = await request(current.nativeN ? n : 1, callOptions.seed);
    responses = [first];
    warnings.push(...first.plan.warnings);
    const have = first.choices.length;
    const only = first.choices[0];
    if (have < n && greedy && only !== undefined) {
      // Greedy decoding gives every sample the same text: copy the one choice instead of asking again.
      copiedTokens = (n - have) * only.completionTokens;
      first.choices.push(...Array.from({ length: n - have }, () => ({ ...only })));
    } else if (have < n) {
      warnings.push(
        `n=${n}: ${current.displayName} returned ${have} choice(s); sent ${n - have} more request(s) (${seeds(have)}).`,
      );
      responses.push(
        ...(await Promise.all(Array.from({ length: n - have }, (_, index) => request(1, seedAt(have + index))))),
      );
    }
  }
  const choices = responses.flatMap((response) => response.choices).slice(0, n);
  return {
    choices,
    usage: {
      // Every request carries the same prompt: count it once.
      promptTokens: responses.find((response) => response.parsed.usage !== undefined)?.parsed.usage?.promptTokens ?? 0,
      completionTokens: choices.reduce((sum, choice) => sum + choice.completionTokens, 0) - copiedTokens,
    },
    warnings,
    modelId: model,
  };
}

/** `returnPartialOnAbort`: each choice is streamed, so an abort keeps what arrived. */
async function generateByStreams(
  context: BackendContext,
  call: Call,
  callOptions: GenerateOptions,
  n: number,
): Promise<GenerateResult> {
  const { model } = context;
  let warnings: string[] = [];
  let promptTokens = 0;
  const choices = await Promise.all(
    Array.from({ length: n }, async (_, index): Promise<Choice> => {
      let text = '';
      let choice: Choice = { text: '', finishReason: 'abort', completionTokens: 0 };
      const seed = callOptions.seed === undefined ? {} : { seed: callOptions.seed + index };
      for await (const part of doStream(context, call, { ...callOptions, ...seed, n: 1 })) {
        if (part.type === 'start' && index === 0) warnings = part.warnings;
        else if (part.type === 'text-delta') text += part.text;
        else if (part.type === 'finish') {
          if (index === 0) promptTokens = part.usage.promptTokens;
          choice = {
            text,
            finishReason: part.finishReason,
            ...(part.stopSequence === undefined ? {} : { stopSequence: part.stopSequence }),
            completionTokens: part.usage.completionTokens,
          };
        }
      }
      return choice;
    }),
  );
  return {
    choices,
    usage: { promptTokens, completionTokens: choices.reduce((sum, choice) => sum + choice.completionTokens, 0) },
    warnings,
    modelId: model,
  };
}
