/**
 * The in-process llama backend: a GGUF model run by node-llama-cpp (llama.cpp) inside this process. It drives
 * `LlamaContextSequence.evaluate` directly rather than `LlamaCompletion`, because the contract needs things that class
 * does not give together: n samples batched on parallel sequences of one context, a per-sample seed, client-side stop
 * strings that never leak a partial match, partial text on abort, and exact token counts.
 *
 * Lifecycle: the model loads once in the factory; one context with `sequences` parallel sequences is created on the
 * first call and reused; `close` frees both. A pool hands out sequences: a call with `n` choices takes up to `n` of
 * them at once (llama.cpp evaluates them in the same batch), further choices wait for a free one. A sequence keeps its
 * tokens between calls, and the next call evaluates only what differs from them (prompt-prefix reuse).
 *
 * Infill is laid out in the model's FIM format from the registry (../fim-formats): on load, the family is detected
 * from the tokenizer (GGUF `tokenizer.ggml.fim_*_token_id` metadata and special-token texts, never the file name),
 * and a probe checks that its sentinels tokenize as single tokens; what either finds wrong comes back as warnings of
 * every infill call. The prompt follows the family's order (PSM, SPM, SPM-v2) and its stop tokens end the middle.
 * `fimFormat` names the family instead of detecting it; `renderInfill` replaces the layout altogether (its prompt is
 * tokenized with special tokens parsed, and its stop strings are added to the call's). A model whose family is not
 * known but whose FIM tokens node-llama-cpp finds is laid out as llama.cpp's infill does: `[BOS] PRE prefix SUF
 * suffix MID`, or `[BOS] SUF suffix PRE prefix` without a middle token.
 */
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { UsageError } from '../../core/index.js';
import type { Llama, LlamaContext, LlamaModel } from 'node-llama-cpp';
import { ModelError, UnsupportedCapabilityError } from '../errors.js';
import type { FimFormat } from '../fim-formats/index.js';
import {
  MODEL_SPEC_VERSION,
  type Choice,
  type GenerateOptions,
  type GenerateResult,
  type ModelBackend,
  type ModelCapabilities,
  type StreamPart,
} from '../spec.js';
import { decodeChoice } from './decode-choice.js';
import { loadFimFormat } from './load-fim-format.js';
import { loadLlama, recentLlamaLog } from './load-llama.js';
import { createPromptTokenizer, type LlamaRenderedInfill, type LlamaRequest, type Prepared } from './prompt-tokens.js';
import { SequencePool } from './sequence-pool.js';

export interface LlamaBackendOptions {
  /** The GGUF file. */
  modelPath: string;
  /** Reported as `modelId`. Default `gguf:<modelPath>`. */
  modelId?: string;
  /**
   * CPU threads per evaluation. Default 1 on machines with ≤ 2 cores (llama.cpp spin-waits between tokens, and with
   * 2 threads on 2 cores decoding collapses to ~80 tokens/s), else availableParallelism() − 1, at most 8.
   */
  threads?: number;
  /**
   * Tokens per sequence (prompt + completion). Default: the model's training context, at most 2048. A call whose
   * prompt does not fit throws `context-overflow`; `maxTokens` is cut to what is left, with a warning.
   */
  contextSize?: number;
  /** Tokens evaluated per batch (prompt evaluation, across sequences). Default min(512, contextSize × sequences). */
  batchSize?: number;
  /**
   * Parallel sequences in the context: how many samples are decoded in one batch. Memory grows with
   * `sequences × contextSize` (KV cache). Default 8. For n = 100 sampling of a small model, 32–100 is faster.
   */
  sequences?: number;
  /** Use a GPU when node-llama-cpp finds one. Default false: CPU only, the same on every machine. */
  gpu?: boolean;
  /**
   * llama.cpp flash attention. Default false: with it, llama.cpp rounds attention to f16 and logits differ from an
   * f32 reference by ~1e-2; without it they match to ~1e-5.
   */
  flashAttention?: boolean;
  /**
   * The FIM family infill uses (see `FIM_FAMILIES`, e.g. `qwen2.5-coder`), instead of the one detected from the
   * tokenizer; where the tokenizer disagrees, infill calls warn. An unknown name throws a `UsageError` listing the
   * families. Default: detected.
   */
  fimFormat?: string;
  /** Lays out infill prompts itself; wins over `fimFormat` and detection (see the file comment). */
  renderInfill?: (prefix: string, suffix: string) => LlamaRenderedInfill;
  /** Default `maxTokens` for calls that do not set it. Default 256. */
  maxTokens?: number;
}

