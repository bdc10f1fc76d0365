import { errorReply } from './http-error.js';
import type { HttpResponse } from './http-message.js';

const SSE_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' };

/**
 * An SSE reply whose events `produce` sends as they are ready: the response (and so its headers) is returned at once.
 * A failure after that becomes an error event. The production gets a signal that aborts when the client goes away
 * or stops reading the body. `done`: end with OpenAI's `data: [DONE]` event.
 */
export function sseStream(
  signal: AbortSignal | undefined,
  produce: (send: (event: unknown) => void, signal: AbortSignal) => Promise<void>,
  done: boolean,
): HttpResponse {
  const controller = new AbortController();
  const forward = (): void => controller.abort(signal?.reason);
  if (signal?.aborted) forward();
  else signal?.addEventListener('abort', forward, { once: true });
  const queue: string[] = [];
  let finished = false;
  let wake: (() => void) | undefined;
  const push = (chunk: string): void => {
    queue.push(chunk);
    wake?.();
  };
  const send = (event: unknown): void => push(`data: ${JSON.stringify(event)}\n\n`);
  void produce(send, controller.signal)
    .then(
      () => (done ? push('data: [DONE]\n\n') : undefined),
      (error: unknown) => send(errorReply(error, controller.signal).body),
    )
    .finally(() => {
      finished = true;
      signal?.removeEventListener('abort', forward);
      wake?.();
    });
  async function* chunks(): AsyncIterable<string> {
    try {
      for (;;) {
        while (queue.length > 0) yield queue.shift() as string;
        if (finished) return;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      if (!finished) controller.abort(new Error('the client stopped reading the stream'));
    }
  }
  return { status: 200, headers: { ...SSE_HEADERS }, body: chunks() };
}
