/**
 * A `ModelBackend` for any server with the OpenAI HTTP API: vLLM, SGLang, Ollama, llama.cpp's llama-server, OpenAI.
 * They share the request shape and differ in the details (server-profiles.ts lists them with sources); this file
 * builds each request for the server at hand and makes the results mean the same everywhere:
 *
 * - stop sequences are also enforced here (servers that include the stop string or cap the list), and a stream that
 *   hits one is cancelled at once;
 * - `n` is sent natively where the server honours it, else as n requests (seed, seed+1, …), with a warning;
 * - infill uses `suffix` where the server takes it, llama-server's `/infill`, or a FIM prompt from `renderInfill`;
 * - settings a server ignores come back as warnings; `temperature`, `top_p` (and `top_k` where understood) are always
 *   sent, because server defaults differ (Ollama: temperature 1; llama-server: top_k 40; vLLM: the model's
 *   generation_config.json).
 */
import { UsageError } from '../../core/index.js';
import { UnsupportedCapabilityError } from '../errors.js';
import {
  MODEL_SPEC_VERSION,
  type Choice,
  type GenerateOptions,
  type GenerateResult,
  type ModelBackend,
  type ModelCapabilities,
  type StreamPart,
} from '../spec.js';
import { createStopCutter } from '../../core/index.js';
import {
  buildPlan,
  infillModeFor,
  type Call,
  type Plan,
  type RenderInfill,
  type RequestContext,
} from './build-request.js';
import { createHttpClient } from './http-client.js';
import { finishChoices, parseResponse, type ParsedResponse } from './parse-response.js';
import {
  SERVER_PROFILES,
  flavorFromModelList,
  flavorFromURL,
  type InfillMode,
  type ServerFlavor,
  type ServerProfile,
} from './server-profiles.js';

export type { RenderedInfill, RenderInfill } from './build-request.js';

export interface OpenAICompatibleBackendOptions {
  /** The API root, usually ending in `/v1`: `http://127.0.0.1:8000/v1` (vLLM), `http://127.0.0.1:11434/v1` (Ollama). */
  baseURL: string;
  /** The model name the server knows (`GET /v1/models`). */
  model: string;
  /**
   * Bearer token. Default: env `CODELOOP_API_KEY`; for `api.openai.com` only, else `OPENAI_API_KEY`. Other hosts never
   * get `OPENAI_API_KEY` (a local or third-party server must not see your OpenAI key): give them this option or
   * `CODELOOP_API_KEY`. None when none is set, for local servers that need none.
   */
  apiKey?: string;
  /** Requests in flight at once (a stream holds one until it ends). Default 4; raise it for vLLM/SGLang, which batch. */
  maxConcurrency?: number;
  /** Per attempt: until the response starts, then between stream chunks (ms). Default 300000 (CPU servers are slow). */
  timeoutMs?: number;
  /** Retries of a retryable failure (network, 408, 409, 429, 5xx), with exponential backoff and jitter. Default 2. */
  maxRetries?: number;
  /** First backoff delay (ms), doubled per retry; `Retry-After` wins when the server sends it. Default 500. */
  retryBaseDelayMs?: number;
  /**
   * Which server this is, for its quirks. Default `auto`: OpenAI by host, Ollama by port 11434, else asked once via
   * `GET /v1/models` (`owned_by`); an unrecognised server is treated as plain OpenAI API, with checks.
   */
  flavor?: ServerFlavor | 'auto';
  /**
   * Renders a FIM prompt for servers without server-side infill (vLLM, SGLang, unknown servers). Pass a format from
   * src/fim: `(prefix, suffix) => getFimFormat('qwen2.5-coder').render({ prefix, suffix })`.
   */
  renderInfill?: RenderInfill;
  /** The FIM family `renderInfill` renders (e.g. `qwen2.5-coder`), reported as `capabilities.fimFamily`. */
  fimFamily?: string;
  /** Overrides how infill is sent: e.g. `suffix` for SGLang started with `--completion-template`. */
  infillMode?: InfillMode;
  /** The name reported as `modelId`. Default `openai-compatible:MODEL@BASE_URL`. */
  modelId?: string;
  /** Extra HTTP headers on every request. */
  headers?: Record<string, string>;
  /** Context length in tokens, reported in `capabilities` (servers do not say it in a common way). */
  contextLength?: number;
}

export interface OpenAICompatibleBackend extends ModelBackend {
  readonly baseURL: string;
  /** Resolves `flavor: 'auto'` (at most one `GET /models`); `generic` when the server was not recognised. */
  detectFlavor(): Promise<ServerFlavor | 'generic'>;
}

