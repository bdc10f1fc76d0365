import { isCodeloopError } from '../../core/index.js';

/** A request the handler refuses, with its status; `type` is the OpenAI error type the reply carries. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type = status === 401
      ? 'authentication_error'
      : status === 403
        ? 'permission_error'
        : status === 404
          ? 'not_found_error'
          : 'invalid_request_error',
  ) {
    super(message);
  }
}

/** The status and OpenAI-shaped body (`{error: {message, type, code}}`, which llama-server also uses) for an error. */
export function errorReply(
  error: unknown,
  signal: AbortSignal | undefined,
): { status: number; body: { error: Record<string, unknown> } } {
  const reply = (status: number, message: string, type: string, extra: Record<string, unknown> = {}) => ({
    status,
    body: { error: { message, type, code: status, ...extra } },
  });
  if (error instanceof HttpError) return reply(error.status, error.message, error.type);
  if (signal?.aborted) return reply(499, 'the client closed the request', 'cancelled');
  const code = (error as { code?: unknown }).code;
  if (code === 'usage') return reply(400, (error as Error).message, 'invalid_request_error');
  // The model failed (server down, file missing, prompt not recorded): a bad gateway, with the model's message.
  if (isCodeloopError(error))
    return reply(502, `the model failed: ${error.message}`, 'model_error', { model_error_code: error.code });
  return reply(500, `internal error: ${(error as Error).message ?? String(error)}`, 'server_error');
}
