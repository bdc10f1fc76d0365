/**
 * HTTP for model servers: JSON POSTs and SSE streams over the global `fetch`, with a concurrency limit, per-attempt
 * timeouts, retries with exponential backoff and jitter for retryable failures (network errors, 408, 409, 429, 5xx;
 * `Retry-After` and OpenAI's `retry-after-ms` honoured), and errors that carry the server's own message.
 *
 * Cancellation: the caller's signal aborts the request, the wait for a slot and the backoff sleep, and the abort
 * reason is rethrown unchanged. Leaving a stream early (`break` in `for await`) cancels the HTTP request and frees
 * the slot.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiCallError } from '../errors.js';
import { parseServerSentEvents } from './server-sent-events.js';

export interface HttpClientOptions {
  apiKey: string | undefined;
  /** Requests in flight at once; a stream holds its slot until it ends. */
  maxConcurrency: number;
  /** Per attempt: until the response headers, then for a JSON body until it is read, for a stream between chunks (ms). */
  timeoutMs: number;
  /** Retries after the first attempt, for retryable failures only. */
  maxRetries: number;
  /** First backoff (ms); attempt k waits base × 2^k, scaled by a random factor in [0.5, 1). */
  retryBaseDelayMs: number;
  /** Longest `Retry-After` worth waiting for (ms); a longer one fails at once, saying how long the server asked for. */
  maxRetryAfterMs: number;
  headers: Record<string, string>;
  /** Server name for messages, e.g. `vLLM`. */
  serverName: () => string;
}

/** 408 request timeout, 409 conflict (OpenAI: lock timeout), 429 rate limit, 5xx: worth retrying. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/**
 * The server's error message from its body. Shapes seen: `{"error": {"message"}}` (OpenAI, Ollama /v1,
 * llama-server, newer vLLM), `{"object": "error", "message"}` (older vLLM, SGLang), `{"error": "…"}` (Ollama's own
 * API), `{"detail": …}` (FastAPI validation errors), plain text from proxies.
 */
export function serverErrorMessage(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: unknown; message?: unknown; detail?: unknown };
    if (typeof body.error === 'string') return body.error;
    if (
      typeof body.error === 'object' &&
      body.error !== null &&
      typeof (body.error as { message?: unknown }).message === 'string'
    ) {
      return (body.error as { message: string }).message;
    }
    if (typeof body.message === 'string') return body.message;
    if (typeof body.detail === 'string') return body.detail;
    if (Array.isArray(body.detail)) {
      return body.detail
        .map(
          (item: { msg?: unknown; loc?: unknown }) =>
            (Array.isArray(item.loc) ? `${item.loc.join('.')}: ` : '') + String(item.msg ?? JSON.stringify(item)),
        )
        .join('; ');
    }
  } catch {
    // not JSON: fall through to the raw text
  }
  const trimmed = text.trim();
  return trimmed === '' ? '(empty body)' : trimmed.length > 500 ? `${trimmed.slice(0, 500)}…` : trimmed;
}

/** Ends a server's message with a full stop unless it has one. */
function sentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

/** What to try next, for the statuses users hit most. */
function hintFor(status: number): string {
  if (status === 401 || status === 403)
    return ' Check the API key (apiKey, or CODELOOP_API_KEY; OPENAI_API_KEY is sent to api.openai.com only).';
  if (status === 404)
    return ' Check the base URL (it usually ends in /v1) and the model name the server knows (GET /v1/models).';
  if (status === 429) return ' The server is rate-limiting: lower maxConcurrency or wait.';
  return '';
}

