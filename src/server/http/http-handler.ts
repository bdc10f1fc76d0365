/**
 * The HTTP API as one function from a request to a response, with no sockets: the server adapter (http-server.ts)
 * and tests both call it. Two wire formats over the same completion engine, so clients work unchanged:
 *
 * - llama.cpp `POST /infill` (llama.vscode, llama.vim): `input_prefix`, `input_suffix`, `prompt` (text after the
 *   prefix, llama.vscode sends the cursor line here), `input_extra: [{filename, text}]`, `n_predict`, `n_indent`,
 *   `t_max_predict_ms`, `stream`. Reply `{content, stop, stop_type, tokens_predicted, …}`; streamed as SSE events.
 * - OpenAI `POST /v1/completions` with `prompt` + `suffix` (Continue, codeloop's own openai-compatible backend), SSE
 *   when `stream: true`, and `GET /v1/models`.
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
import { randomUUID } from 'node:crypto';
import { isCodeloopError } from '../../core/index.js';
import {
  insertOnlyText,
  type CompletionEngine,
  type CompletionRequest,
  type CompletionResult,
} from '../../fim/index.js';
import { createStopCutter, cutAtStop } from '../../core/index.js';
import { splitFimPrompt } from './split-fim-prompt.js';

export interface HttpRequest {
  method: string;
  /** Path with query string, e.g. `/v1/completions`. */
  path: string;
  /** Lower-case header names. */
  headers: Readonly<Record<string, string | undefined>>;
  body: string;
  /** Aborts when the client goes away. */
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  /** A whole body, or SSE chunks as they are ready. */
  body: string | AsyncIterable<string>;
}

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

class HttpError extends Error {
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

const json = (status: number, value: unknown): HttpResponse => ({
  status,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(value),
});

type Json = Record<string, unknown>;

/** `application/json`, with parameters (`; charset=utf-8`) or none. */
const JSON_TYPE = /^\s*application\/json\s*(;.*)?$/i;

/** `127.0.0.0/8`, `localhost`, `[::1]` (the forms a Host header or an origin's host takes), with an optional port. */
export function isLoopbackHostHeader(value: string): boolean {
  const match = value
    .trim()
    .toLowerCase()
    .match(/^(\[[^\]]*\]|[^:]*)(?::(\d{1,5}))?$/);
  if (match === null) return false;
  const name = match[1] ?? '';
  if (name === 'localhost' || name === '[::1]') return true;
  const octets = name.match(/^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/);
  return octets !== null && octets.slice(1).every((octet) => Number(octet) <= 255);
}

/**
 * Origins a keyless server accepts. No Origin at all is what editors send: llama.vscode (axios) and Continue (fetch)
 * make their requests from the extension host, a Node process, which sets no Origin. An editor's own webview or
 * window (`vscode-webview://…`, `vscode-file://…`) cannot be named by a web page, since a browser sets Origin itself,
 * so those are accepted too; so are pages served from loopback. Anything else, including `null` (sandboxed frames,
 * file: pages), is a web page that a browser let post to us: refused.
 */
export function isAllowedOrigin(origin: string): boolean {
  const value = origin.trim().toLowerCase();
  if (/^vscode-(webview|file):\/\/[^\s]*$/.test(value)) return true;
  const match = value.match(/^https?:\/\/([^/]+)\/?$/);
  return match !== null && isLoopbackHostHeader(match[1] ?? '');
}

