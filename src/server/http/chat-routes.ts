/**
 * OpenAI's chat wire format: `POST /v1/chat/completions` for chat-based clients, answered by the model's own chat
 * template (`ModelBackend.chat`, which the llama backend renders with the GGUF's `tokenizer.chat_template`). A model
 * without one (`capabilities.supportsChat: false`, e.g. the embedded model) gets a 400 before anything runs. This
 * bypasses the completion engine (no FIM prompt, cache or post-processing): a chat answer is not an insertion.
 */
import { randomUUID } from 'node:crypto';
import type { ChatMessage, GenerateOptions, TokenUsage } from '../../models/index.js';
import { HttpError } from './http-error.js';
import { json, type HttpRequest, type HttpResponse, type Json, type RouteSettings } from './http-message.js';
import { booleanField, integerField, parseBody, stopsField } from './request-body.js';
import { refuseOpenAIShapeFields, samplingWarnings } from './sampling-fields.js';
import { sseStream } from './sse-stream.js';

const ROLES = new Set(['system', 'user', 'assistant']);

/** `content` as a string, or OpenAI's array of parts of which only `{type: 'text', text}` is supported. */
function messageContent(value: unknown, index: number): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value))
    return value
      .map((part, partIndex) => {
        const text = (part as Json | null)?.text;
        if ((part as Json | null)?.type !== 'text' || typeof text !== 'string')
          throw new HttpError(
            400,
            `messages[${index}].content[${partIndex}] must be {type: 'text', text}; codeloop takes text only.`,
          );
        return text;
      })
      .join('');
  throw new HttpError(400, `messages[${index}].content must be a string or an array of {type: 'text', text} parts.`);
}

function messagesField(body: Json): ChatMessage[] {
  const value = body.messages;
  if (value === undefined || value === null)
    throw new HttpError(400, "missing field 'messages' (an array of {role, content}).");
  if (!Array.isArray(value) || value.length === 0)
    throw new HttpError(400, "field 'messages' must be a non-empty array of {role, content}.");
  return value.map((message, index) => {
    const role = (message as Json | null)?.role;
    if (typeof role !== 'string' || !ROLES.has(role))
      throw new HttpError(
        400,
        `messages[${index}].role must be 'system', 'user' or 'assistant', got ${JSON.stringify(role)}.`,
      );
    return { role: role as ChatMessage['role'], content: messageContent((message as Json).content, index) };
  });
}

/** `POST /v1/chat/completions` (and `/chat/completions`). */
export async function chatCompletionsRoute(settings: RouteSettings, request: HttpRequest): Promise<HttpResponse> {
  const model = settings.engine.model;
  const body = parseBody(request, settings.maxBodyBytes);
  const messages = messagesField(body);
  // -1 is llama-server's "no limit" (llama.vscode's chat sends max_tokens: -1): the backend's default then.
  const limit =
    integerField(body, 'max_completion_tokens', -1, settings.maxTokensLimit) ??
    integerField(body, 'max_tokens', -1, settings.maxTokensLimit);
  if (limit === 0) throw new HttpError(400, "field 'max_tokens' must be at least 1 (or -1 for the default).");
  const maxTokens = limit === undefined || limit < 0 ? undefined : limit;
  const n = integerField(body, 'n', 1, 1_000_000);
  if (n !== undefined && n !== 1)
    throw new HttpError(400, `field 'n'=${n} is not supported: codeloop returns one answer per request.`);
  const stops = stopsField(body);
  refuseOpenAIShapeFields(body);
  const warnings = samplingWarnings(body);
  const stream = booleanField(body, 'stream');
  if (!model.capabilities.supportsChat)
    throw new HttpError(
      400,
      `${settings.modelName} has no chat template (capabilities.supportsChat is false), so /v1/chat/completions ` +
        `cannot format a conversation for it. Use /v1/completions or /infill, or serve a model whose GGUF has ` +
        `tokenizer.chat_template.`,
    );
  const options: GenerateOptions = {
    temperature: 0,
    ...(maxTokens === undefined ? {} : { maxTokens }),
    ...(stops.length === 0 ? {} : { stop: stops }),
  };
  const base = { id: `chatcmpl-${randomUUID()}`, created: Math.floor(Date.now() / 1000), model: settings.modelName };
  if (stream) {
    return sseStream(
      request.signal,
      async (send, signal) => {
        const chunk = (delta: Json, finishReason: string | null, extra: Json = {}) => ({
          ...base,
          object: 'chat.completion.chunk',
          choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }],
          ...extra,
        });
        send(chunk({ role: 'assistant', content: '' }, null));
        for await (const part of model.streamChat(messages, { ...options, signal })) {
          if (part.type === 'start') warnings.push(...part.warnings);
          else if (part.type === 'text-delta') send(chunk({ content: part.text }, null));
          else
            send(
              chunk({}, part.finishReason === 'length' ? 'length' : 'stop', {
                usage: usageOf(part.usage),
                ...(warnings.length === 0 ? {} : { codeloop: { warnings } }),
              }),
            );
        }
      },
      true,
    );
  }
  const result = await model.chat(messages, {
    ...options,
    ...(request.signal === undefined ? {} : { signal: request.signal }),
  });
  const choice = result.choices[0];
  return json(200, {
    ...base,
    object: 'chat.completion',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: choice?.text ?? '' },
        finish_reason: choice?.finishReason === 'length' ? 'length' : 'stop',
        logprobs: null,
      },
    ],
    usage: usageOf(result.usage),
    codeloop: { warnings: [...warnings, ...result.warnings] },
  });
}

const usageOf = (usage: TokenUsage) => ({
  prompt_tokens: usage.promptTokens,
  completion_tokens: usage.completionTokens,
  total_tokens: usage.promptTokens + usage.completionTokens,
});