/** `Retry-After` (seconds or an HTTP date) or `retry-after-ms`, in ms. */
function retryAfterMs(headers: Headers): number | undefined {
  const milliseconds = Number(headers.get('retry-after-ms'));
  if (headers.has('retry-after-ms') && Number.isFinite(milliseconds) && milliseconds >= 0) return milliseconds;
  const value = headers.get('retry-after');
  if (value === null) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** A counting semaphore whose wait can be aborted. */
function createLimiter(max: number): (signal: AbortSignal | undefined) => Promise<() => void> {
  let active = 0;
  const waiting: (() => void)[] = [];
  const release = (): void => {
    active--;
    waiting.shift()?.();
  };
  return async (signal) => {
    signal?.throwIfAborted();
    if (active >= max) {
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => {
          const index = waiting.indexOf(grant);
          if (index !== -1) waiting.splice(index, 1);
          reject(signal?.reason);
        };
        const grant = (): void => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        waiting.push(grant);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
    active++;
    let released = false;
    return () => {
      if (!released) {
        released = true;
        release();
      }
    };
  };
}

/** Thrown inside an attempt when its timer fires; turned into a retryable ApiCallError. */
class AttemptTimeout extends Error {}

export interface HttpClient {
  postJson(url: string, body: unknown, signal?: AbortSignal): Promise<unknown>;
  /** The JSON of each `data:` event, until `[DONE]` or the end of the stream. */
  postEvents(url: string, body: unknown, signal?: AbortSignal): AsyncGenerator<unknown>;
  getJson(url: string, signal?: AbortSignal): Promise<unknown>;
}

export function createHttpClient(options: HttpClientOptions): HttpClient {
  const { apiKey, timeoutMs, maxRetries, retryBaseDelayMs, maxRetryAfterMs } = options;
  const acquire = createLimiter(options.maxConcurrency);

  const headers = (hasBody: boolean): Record<string, string> => ({
    ...(hasBody ? { 'content-type': 'application/json' } : {}),
    accept: 'application/json, text/event-stream',
    ...(apiKey === undefined || apiKey === '' ? {} : { authorization: `Bearer ${apiKey}` }),
    ...options.headers,
  });

  /** One attempt's abort plumbing: the caller's signal, the timer and an internal cancel, as one signal. */
  const attemptControl = (
    signal: AbortSignal | undefined,
  ): { signal: AbortSignal; restartTimer: () => void; dispose: () => void; cancel: () => void } => {
    const controller = new AbortController();
    const forward = (): void => controller.abort(signal?.reason);
    if (signal?.aborted === true) forward();
    else signal?.addEventListener('abort', forward, { once: true });
    let timer: NodeJS.Timeout | undefined;
    const restartTimer = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => controller.abort(new AttemptTimeout()), timeoutMs);
    };
    restartTimer();
    return {
      signal: controller.signal,
      restartTimer,
      cancel: () => controller.abort(new DOMException('the stream was left early', 'AbortError')),
      dispose: () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', forward);
      },
    };
  };

  /** Turns what a fetch or body read threw into the error to throw: the caller's abort reason, or an ApiCallError. */
  const failure = (
    error: unknown,
    url: string,
    signal: AbortSignal | undefined,
    attemptSignal: AbortSignal,
  ): unknown => {
    if (signal?.aborted === true) return signal.reason;
    if (attemptSignal.reason instanceof AttemptTimeout) {
      return new ApiCallError(
        `${options.serverName()} sent nothing for ${timeoutMs} ms (${url}); raise timeoutMs if generation is slow on this server.`,
        { url, retryable: true, cause: error },
      );
    }
    if (error instanceof ApiCallError) return error;
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const detail = cause?.code ?? cause?.message ?? (error as Error).message;
    return new ApiCallError(
      `cannot reach ${options.serverName()} at ${url} (${detail}); is the server running, and is the base URL right?`,
      { url, retryable: true, cause: error },
    );
  };

  /**
   * Sends a request, retrying retryable failures, and returns the response with its slot and attempt control still
   * held; the caller reads the body and then releases both.
   */
  const send = async (
    method: 'GET' | 'POST',
    url: string,
    body: unknown,
    signal: AbortSignal | undefined,
  ): Promise<{ response: Response; control: ReturnType<typeof attemptControl>; release: () => void }> => {
    for (let attempt = 0; ; attempt++) {
      const release = await acquire(signal);
      const control = attemptControl(signal);
      let error: unknown;
      let wait: number | undefined;
      try {
        const response = await fetch(url, {
          method,
          headers: headers(body !== undefined),
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: control.signal,
        });
        if (response.ok) return { response, control, release };
        const text = await response.text();
        const retryable = isRetryableStatus(response.status);
        wait = retryAfterMs(response.headers);
        error = new ApiCallError(
          `${options.serverName()} answered ${response.status} to ${method} ${url}: ` +
            `${sentence(serverErrorMessage(text))}${hintFor(response.status)}`,
          {
            url,
            statusCode: response.status,
            retryable,
            responseBody: text,
          },
        );
      } catch (thrown) {
        error = failure(thrown, url, signal, control.signal);
      }
      control.dispose();
      release();
      if (!(error instanceof ApiCallError) || !error.retryable || attempt >= maxRetries) throw error;
      if (wait !== undefined && wait > maxRetryAfterMs) {
        throw new ApiCallError(
          `${error.message} It asked to retry after ${Math.round(wait / 1000)} s, longer than codeloop waits ` +
            `(${maxRetryAfterMs / 1000} s).`,
          {
            url,
            ...(error.statusCode === undefined ? {} : { statusCode: error.statusCode }),
            retryable: true,
            ...(error.responseBody === undefined ? {} : { responseBody: error.responseBody }),
          },
        );
      }
      const backoff = retryBaseDelayMs * 2 ** attempt * (0.5 + Math.random() / 2);
      await sleep(wait ?? backoff, undefined, signal === undefined ? {} : { signal }).catch(() => {
        throw signal?.reason;
      });
    }
  };

  const readJson = async (
    method: 'GET' | 'POST',
    url: string,
    body: unknown,
    signal: AbortSignal | undefined,
  ): Promise<unknown> => {
    const { response, control, release } = await send(method, url, body, signal);
    try {
      const text = await response.text();
      try {
        return JSON.parse(text) as unknown;
      } catch (error) {
        throw new ApiCallError(
          `${options.serverName()} answered ${method} ${url} with a body that is not JSON: ${text.slice(0, 200)}`,
          { url, statusCode: response.status, retryable: false, responseBody: text, cause: error },
        );
      }
    } catch (error) {
      throw failure(error, url, signal, control.signal);
    } finally {
      control.dispose();
      release();
    }
  };

  return {
    postJson: (url, body, signal) => readJson('POST', url, body, signal),
    getJson: (url, signal) => readJson('GET', url, undefined, signal),
    async *postEvents(url, body, signal) {
      const { response, control, release } = await send('POST', url, body, signal);
      try {
        if (response.body === null) return;
        // A server that ignores `stream: true` answers with one JSON body; serve it as a single event.
        if (!(response.headers.get('content-type') ?? '').includes('text/event-stream')) {
          const text = await response.text();
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch (error) {
            throw new ApiCallError(
              `${options.serverName()} answered a stream request to ${url} with neither SSE nor JSON: ${text.slice(0, 200)}`,
              { url, retryable: false, responseBody: text, cause: error },
            );
          }
          yield parsed;
          return;
        }
        for await (const event of parseServerSentEvents(response.body)) {
          control.restartTimer();
          if (event.data === '[DONE]') return;
          let parsed: unknown;
          try {
            parsed = JSON.parse(event.data);
          } catch (error) {
            throw new ApiCallError(
              `${options.serverName()} sent a stream event that is not JSON: ${event.data.slice(0, 200)}`,
              { url, retryable: false, cause: error },
            );
          }
          yield parsed;
        }
      } catch (error) {
        throw failure(error, url, signal, control.signal);
      } finally {
        // Reached on normal end, on error and when the consumer leaves early: cancel the request, free the slot.
        control.cancel();
        control.dispose();
        release();
      }
    },
  };
}