function parseBody(request: HttpRequest, maxBodyBytes: number): Json {
  if (Buffer.byteLength(request.body) > maxBodyBytes)
    throw new HttpError(
      413,
      `request body is ${Buffer.byteLength(request.body)} bytes; the limit is ${maxBodyBytes} (start the server with a larger --max-body-bytes, or send less context).`,
    );
  // A body without `Content-Type: application/json` is what a web page can send without a CORS preflight (a form, or
  // fetch with a text/plain or untyped body): refusing it keeps pages from posting to the server. Every real client
  // (llama.vscode via axios, Continue, codeloop's own backend, curl -H) sends the header.
  const type = request.headers['content-type'];
  if (type === undefined || type.trim() === '')
    throw new HttpError(
      415,
      'the request has no Content-Type header; send the body as JSON with the header Content-Type: application/json.',
    );
  if (!JSON_TYPE.test(type))
    throw new HttpError(
      415,
      `Content-Type ${JSON.stringify(type)} is not supported; send the body as JSON with the header Content-Type: application/json.`,
    );
  let body: unknown;
  try {
    body = JSON.parse(request.body);
  } catch (error) {
    throw new HttpError(400, `request body is not valid JSON (${(error as Error).message}).`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new HttpError(400, 'request body must be a JSON object.');
  return body as Json;
}

function stringField(body: Json, name: string, required: boolean): string | undefined {
  const value = body[name];
  if (value === undefined || value === null) {
    if (required) throw new HttpError(400, `missing field '${name}' (a string).`);
    return undefined;
  }
  if (typeof value !== 'string')
    throw new HttpError(
      400,
      `field '${name}' must be a string, got ${Array.isArray(value) ? 'an array' : typeof value}.`,
    );
  return value;
}

function integerField(body: Json, name: string, min: number, max: number): number | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value))
    throw new HttpError(400, `field '${name}' must be an integer, got ${JSON.stringify(value)}.`);
  // llama.cpp uses -1 for "no limit" in n_predict and n_indent 0 for "off".
  if (value < min || value > max)
    throw new HttpError(400, `field '${name}'=${value} is out of range [${min}, ${max}].`);
  return value;
}

function booleanField(body: Json, name: string): boolean {
  const value = body[name];
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean')
    throw new HttpError(400, `field '${name}' must be true or false, got ${JSON.stringify(value)}.`);
  return value;
}

/** The completion text without the part that re-types the suffix (for APIs that can only insert). */
const insertOnly = (result: CompletionResult, suffix: string): string =>
  insertOnlyText(result.text, result.replaceLength, suffix);

