import type { HttpHandler } from './http-handler.js';

/**
 * Wraps a handler so that every request is described in one line when its reply is done:
 * `POST /v1/completions 200 84 ms 16 tokens` (method, route without the query, status, time to the last byte, and
 * the completion tokens the reply reports, else `-`). `codeloop serve` writes these to stderr unless `--quiet`.
 */
export function withRequestLog(handler: HttpHandler, write: (line: string) => void): HttpHandler {
  return async (request) => {
    const started = performance.now();
    const route = request.path.split('?')[0] ?? request.path;
    const line = (status: number, tokens: number | undefined): void =>
      write(
        `${request.method} ${route} ${status} ${Math.round(performance.now() - started)} ms ${tokens === undefined ? '-' : `${tokens} tokens`}`,
      );
    const response = await handler(request);
    if (typeof response.body === 'string') {
      line(response.status, completionTokens(response.body));
      return response;
    }
    const chunks = response.body;
    return {
      ...response,
      body: (async function* () {
        let tokens: number | undefined;
        try {
          for await (const chunk of chunks) {
            tokens = completionTokens(chunk.replace(/^data: /, '')) ?? tokens;
            yield chunk;
          }
        } finally {
          line(response.status, tokens);
        }
      })(),
    };
  };
}

/** The completion tokens a reply body reports: OpenAI's `usage.completion_tokens`, llama.cpp's `tokens_predicted`. */
function completionTokens(body: string): number | undefined {
  if (!body.includes('completion_tokens') && !body.includes('tokens_predicted')) return undefined;
  try {
    const parsed = JSON.parse(body.trim()) as { usage?: { completion_tokens?: unknown }; tokens_predicted?: unknown };
    const tokens = parsed.usage?.completion_tokens ?? parsed.tokens_predicted;
    return typeof tokens === 'number' ? tokens : undefined;
  } catch {
    return undefined;
  }
}
