/**
 * OpenAI's wire format: `POST /v1/completions` with `prompt` + `suffix` (Continue, codeloop's own openai-compatible
 * backend), SSE when `stream: true`, and `GET /v1/models`.
 */
import { randomUUID } from 'node:crypto';
import type { CompletionResult } from '../../fim/index.js';
import { cutAtStop } from '../../core/index.js';
import { HttpError } from './http-error.js';
import { json, type HttpRequest, type HttpResponse, type Json, type RouteSettings } from './http-message.js';
import { mapOpenAIFinishReason } from './map-openai-finish-reason.js';
import { promptRequest } from './prompt-request.js';
import { booleanField, integerField, parseBody, stopsField, stringField } from './request-body.js';
import { codeloopField, insertOnly, runCompletion, runStreamed } from './run-completion.js';
import { refuseOpenAIShapeFields, samplingWarnings } from './sampling-fields.js';
import { sseStream } from './sse-stream.js';

/** `POST /v1/completions` (and `/completions`). */
export async function completionsRoute(settings: RouteSettings, request: HttpRequest): Promise<HttpResponse> {
  const body = parseBody(request, settings.maxBodyBytes);
  let promptValue = body.prompt;
  if (Array.isArray(promptValue)) {
    if (promptValue.length !== 1 || typeof promptValue[0] !== 'string')
      throw new HttpError(
        400,
        "field 'prompt' must be a string (or an array of exactly one string); batch prompts are not supported.",
      );
    promptValue = promptValue[0];
  }
  const prompt = stringField({ prompt: promptValue }, 'prompt', true) ?? '';
  const suffixField = stringField(body, 'suffix', false);
  const maxTokens = integerField(body, 'max_tokens', 1, settings.maxTokensLimit);
  const n = integerField(body, 'n', 1, 1_000_000);
  if (n !== undefined && n !== 1)
    throw new HttpError(
      400,
      `field 'n'=${n} is not supported: codeloop returns one completion per request (send n requests).`,
    );
  const stops = stopsField(body);
  refuseOpenAIShapeFields(body);
  const warnings = samplingWarnings(body);
  const stream = booleanField(body, 'stream');
  const streamOptions = body.stream_options ?? {};
  if (typeof streamOptions !== 'object' || Array.isArray(streamOptions))
    throw new HttpError(400, 'field \'stream_options\' must be an object such as {"include_usage": true}.');
  // OpenAI sends the usage chunk (`choices: []`) only when asked; clients that read choices[0] of every chunk break
  // on it.
  const includeUsage = booleanField(streamOptions as Json, 'include_usage');
  const { completion, suffix } = promptRequest(prompt, suffixField, maxTokens);
  const id = `cmpl-${randomUUID()}`;
  const base = { id, object: 'text_completion', created: Math.floor(Date.now() / 1000), model: settings.modelName };
  if (stream) {
    return sseStream(
      request.signal,
      async (send, signal) => {
        const chunk = (text: string, finishReason: string | null) => ({
          ...base,
          choices: [{ index: 0, text, finish_reason: finishReason, logprobs: null }],
        });
        const { result } = await runStreamed(settings.engine, completion, suffix, signal, stops, (text) =>
          send(chunk(text, null)),
        );
        // The warnings ride on the last choice chunk (clients ignore fields they do not know).
        send({
          ...chunk('', mapOpenAIFinishReason(result.finishReason)),
          ...(warnings.length === 0 ? {} : { codeloop: { warnings } }),
        });
        if (includeUsage) send({ ...base, choices: [], usage: usageOf(result) });
      },
      true,
    );
  }
  const result = await runCompletion(settings.engine, completion, request.signal);
  const text = cutAtStop(insertOnly(result, suffix), stops).text;
  return json(200, {
    ...base,
    choices: [{ index: 0, text, finish_reason: mapOpenAIFinishReason(result.finishReason), logprobs: null }],
    usage: usageOf(result),
    codeloop: codeloopField(result, warnings),
  });
}

/** `GET /v1/models`: the one model, `created` when the handler was made. */
export const modelsRoute = (settings: RouteSettings, created: number): HttpResponse =>
  json(200, { object: 'list', data: [{ id: settings.modelName, object: 'model', created, owned_by: 'codeloop' }] });

const usageOf = (result: CompletionResult) => ({
  prompt_tokens: result.usage.promptTokens,
  completion_tokens: result.usage.completionTokens,
  total_tokens: result.usage.promptTokens + result.usage.completionTokens,
});
