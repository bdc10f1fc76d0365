/**
 * The sampling and reply-shape fields clients send with a completion, checked against what `codeloop serve` does.
 *
 * The server's completion engine decodes greedily (temperature 0): the same request gives the same text, which is what
 * lets its cache and typed-ahead reuse serve the next keystroke. A client's `temperature` above 0 is therefore not
 * applied; the reply says so in `codeloop.warnings` rather than failing, because editor clients (Continue) send a
 * temperature with every request. `top_p`, `top_k`, `min_p`, `seed` and llama.cpp's other sampler settings have no
 * effect on a greedy decode, so they are accepted without a warning. Fields that would change the reply's shape
 * (`echo`, `logprobs`, llama.cpp `n_probs`) are refused with a 400: a client that asked for them would misread a
 * reply without them.
 */
import { HttpError } from './http-error.js';
import type { Json } from './http-message.js';

/** Warnings for the reply: `temperature` above 0 (validated: a number in [0, 2]). */
export function samplingWarnings(body: Json): string[] {
  const value = body.temperature;
  if (value === undefined || value === null) return [];
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 2)
    throw new HttpError(400, `field 'temperature' must be a number in [0, 2], got ${JSON.stringify(value)}.`);
  if (value === 0) return [];
  return [
    `temperature=${value} was not applied: codeloop serve decodes greedily (temperature 0) so that a request always ` +
      `gets the same completion and its cache can reuse it; top_p, top_k and seed have no effect on a greedy decode.`,
  ];
}

/** OpenAI `echo` and `logprobs`: 400 unless absent, false or null. */
export function refuseOpenAIShapeFields(body: Json): void {
  if (body.echo !== undefined && body.echo !== null && body.echo !== false)
    throw new HttpError(
      400,
      `field 'echo'=${JSON.stringify(body.echo)} is not supported: codeloop replies with the completion only ` +
        `(send echo: false or leave it out, and prepend the prompt yourself).`,
    );
  if (body.logprobs !== undefined && body.logprobs !== null && body.logprobs !== false)
    throw new HttpError(
      400,
      `field 'logprobs'=${JSON.stringify(body.logprobs)} is not supported: codeloop serve returns no token ` +
        `log-probabilities (leave logprobs out or send null).`,
    );
}

/** llama.cpp `n_probs`: 400 unless absent or 0. */
export function refuseLlamaCppShapeFields(body: Json): void {
  if (body.n_probs !== undefined && body.n_probs !== null && body.n_probs !== 0)
    throw new HttpError(
      400,
      `field 'n_probs'=${JSON.stringify(body.n_probs)} is not supported: codeloop serve returns no token ` +
        `probabilities (leave n_probs out or send 0).`,
    );
}