/** The status and OpenAI-shaped body (`{error: {message, type, code}}`, which llama-server also uses) for an error. */
function errorReply(
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

const SSE_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' };

/**
 * An SSE reply whose events `produce` sends as they are ready: the response (and so its headers) is returned at once.
 * A failure after that becomes an error event. The production gets a signal that aborts when the client goes away
 * or stops reading the body.
 */
function sseStream(
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

export function createHttpHandler(options: HttpHandlerOptions): HttpHandler {
  const { engine, apiKey, maxBodyBytes = 1024 * 1024, maxTokensLimit = 2048 } = options;
  const modelName = options.modelName ?? engine.model.modelId;
  const created = Math.floor(Date.now() / 1000);

  // Without a key, the server trusts anyone who can reach 127.0.0.1, so it must not be reachable through a browser:
  // the Host check stops DNS rebinding (a page whose name resolves to 127.0.0.1 could read the replies), the Origin
  // check stops cross-site posts. With a key, the key is what is checked, so other names and origins are fine.
  const checkOrigin = (request: HttpRequest): void => {
    if (apiKey !== undefined && apiKey !== '') return;
    const host = request.headers.host;
    if (host !== undefined && !isLoopbackHostHeader(host)) {
      throw new HttpError(
        403,
        `the Host header ${JSON.stringify(host)} is not a loopback name; without an API key this server answers only requests addressed to 127.0.0.1, [::1] or localhost (to stop DNS rebinding). Use one of those in the client's URL, or start the server with --api-key KEY (and --allow-remote for a non-loopback --host) to accept other names.`,
      );
    }
    const origin = request.headers.origin;
    if (origin !== undefined && !isAllowedOrigin(origin)) {
      throw new HttpError(
        403,
        `requests from the web origin ${JSON.stringify(origin)} are refused: without an API key this server accepts only clients that send no Origin (editors, curl), loopback pages and editor webviews. Start the server with --api-key KEY and send it as Authorization: Bearer KEY to allow this client.`,
      );
    }
  };

  const authorize = (request: HttpRequest): void => {
    if (apiKey === undefined || apiKey === '') return;
    const header = request.headers.authorization ?? '';
    const given = header.match(/^Bearer\s+(.+)$/i)?.[1] ?? request.headers['x-api-key'];
    if (given !== apiKey)
      throw new HttpError(
        401,
        given === undefined
          ? 'this server needs an API key: send Authorization: Bearer <key>.'
          : 'the API key is not valid for this server.',
      );
  };

  const run = (
    request: CompletionRequest,
    signal: AbortSignal | undefined,
    onTextDelta?: (text: string) => void,
  ): Promise<CompletionResult> =>
    engine.complete(request, {
      ...(signal === undefined ? {} : { signal }),
      ...(onTextDelta === undefined ? {} : { onTextDelta }),
    });

  /**
   * Runs a streamed completion through the client's stop strings: `emit` gets each piece of the insert-only text as it
   * is final (a piece that could start a stop string is held until the next one shows), then the rest once the result
   * is there. The pieces concatenate to `insertOnly(result, suffix)` cut at the first stop string, `stoppingWord`.
   */
  const runStreamed = async (
    completion: CompletionRequest,
    suffix: string,
    signal: AbortSignal,
    stops: readonly string[],
    emit: (text: string) => void,
  ): Promise<{ result: CompletionResult; stoppingWord: string | undefined }> => {
    const cutter = createStopCutter(stops);
    let stoppingWord: string | undefined;
    const onText = (text: string): void => {
      const cut = cutter.push(text);
      stoppingWord ??= cut.stopSequence;
      if (cut.text !== '') emit(cut.text);
    };
    let sent = '';
    const result = await run(completion, signal, (delta) => {
      sent += delta;
      onText(delta);
    });
    const content = insertOnly(result, suffix);
    // The engine never passes on text that the merge later leaves out, so `content` starts with what was sent.
    if (content.startsWith(sent) && content.length > sent.length) onText(content.slice(sent.length));
    const held = cutter.stopped ? '' : cutter.flush();
    if (held !== '') emit(held);
    return { result, stoppingWord };
  };

  async function infill(request: HttpRequest): Promise<HttpResponse> {
    const body = parseBody(request, maxBodyBytes);
    const prefix = (stringField(body, 'input_prefix', false) ?? '') + (stringField(body, 'prompt', false) ?? '');
    const suffix = stringField(body, 'input_suffix', false) ?? '';
    const extraValue = body.input_extra ?? [];
    if (!Array.isArray(extraValue))
      throw new HttpError(400, "field 'input_extra' must be an array of {filename, text}.");
    const extraContext = extraValue.map((chunk, index) => {
      if (typeof chunk !== 'object' || chunk === null || typeof (chunk as Json).text !== 'string')
        throw new HttpError(
          400,
          `input_extra[${index}] must be an object with a string 'text' (and optional 'filename').`,
        );
      const filename = (chunk as Json).filename;
      return { path: typeof filename === 'string' ? filename : '', text: (chunk as Json).text as string };
    });
    const nPredict = integerField(body, 'n_predict', -1, maxTokensLimit);
    const nIndent = integerField(body, 'n_indent', 0, 10_000);
    const budget = integerField(body, 't_max_predict_ms', 0, 600_000);
    const stream = booleanField(body, 'stream');
    const started = performance.now();
    // llama.vscode's warm-up (see warmUpReply). No background pre-fill: the backends have no call for it.
    if (nPredict === 0) return warmUpReply(stream, request.signal, started);
    const completion: CompletionRequest = {
      text: prefix + suffix,
      cursor: prefix.length,
      extraContext,
      ...(nPredict === undefined || nPredict < 0 ? {} : { maxTokens: nPredict }),
      ...(nIndent === undefined || nIndent === 0 ? {} : { minIndent: nIndent }),
      ...(budget === undefined || budget === 0 ? {} : { softDeadlineMs: budget }),
    };
    return llamaReply(request, completion, suffix, stream, [], started);
  }

  /**
   * The reply to `n_predict: 0` on /infill and /completion (llama.vscode's warm-up, sent whenever its context ring
   * changes), at once and without the engine: running it would abort a reusable generation and make the backend
   * re-read its prompt, and the engine would take maxTokens 0 literally.
   */
  const warmUpReply = (stream: boolean, signal: AbortSignal | undefined, started: number): HttpResponse => {
    const reply = {
      content: '',
      stop: true,
      stop_type: 'limit',
      stopping_word: '',
      model: modelName,
      generation_settings: generationSettings(0),
      tokens_predicted: 0,
      tokens_evaluated: 0,
      tokens_cached: 0,
      truncated: false,
      timings: { prompt_n: 0, prompt_ms: 0, predicted_n: 0, predicted_ms: 0, total_ms: performance.now() - started },
    };
    return stream ? sseStream(signal, async (send) => send(reply), false) : json(200, reply);
  };

  /**
   * llama.cpp's `generation_settings`: llama.vscode reads `generation_settings.n_ctx` on every /infill reply (its
   * status-bar info, on by default) and drops the suggestion when it is missing. n_ctx 0: the context is unknown;
   * n_predict -1: the engine's default maxTokens. The engine decodes greedily, so no temperature is reported.
   */
  const generationSettings = (maxTokens: number | undefined) => ({
    n_ctx: engine.model.capabilities.contextLength ?? 0,
    n_predict: maxTokens ?? -1,
  });
  /** Tokens per second over `ms`, 0 when no time was spent (a cache hit). */
  const perSecond = (tokens: number, ms: number): number => (ms > 0 ? (tokens * 1000) / ms : 0);

  /**
   * The last event (or the whole reply) of llama.cpp's `/infill` and `/completion`. `stop_type` as llama.cpp's server
   * sets it: `limit` when n_predict or the time budget ended generation, `word` (and `stopping_word`) for a stop the
   * client sent, else `eos`.
   */
  const llamaFinal = (
    result: CompletionResult,
    content: string,
    started: number,
    completion: CompletionRequest,
    stoppingWord: string | undefined,
  ) => ({
    content,
    stop: true,
    stop_type:
      stoppingWord !== undefined
        ? 'word'
        : result.finishReason === 'length' ||
            result.finishReason === 'soft-deadline' ||
            result.finishReason === 'hard-deadline'
          ? 'limit'
          : 'eos',
    stopping_word: stoppingWord ?? '',
    model: modelName,
    generation_settings: generationSettings(completion.maxTokens),
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
    codeloop: codeloopField(result),
  });

  /** A llama.cpp-shaped reply: `{content, stop, …}`, or SSE events `{content, stop: false}` then the final one. */
  async function llamaReply(
    request: HttpRequest,
    completion: CompletionRequest,
    suffix: string,
    stream: boolean,
    stops: readonly string[],
    started: number,
  ): Promise<HttpResponse> {
    if (stream) {
      return sseStream(
        request.signal,
        async (send, signal) => {
          const { result, stoppingWord } = await runStreamed(completion, suffix, signal, stops, (text) =>
            send({ content: text, stop: false }),
          );
          send(llamaFinal(result, '', started, completion, stoppingWord));
        },
        false,
      );
    }
    const result = await run(completion, request.signal);
    const cut = cutAtStop(insertOnly(result, suffix), stops);
    return json(200, llamaFinal(result, cut.text, started, completion, cut.stopSequence));
  }

  /** `stop`: a string or an array of strings. */
  function stopsField(body: Json): string[] {
    const value = body.stop ?? [];
    const stops = typeof value === 'string' ? [value] : value;
    if (!Array.isArray(stops) || stops.some((stop) => typeof stop !== 'string'))
      throw new HttpError(400, "field 'stop' must be a string or an array of strings.");
    return stops as string[];
  }

  /**
   * The completion request for a raw `prompt`: a prompt with a FIM template already applied (Continue's openai and
   * llama.cpp providers) is split back into prefix, suffix and context; any other prompt is text before the cursor.
   */
  function promptRequest(
    prompt: string,
    suffix: string | undefined,
    maxTokens: number | undefined,
  ): { completion: CompletionRequest; suffix: string } {
    const split = suffix === undefined ? splitFimPrompt(prompt) : undefined;
    const prefix = split?.prefix ?? prompt;
    const after = split?.suffix ?? suffix ?? '';
    const completion: CompletionRequest = {
      text: prefix + after,
      cursor: prefix.length,
      ...(split !== undefined && split.context.length > 0 ? { extraContext: split.context } : {}),
      ...(split?.path === undefined ? {} : { path: split.path }),
      ...(maxTokens === undefined ? {} : { maxTokens }),
    };
    return { completion, suffix: after };
  }

  /** llama.cpp `POST /completion` (Continue's `llama.cpp` provider): `prompt`, `n_predict`, `stop`, `stream`. */
  async function completionRoute(request: HttpRequest): Promise<HttpResponse> {
    const body = parseBody(request, maxBodyBytes);
    if (Array.isArray(body.prompt))
      throw new HttpError(400, "field 'prompt' must be a string; token-id prompts are not supported by codeloop.");
    const prompt = stringField(body, 'prompt', true) ?? '';
    const nPredict = integerField(body, 'n_predict', -1, maxTokensLimit);
    if (nPredict === 0) return warmUpReply(booleanField(body, 'stream'), request.signal, performance.now());
    const { completion, suffix } = promptRequest(
      prompt,
      undefined,
      nPredict === undefined || nPredict < 0 ? undefined : nPredict,
    );
    return llamaReply(request, completion, suffix, booleanField(body, 'stream'), stopsField(body), performance.now());
  }

  async function completions(request: HttpRequest): Promise<HttpResponse> {
    const body = parseBody(request, maxBodyBytes);
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
    const maxTokens = integerField(body, 'max_tokens', 1, maxTokensLimit);
    const n = integerField(body, 'n', 1, 1_000_000);
    if (n !== undefined && n !== 1)
      throw new HttpError(
        400,
        `field 'n'=${n} is not supported: codeloop returns one completion per request (send n requests).`,
      );
    const stops = stopsField(body);
    const stream = booleanField(body, 'stream');
    const streamOptions = body.stream_options ?? {};
    if (typeof streamOptions !== 'object' || Array.isArray(streamOptions))
      throw new HttpError(400, 'field \'stream_options\' must be an object such as {"include_usage": true}.');
    // OpenAI sends the usage chunk (`choices: []`) only when asked; clients that read choices[0] of every chunk break on it.
    const includeUsage = booleanField(streamOptions as Json, 'include_usage');
    const { completion, suffix } = promptRequest(prompt, suffixField, maxTokens);
    const id = `cmpl-${randomUUID()}`;
    const finishReasonOf = (result: CompletionResult): string => (result.finishReason === 'length' ? 'length' : 'stop');
    const usageOf = (result: CompletionResult) => ({
      prompt_tokens: result.usage.promptTokens,
      completion_tokens: result.usage.completionTokens,
      total_tokens: result.usage.promptTokens + result.usage.completionTokens,
    });
    const base = { id, object: 'text_completion', created: Math.floor(Date.now() / 1000), model: modelName };
    if (stream) {
      return sseStream(
        request.signal,
        async (send, signal) => {
          const chunk = (text: string, finishReason: string | null) => ({
            ...base,
            choices: [{ index: 0, text, finish_reason: finishReason, logprobs: null }],
          });
          const { result } = await runStreamed(completion, suffix, signal, stops, (text) => send(chunk(text, null)));
          send(chunk('', finishReasonOf(result)));
          if (includeUsage) send({ ...base, choices: [], usage: usageOf(result) });
        },
        true,
      );
    }
    const result = await run(completion, request.signal);
    const text = cutAtStop(insertOnly(result, suffix), stops).text;
    return json(200, {
      ...base,
      choices: [{ index: 0, text, finish_reason: finishReasonOf(result), logprobs: null }],
      usage: usageOf(result),
      codeloop: codeloopField(result),
    });
  }

  return async (request) => {
    try {
      const path = request.path.split('?')[0] ?? '';
      const method = request.method.toUpperCase();
      checkOrigin(request);
      if (path === '/health' && method === 'GET') return json(200, { status: 'ok' });
      authorize(request);
      const routes: Record<string, [string, () => Promise<HttpResponse>]> = {
        '/infill': ['POST', () => infill(request)],
        '/v1/completions': ['POST', () => completions(request)],
        '/completions': ['POST', () => completions(request)],
        '/completion': ['POST', () => completionRoute(request)],
        '/v1/models': [
          'GET',
          async () =>
            json(200, { object: 'list', data: [{ id: modelName, object: 'model', created, owned_by: 'codeloop' }] }),
        ],
      };
      const route = routes[path];
      if (route === undefined)
        throw new HttpError(
          404,
          `no endpoint ${path}; codeloop serves POST /infill, POST /completion, POST /v1/completions, GET /v1/models and GET /health.`,
        );
      if (method !== route[0]) throw new HttpError(405, `${path} takes ${route[0]}, not ${method}.`);
      return await route[1]();
    } catch (error) {
      const reply = errorReply(error, request.signal);
      return json(reply.status, reply.body);
    }
  };
}

function codeloopField(result: CompletionResult): Record<string, unknown> {
  return {
    text: result.text,
    replace_length: result.replaceLength,
    mode: result.mode,
    finish_reason: result.finishReason,
    cache: result.cache,
    rules: result.rules,
  };
}