/** Waits for `promise` unless `signal` aborts first (then rejects with its reason). */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** The OpenAI API itself, over TLS: the only place `OPENAI_API_KEY` is sent. */
function isOpenAIOverHttps(baseURL: string): boolean {
  const url = new URL(baseURL);
  return url.protocol === 'https:' && url.hostname === 'api.openai.com';
}

/**
 * The API key a server at `baseURL` gets: `explicit` if given; on https://api.openai.com `OPENAI_API_KEY`, else
 * `CODELOOP_API_KEY`; anywhere else `CODELOOP_API_KEY` only (a local server, a proxy or a mistyped URL never sees
 * the OpenAI key, nor does api.openai.com over plain http). Empty variables count as unset.
 */
export function serverApiKey(
  baseURL: string,
  explicit: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  if (explicit !== undefined) return explicit;
  const codeloop = env.CODELOOP_API_KEY || undefined;
  return isOpenAIOverHttps(baseURL) ? env.OPENAI_API_KEY || codeloop : codeloop;
}

export function createOpenAICompatibleBackend(options: OpenAICompatibleBackendOptions): OpenAICompatibleBackend {
  const {
    model,
    maxConcurrency = 4,
    timeoutMs = 300_000,
    maxRetries = 2,
    retryBaseDelayMs = 500,
    flavor = 'auto',
    renderInfill,
    fimFamily,
    infillMode,
    headers = {},
    contextLength,
  } = options;
  const baseURL = options.baseURL.replace(/\/+$/, '');
  let protocol: string | undefined;
  try {
    protocol = new URL(baseURL).protocol;
  } catch {
    // reported below
  }
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw new UsageError(
      `baseURL ${JSON.stringify(options.baseURL)} is not an http(s) URL; give the API root, e.g. http://127.0.0.1:8000/v1.`,
    );
  }
  if (!Number.isInteger(maxConcurrency) || maxConcurrency < 1)
    throw new UsageError(`maxConcurrency=${maxConcurrency} must be a positive integer.`);
  if (infillMode === 'render' && renderInfill === undefined)
    throw new UsageError(`infillMode 'render' needs renderInfill (a FIM format's render function from src/fim).`);
  const isOpenAI = isOpenAIOverHttps(baseURL);
  const apiKey = serverApiKey(baseURL, options.apiKey);
  const known = flavor === 'auto' ? flavorFromURL(baseURL) : flavor;
  if (known === 'openai' && isOpenAI && (apiKey ?? '') === '') {
    throw new UsageError(
      'OpenAI needs an API key: set OPENAI_API_KEY (or CODELOOP_API_KEY) in the environment (library callers: the apiKey option).',
    );
  }
  const modelId = options.modelId ?? `openai-compatible:${model}@${baseURL}`;
  /** The server root without `/v1`, for llama-server's own endpoints. */
  const origin = baseURL.replace(/\/v1$/, '');

  let profile: ServerProfile = SERVER_PROFILES[known ?? 'generic'];
  let detection: Promise<ServerFlavor | 'generic'> | undefined =
    known === undefined ? undefined : Promise.resolve(known);
  let detectionWarning: string | undefined;

  const http = createHttpClient({
    apiKey,
    maxConcurrency,
    timeoutMs,
    maxRetries,
    retryBaseDelayMs,
    maxRetryAfterMs: 60_000,
    headers,
    serverName: () => profile.displayName,
  });

  const detectFlavor = (): Promise<ServerFlavor | 'generic'> => {
    detection ??= (async () => {
      try {
        // A short, unretried look: detection must not hold up the first call for long.
        const probe = createHttpClient({
          apiKey,
          maxConcurrency: 1,
          timeoutMs: Math.min(timeoutMs, 10_000),
          maxRetries: 0,
          retryBaseDelayMs,
          maxRetryAfterMs: 0,
          headers,
          serverName: () => 'the server',
        });
        const found = flavorFromModelList(await probe.getJson(`${baseURL}/models`));
        if (found !== undefined) profile = SERVER_PROFILES[found];
        else
          detectionWarning = `could not tell which server ${baseURL} is from GET /models; using plain OpenAI API behaviour. Name the server in the model to use its quirks: vllm:MODEL@URL, sglang:MODEL@URL, ollama:MODEL@URL or llama-server:URL (library callers: the flavor option).`;
        return found ?? 'generic';
      } catch (error) {
        detectionWarning = `could not ask ${baseURL}/models which server this is (${(error as Error).message}); using plain OpenAI API behaviour.`;
        return 'generic';
      }
    })();
    return detection;
  };

  const requestContext: RequestContext = {
    baseURL,
    origin,
    model,
    ...(renderInfill === undefined ? {} : { renderInfill }),
    ...(infillMode === undefined ? {} : { infillMode }),
  };

  const check = (call: Call, current: ServerProfile): void => {
    if (call.kind === 'infill' && infillModeFor(requestContext, current) === undefined) {
      throw new UnsupportedCapabilityError(
        'infill',
        `${current.displayName} at ${baseURL} has no server-side infill (${current.flavor === 'vllm' ? 'it rejects `suffix`' : 'it ignores `suffix` unless started with --completion-template'}). Pass renderInfill (a FIM format from src/fim) to createOpenAICompatibleBackend, or infillMode 'suffix' if the server renders FIM itself.`,
      );
    }
  };

  const currentProfile = async (signal: AbortSignal | undefined): Promise<ServerProfile> => {
    await abortable(detectFlavor(), signal);
    return profile;
  };

  async function generate(call: Call, callOptions: GenerateOptions = {}): Promise<GenerateResult> {
    const n = callOptions.n ?? 1;
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`n=${n} must be a positive integer.`);
    if (callOptions.returnPartialOnAbort === true) return generateByStreams(call, callOptions, n);
    const current = await currentProfile(callOptions.signal);
    check(call, current);
    const request = async (
      count: number,
      seed: number | undefined,
    ): Promise<{ choices: Choice[]; parsed: ParsedResponse; plan: Plan }> => {
      const plan = buildPlan(
        requestContext,
        call,
        { ...callOptions, ...(seed === undefined ? {} : { seed }) },
        current,
        false,
        count,
      );
      const parsed = parseResponse(
        plan.endpoint,
        await http.postJson(plan.url, plan.body, callOptions.signal),
        plan.url,
      );
      return { choices: finishChoices(parsed, plan.stops).slice(0, count), parsed, plan };
    };
    const seedAt = (offset: number): number | undefined =>
      callOptions.seed === undefined ? undefined : callOptions.seed + offset;
    const seeds = (from: number): string =>
      callOptions.seed === undefined ? 'unseeded' : `seeds ${seedAt(from)}–${seedAt(n - 1)}`;
    const greedy = (callOptions.temperature ?? 0) === 0;
    const warnings = detectionWarning === undefined ? [] : [detectionWarning];
    let responses: Awaited<ReturnType<typeof request>>[];
    /** Completion tokens of copied greedy choices: in the choices, but never generated (not in usage). */
    let copiedTokens = 0;
    if (n > 1 && !current.nativeN && !greedy) {
      // The server answers one choice per request: send n at once, each with its own seed so the samples differ.
      responses = await Promise.all(Array.from({ length: n }, (_, index) => request(1, seedAt(index))));
      warnings.push(
        ...(responses[0]?.plan.warnings ?? []),
        `n=${n}: ${current.displayName} returns one choice per request; sent ${n} requests in parallel (${seeds(0)}).`,
      );
    } else {
      const first = await request(current.nativeN ? n : 1, callOptions.seed);
      responses = [first];
      warnings.push(...first.plan.warnings);
      const have = first.choices.length;
      const only = first.choices[0];
      if (have < n && greedy && only !== undefined) {
        // Greedy decoding gives every sample the same text: copy the one choice instead of asking again.
        copiedTokens = (n - have) * only.completionTokens;
        first.choices.push(...Array.from({ length: n - have }, () => ({ ...only })));
      } else if (have < n) {
        warnings.push(
          `n=${n}: ${current.displayName} returned ${have} choice(s); sent ${n - have} more request(s) (${seeds(have)}).`,
        );
        responses.push(
          ...(await Promise.all(Array.from({ length: n - have }, (_, index) => request(1, seedAt(have + index))))),
        );
      }
    }
    const choices = responses.flatMap((response) => response.choices).slice(0, n);
    return {
      choices,
      usage: {
        // Every request carries the same prompt: count it once.
        promptTokens:
          responses.find((response) => response.parsed.usage !== undefined)?.parsed.usage?.promptTokens ?? 0,
        completionTokens: choices.reduce((sum, choice) => sum + choice.completionTokens, 0) - copiedTokens,
      },
      warnings,
      modelId: model,
    };
  }

  /** `returnPartialOnAbort`: each choice is streamed, so an abort keeps what arrived. */
  async function generateByStreams(call: Call, callOptions: GenerateOptions, n: number): Promise<GenerateResult> {
    let warnings: string[] = [];
    let promptTokens = 0;
    const choices = await Promise.all(
      Array.from({ length: n }, async (_, index): Promise<Choice> => {
        let text = '';
        let choice: Choice = { text: '', finishReason: 'abort', completionTokens: 0 };
        const seed = callOptions.seed === undefined ? {} : { seed: callOptions.seed + index };
        for await (const part of stream(call, { ...callOptions, ...seed, n: 1 })) {
          if (part.type === 'start' && index === 0) warnings = part.warnings;
          else if (part.type === 'text-delta') text += part.text;
          else if (part.type === 'finish') {
            if (index === 0) promptTokens = part.usage.promptTokens;
            choice = {
              text,
              finishReason: part.finishReason,
              ...(part.stopSequence === undefined ? {} : { stopSequence: part.stopSequence }),
              completionTokens: part.usage.completionTokens,
            };
          }
        }
        return choice;
      }),
    );
    return {
      choices,
      usage: { promptTokens, completionTokens: choices.reduce((sum, choice) => sum + choice.completionTokens, 0) },
      warnings,
      modelId: model,
    };
  }

  async function* stream(call: Call, callOptions: GenerateOptions = {}): AsyncGenerator<StreamPart> {
    const { signal, returnPartialOnAbort = false } = callOptions;
    let current: ServerProfile;
    try {
      current = await currentProfile(signal);
    } catch (error) {
      if (signal?.aborted !== true || !returnPartialOnAbort) throw error;
      yield { type: 'start', modelId: model, warnings: [] };
      yield { type: 'finish', finishReason: 'abort', usage: { promptTokens: 0, completionTokens: 0 } };
      return;
    }
    check(call, current);
    const plan = buildPlan(requestContext, call, callOptions, current, true, 1);
    const warnings = [...(detectionWarning === undefined ? [] : [detectionWarning]), ...plan.warnings];
    if ((callOptions.n ?? 1) > 1)
      warnings.push(`n=${callOptions.n}: a stream carries one choice; only the first is streamed.`);
    yield { type: 'start', modelId: model, warnings };

    const cutter = createStopCutter(plan.stops);
    let usage: { promptTokens: number; completionTokens: number } | undefined;
    let finishReason: 'stop' | 'length' | 'abort' | 'error' | undefined;
    let stopSequence: string | undefined;
    let pieces = 0;
    try {
      events: for await (const chunk of http.postEvents(plan.url, plan.body, signal)) {
        const parsed = parseResponse(plan.endpoint, chunk, plan.url);
        if (parsed.usage !== undefined) usage = parsed.usage;
        for (const choice of parsed.choices) {
          if (choice.index !== 0) continue;
          if (choice.text !== '') {
            pieces++;
            const cut = cutter.push(choice.text);
            if (cut.text !== '') {
              yield { type: 'text-delta', text: cut.text };
              // Events already parsed from one network chunk would still be served after an abort: look first.
              signal?.throwIfAborted();
            }
            if (cut.stopSequence !== undefined) {
              finishReason = 'stop';
              stopSequence = cut.stopSequence;
              break events; // leaving the loop cancels the request: the server may not know this stop string
            }
          }
          if (choice.finishReason !== undefined) finishReason = choice.finishReason;
          if (choice.stopSequence !== undefined && plan.stops.includes(choice.stopSequence))
            stopSequence = choice.stopSequence;
        }
      }
      const rest = cutter.flush();
      if (rest !== '') {
        yield { type: 'text-delta', text: rest };
        signal?.throwIfAborted();
      }
    } catch (error) {
      if (signal?.aborted !== true || !returnPartialOnAbort) throw error;
      finishReason = 'abort';
    }
    yield {
      type: 'finish',
      finishReason: finishReason ?? 'stop',
      ...(stopSequence === undefined || finishReason !== 'stop' ? {} : { stopSequence }),
      // Without usage from the server (older servers ignore include_usage), count chunks as tokens: about right.
      usage: usage ?? { promptTokens: 0, completionTokens: pieces },
    };
  }

  const backend: OpenAICompatibleBackend = {
    specVersion: MODEL_SPEC_VERSION,
    provider: 'openai-compatible',
    modelId,
    baseURL,
    get capabilities(): ModelCapabilities {
      return {
        supportsInfill: infillModeFor(requestContext, profile) !== undefined,
        supportsChat: true,
        supportsLogprobs: profile.logprobs,
        supportsSeed: profile.seed,
        ...(contextLength === undefined ? {} : { contextLength }),
        ...(fimFamily !== undefined && infillModeFor(requestContext, profile) === 'render' ? { fimFamily } : {}),
      };
    },
    detectFlavor,
    complete: (prompt, callOptions) => generate({ kind: 'complete', prompt }, callOptions),
    streamComplete: (prompt, callOptions) => stream({ kind: 'complete', prompt }, callOptions),
    infill: (prefix, suffix, callOptions) => generate({ kind: 'infill', prefix, suffix }, callOptions),
    streamInfill: (prefix, suffix, callOptions) => stream({ kind: 'infill', prefix, suffix }, callOptions),
    chat: (messages, callOptions) => generate({ kind: 'chat', messages }, callOptions),
    streamChat: (messages, callOptions) => stream({ kind: 'chat', messages }, callOptions),
    close: () => Promise.resolve(),
  };
  return backend;
}