export interface LlamaBackend extends ModelBackend {
  readonly provider: 'llama';
  /**
   * The tokens a call's prompt becomes: complete, the raw prompt with special-token texts parsed as special tokens;
   * infill, the FIM layout; chat, the chat template's rendering.
   */
  promptTokens(request: LlamaRequest): Promise<number[]>;
  /** GGUF metadata of the model. */
  readonly ggufMetadata: Readonly<Record<string, unknown>>;
  /**
   * The FIM format infill uses: detected from the tokenizer on load, or `fimFormat`. Undefined when no known family
   * fits (infill then uses node-llama-cpp's FIM tokens, PSM) or when `renderInfill` lays prompts out.
   */
  readonly fimFormat: FimFormat | undefined;
  /** Why `fimFormat` was chosen (the tokens or metadata that decided), or why there is none. */
  readonly fimFormatReason: string;
}

export type { LlamaRenderedInfill, LlamaRequest } from './prompt-tokens.js';

function flattenMetadata(value: unknown, prefix = '', into: Record<string, unknown> = {}): Record<string, unknown> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, inner] of Object.entries(value))
      flattenMetadata(inner, prefix === '' ? key : `${prefix}.${key}`, into);
  } else into[prefix] = value;
  return into;
}

const randomSeed = (): number => Math.floor(Math.random() * 2 ** 31);

