/**
 * llama.cpp's wire format: `POST /infill` (llama.vscode, llama.vim) and `POST /completion` (Continue's `llama.cpp`
 * provider), mapped to a completion request and the result mapped back to llama-server's reply.
 */
import type { CompletionRequest, CompletionResult } from '../../fim/index.js';
import { cutAtStop } from '../../core/index.js';
import { HttpError } from './http-error.js';
import { json, type HttpRequest, type HttpResponse, type Json, type RouteSettings } from './http-message.js';
import { mapLlamaCppStopType } from './map-llama-cpp-stop-type.js';
import { promptRequest } from './prompt-request.js';
import { booleanField, integerField, parseBody, stopsField, stringField } from './request-body.js';
import { codeloopField, insertOnly, runCompletion, runStreamed } from './run-completion.js';
import { refuseLlamaCppShapeFields, samplingWarnings } from './sampling-fields.js';
import { sseStream } from './sse-stream.js';

/**
 * `POST /infill`: `input_prefix`, `input_suffix`, `prompt` (text after the prefix, llama.vscode sends the cursor line
 * here), `input_extra: [{filename, text}]`, `n_predict`, `n_indent`, `t_max_predict_ms`, `stream`.
 */
export async function infillRoute(settings: RouteSettings, request: HttpRequest): Promise<HttpResponse> {
  const body = parseBody(request, settings.maxBodyBytes);
  const prefix = (stringField(body, 'input_prefix', false) ?? '') + (stringField(body, 'prompt', false) ?? '');
  const suffix = stringField(body, 'input_suffix', false) ?? '';
  const extraValue = body.input_extra ?? [];
  if (!Array.isArray(extraValue)) throw new HttpError(400, "field 'input_extra' must be an array of {filename, text}.");
  const extraContext = extraValue.map((chunk, index) => {
    if (typeof chunk !== 'object' || chunk === null || typeof (chunk as Json).text !== 'string')
      throw new HttpError(
        400,
        `input_extra[${index}] must be an object with a string 'text' (and optional 'filename').`,
      );
    const filename = (chunk as Json).filename;
    return { path: typeof filename === 'string' ? filename : '', text: (chunk as Json).text as string };
  });
  const nPredict = integerField(body, 'n_predict', -1, settings.maxTokensLimit);
  const nIndent = integerField(body, 'n_indent', 0, 10_000);
  const budget = integerField(body, 't_max_predict_ms', 0, 600_000);
  const stream = booleanField(body, 'stream');
  refuseLlamaCppShapeFields(body);
  const warnings = samplingWarnings(body);
  const started = performance.now();
  // llama.vscode's warm-up (see warmUpReply). No background pre-fill: the backends have no call for it.
  if (nPredict === 0) return warmUpReply(settings, stream, request.signal, started);
  const completion: CompletionRequest = {
    text: prefix + suffix,
    cursor: prefix.length,
    extraContext,
    ...(nPredict === undefined || nPredict < 0 ? {} : { maxTokens: nPredict }),
    ...(nIndent === undefined || nIndent === 0 ? {} : { minIndent: nIndent }),
    ...(budget === undefined || budget === 0 ? {} : { softDeadlineMs: budget }),
  };
  return llamaReply(settings, request, completion, suffix, stream, [], started, warnings);
}

/** `POST /completion`: `prompt`, `n_predict`, `stop`, `stream`. */
export async function completionRoute(settings: RouteSettings, request: HttpRequest): Promise<HttpResponse> {
  const body = parseBody(request, settings.maxBodyBytes);
  if (Array.isArray(body.prompt))
    throw new HttpError(400, "field 'prompt' must be a string; token-id prompts are not supported by codeloop.");
  const prompt = stringField(body, 'prompt', true) ?? '';
  refuseLlamaCppShapeFields(body);
  const warnings = samplingWarnings(body);
  const nPredict = integerField(body, 'n_predict', -1, settings.maxTokensLimit);
  if (nPredict === 0) return warmUpReply(settings, booleanField(body, 'stream'), request.signal, performance.now());
  const { completion, suffix } = promptRequest(
    prompt,
    undefined,
    nPredict === undefined || nPredict < 0 ? undefined : nPredict,
  );
  return llamaReply(
    settings,
    request,
    completion,
    suffix,
    booleanField(body, 'stream'),
    stopsField(body),
    performance.now(),
    warnings,
  );
}

