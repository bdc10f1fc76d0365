/**
 * The HTTP API as one function from a request to a response, with no sockets: the server adapter (http-server.ts)
 * and tests both call it. Two wire formats over the same completion engine, so clients work unchanged:
 *
 * - llama.cpp `POST /infill` (llama.vscode, llama.vim): `input_prefix`, `input_suffix`, `prompt` (text after the
 *   prefix, llama.vscode sends the cursor line here), `input_extra: [{filename, text}]`, `n_predict`, `n_indent`,
 *   `t_max_predict_ms`, `stream`. Reply `{content, stop, stop_type, tokens_predicted, …}`; streamed as SSE events.
 * - OpenAI `POST /v1/completions` with `prompt` + `suffix` (Continue, codeloop's own openai-compatible backend), SSE
 *   when `stream: true`, and `GET /v1/models`.
 * - OpenAI `POST /v1/chat/completions` for chat clients, with the model's chat template (a 400 when it has none).
 *
 * A streamed reply sends its headers at once and then text as the engine finalises it (whole lines that no later rule
 * can cut, see the engine's `onTextDelta`), then the rest and the end; the concatenated text equals the non-streamed
 * reply's. An error after the headers is an SSE event `{error: {message, type, code}}`. Neither format has a replace
 * range: when the completion re-types the suffix's head, the re-typed part is left out of the text, and the full text
 * with the range is in the `codeloop` field (`{text, replace_length}`) for clients that read it.
 *
 * POST bodies must come with `Content-Type: application/json` (415 otherwise). Without an API key the server also
 * refuses (403) a Host header that is not a loopback name and an Origin that is not a loopback page or an editor
 * webview, so that web pages can neither post to it nor, by DNS rebinding, read its replies.
 */
import type { CompletionEngine } from '../../fim/index.js';
import { authorize, checkOrigin } from './access-check.js';
import { errorReply, HttpError } from './http-error.js';
import { json, type HttpRequest, type HttpResponse, type RouteSettings } from './http-message.js';
import { chatCompletionsRoute } from './chat-routes.js';
import { completionRoute, infillRoute } from './llama-cpp-routes.js';
import { completionsRoute, modelsRoute } from './openai-routes.js';

export type { HttpRequest, HttpResponse } from './http-message.js';
export { isAllowedOrigin, isLoopbackHostHeader } from './access-check.js';

export interface HttpHandlerOptions {
  engine: CompletionEngine;
  /** The id `GET /v1/models` reports and completions echo. Default: the engine's model id. */
  modelName?: string;
  /** When set, every request needs `Authorization: Bearer KEY` (or `X-Api-Key: KEY`). */
  apiKey?: string;
  /** Largest request body in bytes. Default 1 MiB (a 1 MiB file is ~25k lines: more than any prompt budget). */
  maxBodyBytes?: number;
  /** Largest accepted `n_predict` / `max_tokens`. Default 2048. */
  maxTokensLimit?: number;
}

export type HttpHandler = (request: HttpRequest) => Promise<HttpResponse>;

export function createHttpHandler(options: HttpHandlerOptions): HttpHandler {
  const { engine, apiKey, maxBodyBytes = 1024 * 1024, maxTokensLimit = 2048 } = options;
  const settings: RouteSettings = {
    engine,
    modelName: options.modelName ?? engine.model.modelId,
    maxBodyBytes,
    maxTokensLimit,
  };
  const created = Math.floor(Date.now() / 1000);
  const routes: Record<string, [string, (request: HttpRequest) => Promise<HttpResponse>]> = {
    '/infill': ['POST', (request) => infillRoute(settings, request)],
    '/v1/completions': ['POST', (request) => completionsRoute(settings, request)],
    '/completions': ['POST', (request) => completionsRoute(settings, request)],
    '/completion': ['POST', (request) => completionRoute(settings, request)],
    '/v1/chat/completions': ['POST', (request) => chatCompletionsRoute(settings, request)],
    '/chat/completions': ['POST', (request) => chatCompletionsRoute(settings, request)],
    '/v1/models': ['GET', async () => modelsRoute(settings, created)],
  };

  return async (request) => {
    try {
      const path = request.path.split('?')[0] ?? '';
      const method = request.method.toUpperCase();
      checkOrigin(request, apiKey);
      if (path === '/health' && method === 'GET') return json(200, { status: 'ok' });
      authorize(request, apiKey);
      const route = routes[path];
      if (route === undefined)
        throw new HttpError(
          404,
          `no endpoint ${path}; codeloop serves POST /infill, POST /completion, POST /v1/completions, ` +
            `POST /v1/chat/completions, GET /v1/models and GET /health.`,
        );
      if (method !== route[0]) throw new HttpError(405, `${path} takes ${route[0]}, not ${method}.`);
      return await route[1](request);
    } catch (error) {
      const reply = errorReply(error, request.signal);
      return json(reply.status, reply.body);
    }
  };
}