/** Creates the backend; loads the model (throws `model-not-found` / `model-load-failed` naming the file). */
export async function createLlamaBackend(options: LlamaBackendOptions): Promise<LlamaBackend> {
  const {
    modelPath,
    modelId = `gguf:${modelPath}`,
    threads = availableParallelism() <= 2 ? 1 : Math.min(8, availableParallelism() - 1),
    sequences = 8,
    gpu = false,
    flashAttention = false,
    fimFormat: fimFamily,
    renderInfill,
    maxTokens: defaultMaxTokens = 256,
  } = options;
  const { existsSync } = await import('node:fs');
  if (!existsSync(modelPath))
    throw new ModelError('model-not-found', `${modelId}: no such file ${modelPath}. Fix the path (gguf:PATH).`);
  if (!Number.isInteger(sequences) || sequences < 1)
    throw new ModelError('model-load-failed', `${modelId}: sequences=${sequences} must be a positive integer.`);

  let llama: Llama;
  let model: LlamaModel;
  try {
    llama = await loadLlama(gpu);
    model = await llama.loadModel({ modelPath, ...(gpu ? {} : { gpuLayers: 0 }) });
  } catch (error) {
    const log = recentLlamaLog().length > 0 ? ` llama.cpp said: ${recentLlamaLog().slice(-3).join(' | ')}` : '';
    throw new ModelError(
      'model-load-failed',
      `${modelId}: node-llama-cpp could not load ${modelPath} (${(error as Error).message}).${log} Is it a GGUF file llama.cpp supports?`,
      { cause: error },
    );
  }
  const contextSize = options.contextSize ?? Math.min(model.trainContextSize > 0 ? model.trainContextSize : 2048, 2048);
  const batchSize = options.batchSize ?? Math.min(512, contextSize * sequences);
  const metadata = flattenMetadata(model.fileInfo.metadata);
  const chatTemplate =
    typeof metadata['tokenizer.chat_template'] === 'string'
      ? (metadata['tokenizer.chat_template'] as string)
      : undefined;
  const infillTokens = {
    prefix: model.tokens.infill.prefix,
    suffix: model.tokens.infill.suffix,
    middle: model.tokens.infill.middle,
  };
  const hasFimTokens = infillTokens.prefix !== null && infillTokens.suffix !== null;
  const bos = model.tokens.shouldPrependBosToken ? model.tokens.bos : null;
  const fim =
    renderInfill === undefined
      ? await loadFimFormat(model, metadata, fimFamily, hasFimTokens)
      : { format: undefined, reason: 'renderInfill lays out infill prompts', warnings: [], tokenIds: {} };

  const capabilities: ModelCapabilities = {
    supportsInfill: renderInfill !== undefined || fim.format !== undefined || hasFimTokens,
    ...(fim.format === undefined ? {} : { fimFamily: fim.format.family }),
    supportsChat: chatTemplate !== undefined,
    supportsLogprobs: true,
    supportsSeed: true,
    contextLength: contextSize,
  };

  let context: Promise<LlamaContext> | undefined;
  let pool: Promise<SequencePool> | undefined;
  let closed = false;
  const getPool = (): Promise<SequencePool> => {
    if (closed) throw new ModelError('model-load-failed', `${modelId}: the backend is closed.`);
    if (!pool) {
      // An f32 KV cache keeps logits within ~1e-5 of an f32 reference; with flash attention llama.cpp's CPU path wants
      // f16 K/V (f32 K/V made it ~10x slower here), so that case keeps node-llama-cpp's default.
      const kvCache = flashAttention
        ? {}
        : ({ experimentalKvCacheKeyType: 'F32', experimentalKvCacheValueType: 'F32' } as const);
      context = model.createContext({ contextSize, batchSize, sequences, threads, flashAttention, ...kvCache });
      pool = context.then((created) => new SequencePool(created));
      pool.catch(() => {
        pool = undefined;
        context = undefined;
      });
    }
    return pool;
  };

  const prepare = createPromptTokenizer({ model, bos, infillTokens, fim, renderInfill });

  function check(request: LlamaRequest): void {
    if (request.kind === 'infill' && !capabilities.supportsInfill) {
      throw new UnsupportedCapabilityError(
        'infill',
        `${modelId} cannot infill: its vocabulary has no FIM prefix/suffix tokens (GGUF ` +
          `tokenizer.ggml.fim_pre_token_id / fim_suf_token_id, or tokens spelled like <|fim_prefix|>). Pass ` +
          `renderInfill with a FIM format, or use complete() with a rendered prompt.`,
      );
    }
    if (request.kind === 'chat' && !capabilities.supportsChat) {
      throw new UnsupportedCapabilityError(
        'chat',
        `${modelId} has no chat template (GGUF tokenizer.chat_template is missing), so chat() cannot format a ` +
          `conversation. Use complete() with a prompt instead.`,
      );
    }
  }

  /** Refuses settings that have no meaning, naming the value (n = 0 would otherwise return no choices at all). */
  function validate(callOptions: GenerateOptions): void {
    const { n = 1, temperature = 0, topP = 1, topK = 0 } = callOptions;
    if (!Number.isInteger(n) || n < 1)
      throw new UsageError(`n=${n} must be a positive integer (the number of samples, e.g. 1).`);
    if (!Number.isFinite(temperature) || temperature < 0 || temperature > 2)
      throw new UsageError(`temperature=${temperature} must be a number from 0 (greedy) to 2.`);
    if (!Number.isFinite(topP) || topP <= 0 || topP > 1)
      throw new UsageError(
        `topP=${topP} must be in (0, 1]: 1 is off, e.g. 0.95 keeps the top 95% of the probability mass.`,
      );
    if (!Number.isInteger(topK) || topK < 0)
      throw new UsageError(`topK=${topK} must be a non-negative integer (0 is off).`);
  }

  function callWarnings(callOptions: GenerateOptions, streaming: boolean): string[] {
    const warnings: string[] = [];
    if (streaming && (callOptions.n ?? 1) > 1)
      warnings.push(`n=${callOptions.n}: a stream carries one choice; only the first is streamed.`);
    for (const key of Object.keys(callOptions.backendOptions ?? {}))
      warnings.push(`backendOptions.${key}: the llama backend has no such setting; it is ignored.`);
    return warnings;
  }

  function budget(prepared: Prepared, callOptions: GenerateOptions): number {
    if (prepared.tokens.length >= contextSize) {
      throw new ModelError(
        'context-overflow',
        `${modelId}: the prompt is ${prepared.tokens.length} tokens but the context holds ${contextSize}. Shorten ` +
          `the prompt or create the backend with a larger contextSize (at most the model's ` +
          `${model.trainContextSize}).`,
      );
    }
    const wanted = callOptions.maxTokens ?? defaultMaxTokens;
    const room = contextSize - prepared.tokens.length;
    if (wanted > room)
      prepared.warnings.push(
        `maxTokens=${wanted}: only ${room} tokens are left in the ${contextSize}-token context after the ` +
          `${prepared.tokens.length}-token prompt; generation stops there.`,
      );
    return Math.min(wanted, room);
  }

  /**
   * `prepare`, then with `promptOverflow: 'keep-end'` cut the prompt's start (an infill prompt's prefix) until the
   * prompt leaves room for min(maxTokens, half the context). The cut is made in text (tokens of the prompt alone,
   * decoded again) so that FIM sentinels, BOS and templates stay whole; re-tokenizing at the new start can differ by a
   * token, hence the few rounds.
   */
  async function fit(
    request: LlamaRequest,
    callOptions: GenerateOptions,
  ): Promise<{ prepared: Prepared; dropped: number }> {
    let prepared = await prepare(request, callOptions);
    if (callOptions.promptOverflow !== 'keep-end' || request.kind === 'chat') return { prepared, dropped: 0 };
    const reserve = Math.min(callOptions.maxTokens ?? defaultMaxTokens, Math.floor(contextSize / 2)); // tokens
    const allowed = contextSize - reserve; // tokens
    const original = prepared.tokens.length;
    let current = request;
    for (let round = 0; prepared.tokens.length > allowed && round < 4; round++) {
      // Decoding the kept tokens and encoding them again can merge them differently: cut a little more each round.
      const over = prepared.tokens.length - allowed + round * 4;
      const text = current.kind === 'complete' ? current.prompt : current.prefix;
      const tokens = model.tokenize(text, true);
      if (tokens.length <= over) {
        throw new ModelError(
          'context-overflow',
          `${modelId}: the prompt does not fit the ${contextSize}-token context even with its ` +
            `${current.kind === 'complete' ? 'text' : 'prefix'} cut away entirely (the rest is ` +
            `${prepared.tokens.length - tokens.length} tokens). Shorten the suffix or use a model with a longer ` +
            `context.`,
        );
      }
      const kept = model.detokenize(tokens.slice(over), true);
      current = current.kind === 'complete' ? { kind: 'complete', prompt: kept } : { ...current, prefix: kept };
      prepared = await prepare(current, callOptions);
    }
    const dropped = original - prepared.tokens.length;
    if (dropped > 0)
      prepared.warnings.push(
        `the prompt was ${original} tokens: its first ${dropped} were dropped to fit the ${contextSize}-token ` +
          `context with room for ${reserve} generated tokens.`,
      );
    return { prepared, dropped };
  }

  async function generate(request: LlamaRequest, callOptions: GenerateOptions = {}): Promise<GenerateResult> {
    check(request);
    validate(callOptions);
    if (callOptions.returnPartialOnAbort !== true) callOptions.signal?.throwIfAborted();
    const warnings = callWarnings(callOptions, false);
    const { prepared, dropped } = await fit(request, callOptions);
    const maxTokens = budget(prepared, callOptions);
    const n = callOptions.n ?? 1;
    const baseSeed = callOptions.seed ?? randomSeed();
    // Greedy decoding ignores the seed, so every choice would be the same text: decode it once and copy it.
    const greedy = (callOptions.temperature ?? 0) === 0;
    const decoded: Choice[] = await Promise.all(
      Array.from({ length: greedy ? 1 : n }, async (_, index) => {
        let text = '';
        for await (const part of decodeChoice(model, getPool, prepared, callOptions, baseSeed + index, maxTokens)) {
          if (part.type === 'text-delta') text += part.text;
          else {
            return {
              text,
              finishReason: part.finishReason,
              ...(part.stopSequence === undefined ? {} : { stopSequence: part.stopSequence }),
              ...(part.logprobs === undefined ? {} : { logprobs: part.logprobs }),
              completionTokens: part.completionTokens,
            };
          }
        }
        throw new Error('unreachable: a choice always ends');
      }),
    );
    const [first] = decoded;
    const copies =
      greedy && first !== undefined
        ? Array.from({ length: n - 1 }, (): Choice => ({
            ...first,
            ...(first.logprobs ? { logprobs: [...first.logprobs] } : {}),
          }))
        : [];
    const choices = [...decoded, ...copies];
    return {
      choices,
      // Tokens generated: a copy of the greedy choice cost none.
      usage: {
        promptTokens: prepared.tokens.length,
        completionTokens: decoded.reduce((sum, choice) => sum + choice.completionTokens, 0),
      },
      warnings: [...warnings, ...prepared.warnings],
      modelId,
      ...(dropped > 0 ? { truncatedPromptTokens: dropped } : {}),
    };
  }

  async function* stream(request: LlamaRequest, callOptions: GenerateOptions = {}): AsyncGenerator<StreamPart> {
    check(request);
    validate(callOptions);
    if (callOptions.returnPartialOnAbort !== true) callOptions.signal?.throwIfAborted();
    const warnings = callWarnings(callOptions, true);
    const { prepared } = await fit(request, callOptions);
    const maxTokens = budget(prepared, callOptions);
    yield { type: 'start', modelId, warnings: [...warnings, ...prepared.warnings] };
    for await (const part of decodeChoice(
      model,
      getPool,
      prepared,
      callOptions,
      callOptions.seed ?? randomSeed(),
      maxTokens,
    )) {
      if (part.type === 'text-delta') yield part;
      else {
        yield {
          type: 'finish',
          finishReason: part.finishReason,
          ...(part.stopSequence === undefined ? {} : { stopSequence: part.stopSequence }),
          usage: { promptTokens: prepared.tokens.length, completionTokens: part.completionTokens },
        };
      }
    }
  }

  return {
    specVersion: MODEL_SPEC_VERSION,
    provider: 'llama',
    modelId,
    modelFile: resolve(modelPath),
    capabilities,
    ggufMetadata: metadata,
    fimFormat: fim.format,
    fimFormatReason: fim.reason,
    promptTokens: async (request) => {
      check(request);
      return (await prepare(request, {})).tokens;
    },
    complete: (prompt, callOptions) => generate({ kind: 'complete', prompt }, callOptions),
    streamComplete: (prompt, callOptions) => stream({ kind: 'complete', prompt }, callOptions),
    infill: (prefix, suffix, callOptions) => generate({ kind: 'infill', prefix, suffix }, callOptions),
    streamInfill: (prefix, suffix, callOptions) => stream({ kind: 'infill', prefix, suffix }, callOptions),
    chat: (messages, callOptions) => generate({ kind: 'chat', messages }, callOptions),
    streamChat: (messages, callOptions) => stream({ kind: 'chat', messages }, callOptions),
    countTokens: async (text) => model.tokenize(text, false).length,
    async close() {
      if (closed) return;
      closed = true;
      const created = await context?.catch(() => undefined);
      await created?.dispose();
      await model.dispose();
    },
  };
}