/**
 * The reply to `n_predict: 0` on /infill and /completion (llama.vscode's warm-up, sent whenever its context ring
 * changes), at once and without the engine: running it would abort a reusable generation and make the backend
 * re-read its prompt, and the engine would take maxTokens 0 literally.
 */
function warmUpReply(
  settings: RouteSettings,
  stream: boolean,
  signal: AbortSignal | undefined,
  started: number,
): HttpResponse {
  const reply = {
    content: '',
    stop: true,
    stop_type: 'limit',
    stopping_word: '',
    model: settings.modelName,
    generation_settings: generationSettings(settings, 0),
    tokens_predicted: 0,
    tokens_evaluated: 0,
    tokens_cached: 0,
    truncated: false,
    timings: { prompt_n: 0, prompt_ms: 0, predicted_n: 0, predicted_ms: 0, total_ms: performance.now() - started },
  };
  return stream ? sseStream(signal, async (send) => send(reply), false) : json(200, reply);
}

/**
 * llama.cpp's `generation_settings`: llama.vscode reads `generation_settings.n_ctx` on every /infill reply (its
 * status-bar info, on by default) and drops the suggestion when it is missing. n_ctx 0: the context is unknown;
 * n_predict -1: the engine's default maxTokens. The engine decodes greedily, so no temperature is reported.
 */
const generationSettings = (settings: RouteSettings, maxTokens: number | undefined) => ({
  n_ctx: settings.engine.model.capabilities.contextLength ?? 0,
  n_predict: maxTokens ?? -1,
});

/** Tokens per second over `ms`, 0 when no time was spent (a cache hit). */
const perSecond = (tokens: number, ms: number): number => (ms > 0 ? (tokens * 1000) / ms : 0);

/** The last event (or the whole reply) of llama.cpp's `/infill` and `/completion`. */
function llamaFinal(
  settings: RouteSettings,
  result: CompletionResult,
  content: string,
  started: number,
  completion: CompletionRequest,
  stoppingWord: string | undefined,
  warnings: readonly string[],
) {
  return {
    content,
    stop: true,
    stop_type: mapLlamaCppStopType(result.finishReason, stoppingWord),
    stopping_word: stoppingWord ?? '',
    model: settings.modelName,
    generation_settings: generationSettings(settings, completion.maxTokens),
    tokens_predicted: result.usage.completionTokens,
    tokens_evaluated: result.usage.promptTokens,
    // llama.vscode shows these. The backends do not report KV-cache reuse, so tokens_cached is 0; prompt_ms is the
    // time to the first token, predicted_ms the rest of the model call (both 0 when codeloop's cache answered).
    tokens_cached: 0,
    truncated: result.promptTruncated,
    timings: {
      prompt_n: result.usage.promptTokens,
      prompt_ms: result.firstTokenMs,
      predicted_n: result.usage.completionTokens,
      predicted_ms: Math.max(0, result.modelMs - result.firstTokenMs),
      prompt_per_second: perSecond(result.usage.promptTokens, result.firstTokenMs),
      predicted_per_second: perSecond(result.usage.completionTokens, Math.max(0, result.modelMs - result.firstTokenMs)),
      total_ms: performance.now() - started,
    },
    codeloop: codeloopField(result, warnings),
  };
}

/** A llama.cpp-shaped reply: `{content, stop, …}`, or SSE events `{content, stop: false}` then the final one. */
async function llamaReply(
  settings: RouteSettings,
  request: HttpRequest,
  completion: CompletionRequest,
  suffix: string,
  stream: boolean,
  stops: readonly string[],
  started: number,
  warnings: readonly string[],
): Promise<HttpResponse> {
  if (stream) {
    return sseStream(
      request.signal,
      async (send, signal) => {
        const { result, stoppingWord } = await runStreamed(settings.engine, completion, suffix, signal, stops, (text) =>
          send({ content: text, stop: false }),
        );
        send(llamaFinal(settings, result, '', started, completion, stoppingWord, warnings));
      },
      false,
    );
  }
  const result = await runCompletion(settings.engine, completion, request.signal);
  const cut = cutAtStop(insertOnly(result, suffix), stops);
  return json(200, llamaFinal(settings, result, cut.text, started, completion, cut.stopSequence, warnings));
}
