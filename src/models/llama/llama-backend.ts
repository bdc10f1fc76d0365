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
import type { ChatHistoryItem, Llama, LlamaContext, LlamaContextSequence, LlamaModel, Token } from 'node-llama-cpp';
import { ModelError, UnsupportedCapabilityError } from '../errors.js';
import type { FimFormat } from '../fim-formats/index.js';
import {
  MODEL_SPEC_VERSION,
  type ChatMessage,
  type Choice,
  type FinishReason,
  type GenerateOptions,
  type GenerateResult,
  type ModelBackend,
  type ModelCapabilities,
  type StreamPart,
  type TokenLogprob,
} from '../spec.js';
import { createStopCutter, normalizeStops } from '../../core/index.js';
import { loadFimFormat } from './load-fim-format.js';

/** A FIM prompt rendered by the caller (special tokens spelled out as text) and the stop strings that end its middle. */
export interface LlamaRenderedInfill {
  prompt: string;
  stop: readonly string[];
  warnings?: readonly string[];
}

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

export type LlamaRequest = { kind: 'complete'; prompt: string } | { kind: 'infill'; prefix: string; suffix: string } | { kind: 'chat'; messages: ChatMessage[] };

type Prepared = {
  tokens: Token[];
  stop: string[];
  /** Token ids that end the choice without being part of the text (besides the model's end-of-generation tokens). */
  endTokens: ReadonlySet<number>;
  warnings: string[];
};

/** One shared node-llama-cpp instance per process (loading the native addon twice wastes memory). */
const llamaInstances = new Map<string, Promise<Llama>>();

function loadLlama(gpu: boolean): Promise<Llama> {
  const key = gpu ? 'auto' : 'cpu';
  let instance = llamaInstances.get(key);
  if (!instance) {
    instance = (async () => {
      const { getLlama, LlamaLogLevel } = await import('node-llama-cpp');
      // Library code never prints: llama.cpp's log goes nowhere but errors are kept for load failures.
      return getLlama({ gpu: gpu ? 'auto' : false, build: 'never', logLevel: LlamaLogLevel.error, logger: (_level, message) => rememberLog(message) });
    })();
    llamaInstances.set(key, instance);
    instance.catch(() => llamaInstances.delete(key));
  }
  return instance;
}

const recentLog: string[] = [];
function rememberLog(message: string): void {
  recentLog.push(message.trim());
  if (recentLog.length > 20) recentLog.shift();
}

function flattenMetadata(value: unknown, prefix = '', into: Record<string, unknown> = {}): Record<string, unknown> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, inner] of Object.entries(value)) flattenMetadata(inner, prefix === '' ? key : `${prefix}.${key}`, into);
  } else into[prefix] = value;
  return into;
}

/** Waits for a free sequence; `release` hands it to the next waiter. */
class SequencePool {
  private readonly free: LlamaContextSequence[] = [];
  private readonly waiters: ((sequence: LlamaContextSequence) => void)[] = [];

  constructor(private readonly context: LlamaContext) {}

  async acquire(signal: AbortSignal | undefined): Promise<LlamaContextSequence> {
    signal?.throwIfAborted();
    const free = this.free.pop();
    if (free) return free;
    if (this.context.sequencesLeft > 0) return this.context.getSequence();
    return new Promise((resolve, reject) => {
      const waiter = (sequence: LlamaContextSequence): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve(sequence);
      };
      const onAbort = (): void => {
        const index = this.waiters.indexOf(waiter);
        if (index !== -1) this.waiters.splice(index, 1);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  release(sequence: LlamaContextSequence): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter(sequence);
    else this.free.push(sequence);
  }
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
  if (!existsSync(modelPath)) throw new ModelError('model-not-found', `${modelId}: no such file ${modelPath}. Fix the path (gguf:PATH).`);
  if (!Number.isInteger(sequences) || sequences < 1) throw new ModelError('model-load-failed', `${modelId}: sequences=${sequences} must be a positive integer.`);

  let llama: Llama;
  let model: LlamaModel;
  try {
    llama = await loadLlama(gpu);
    model = await llama.loadModel({ modelPath, ...(gpu ? {} : { gpuLayers: 0 }) });
  } catch (error) {
    const log = recentLog.length > 0 ? ` llama.cpp said: ${recentLog.slice(-3).join(' | ')}` : '';
    throw new ModelError('model-load-failed', `${modelId}: node-llama-cpp could not load ${modelPath} (${(error as Error).message}).${log} Is it a GGUF file llama.cpp supports?`, { cause: error });
  }
  const contextSize = options.contextSize ?? Math.min(model.trainContextSize > 0 ? model.trainContextSize : 2048, 2048);
  const batchSize = options.batchSize ?? Math.min(512, contextSize * sequences);
  const metadata = flattenMetadata(model.fileInfo.metadata);
  const chatTemplate = typeof metadata['tokenizer.chat_template'] === 'string' ? (metadata['tokenizer.chat_template'] as string) : undefined;
  const infillTokens = { prefix: model.tokens.infill.prefix, suffix: model.tokens.infill.suffix, middle: model.tokens.infill.middle };
  const hasFimTokens = infillTokens.prefix !== null && infillTokens.suffix !== null;
  const bos = model.tokens.shouldPrependBosToken ? model.tokens.bos : null;
  const fim = renderInfill === undefined ? await loadFimFormat(model, metadata, fimFamily, hasFimTokens) : { format: undefined, reason: 'renderInfill lays out infill prompts', warnings: [], tokenIds: {} };

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
      const kvCache = flashAttention ? {} : ({ experimentalKvCacheKeyType: 'F32', experimentalKvCacheValueType: 'F32' } as const);
      context = model.createContext({ contextSize, batchSize, sequences, threads, flashAttention, ...kvCache });
      pool = context.then((created) => new SequencePool(created));
      pool.catch(() => {
        pool = undefined;
        context = undefined;
      });
    }
    return pool;
  };

  const withBos = (tokens: Token[]): Token[] => (bos === null ? tokens : [bos, ...tokens]);

  const chatWrapper = async () => {
    const { resolveChatWrapper } = await import('node-llama-cpp');
    return resolveChatWrapper(model);
  };

  function check(request: LlamaRequest): void {
    if (request.kind === 'infill' && !capabilities.supportsInfill) {
      throw new UnsupportedCapabilityError('infill', `${modelId} cannot infill: its vocabulary has no FIM prefix/suffix tokens (GGUF tokenizer.ggml.fim_pre_token_id / fim_suf_token_id, or tokens spelled like <|fim_prefix|>). Pass renderInfill with a FIM format, or use complete() with a rendered prompt.`);
    }
    if (request.kind === 'chat' && !capabilities.supportsChat) {
      throw new UnsupportedCapabilityError('chat', `${modelId} has no chat template (GGUF tokenizer.chat_template is missing), so chat() cannot format a conversation. Use complete() with a prompt instead.`);
    }
  }

  /** `[BOS] PRE prefix SUF suffix MID` (PSM), or `[BOS] SUF suffix PRE prefix` without a middle token. */
  function fimTokens(request: Extract<LlamaRequest, { kind: 'infill' }>): Token[] {
    const prefix = model.tokenize(request.prefix, false, 'trimLeadingSpace');
    const suffix = model.tokenize(request.suffix, false, 'trimLeadingSpace');
    const { prefix: pre, suffix: suf, middle: mid } = infillTokens;
    if (pre === null || suf === null) throw new Error('unreachable: check() refuses infill without FIM tokens');
    return withBos(mid !== null ? [pre, ...prefix, suf, ...suffix, mid] : [suf, ...suffix, pre, ...prefix]);
  }

  /**
   * The format's layout, token by token: special segments become their sentinel's id (from the load probe), text
   * segments are tokenized with special parsing off. Stop strings that are single tokens end the middle as tokens
   * (never part of the text); the others are matched in the text.
   */
  function formatTokens(format: FimFormat, request: Extract<LlamaRequest, { kind: 'infill' }>, stop: string[]): Prepared {
    const rendered = format.render({ prefix: request.prefix, suffix: request.suffix });
    const tokens: Token[] = [];
    for (const segment of rendered.segments) {
      const id = segment.type === 'special' ? fim.tokenIds[segment.token] : undefined;
      // A sentinel the probe found split is sent as what the tokenizer makes of it (the load warning says so).
      if (id !== undefined) tokens.push(id as Token);
      else tokens.push(...model.tokenize(segment.type === 'special' ? segment.token : segment.text, segment.type === 'special', 'trimLeadingSpace'));
    }
    const endTokens = new Set<number>();
    const textStops: string[] = [];
    for (const text of rendered.stop) {
      const id = fim.tokenIds[text];
      if (id !== undefined) endTokens.add(id);
      else textStops.push(text);
    }
    return { tokens: withBos(tokens), stop: normalizeStops([...stop, ...textStops]), endTokens, warnings: [...fim.warnings, ...rendered.warnings] };
  }

  async function prepare(request: LlamaRequest, callOptions: GenerateOptions): Promise<Prepared> {
    const stop = normalizeStops(callOptions.stop);
    const warnings: string[] = [];
    const endTokens = new Set<number>();
    if (request.kind === 'complete') return { tokens: withBos(model.tokenize(request.prompt, true)), stop, endTokens, warnings };
    if (request.kind === 'infill') {
      if (renderInfill) {
        const rendered = renderInfill(request.prefix, request.suffix);
        warnings.push(...(rendered.warnings ?? []));
        return { tokens: withBos(model.tokenize(rendered.prompt, true)), stop: normalizeStops([...stop, ...rendered.stop]), endTokens, warnings };
      }
      if (fim.format !== undefined) return formatTokens(fim.format, request, stop);
      warnings.push(...fim.warnings);
      // A FIM sentinel in the middle means the model started another FIM block: the middle is over.
      for (const token of Object.values(infillTokens)) if (token !== null) endTokens.add(token);
      return { tokens: fimTokens(request), stop, endTokens, warnings };
    }
    const wrapper = await chatWrapper();
    const history: ChatHistoryItem[] = request.messages.map((message): ChatHistoryItem =>
      message.role === 'assistant' ? { type: 'model', response: [message.content] } : { type: message.role, text: message.content },
    );
    history.push({ type: 'model', response: [] });
    const state = wrapper.generateContextState({ chatHistory: history });
    const triggers = state.stopGenerationTriggers.map((trigger) => model.detokenize(trigger.tokenize(model.tokenizer), true)).filter((text) => text !== '');
    let tokens = state.contextText.tokenize(model.tokenizer);
    // node-llama-cpp's wrappers start the context with BOS; follow the GGUF's add_bos_token instead, as llama-server
    // does when it tokenizes a rendered template.
    if (bos === null && tokens[0] === model.tokens.bos) tokens = tokens.slice(1);
    return { tokens, stop: normalizeStops([...stop, ...triggers]), endTokens, warnings };
  }

  /** Refuses settings that have no meaning, naming the value (n = 0 would otherwise return no choices at all). */
  function validate(callOptions: GenerateOptions): void {
    const { n = 1, temperature = 0, topP = 1, topK = 0 } = callOptions;
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`n=${n} must be a positive integer (the number of samples, e.g. 1).`);
    if (!Number.isFinite(temperature) || temperature < 0 || temperature > 2) throw new UsageError(`temperature=${temperature} must be a number from 0 (greedy) to 2.`);
    if (!Number.isFinite(topP) || topP <= 0 || topP > 1) throw new UsageError(`topP=${topP} must be in (0, 1]: 1 is off, e.g. 0.95 keeps the top 95% of the probability mass.`);
    if (!Number.isInteger(topK) || topK < 0) throw new UsageError(`topK=${topK} must be a non-negative integer (0 is off).`);
  }

  function callWarnings(callOptions: GenerateOptions, streaming: boolean): string[] {
    const warnings: string[] = [];
    if (streaming && (callOptions.n ?? 1) > 1) warnings.push(`n=${callOptions.n}: a stream carries one choice; only the first is streamed.`);
    for (const key of Object.keys(callOptions.backendOptions ?? {})) warnings.push(`backendOptions.${key}: the llama backend has no such setting; it is ignored.`);
    return warnings;
  }

  type ChoicePart =
    | { type: 'text-delta'; text: string }
    | { type: 'end'; finishReason: FinishReason; stopSequence?: string; completionTokens: number; logprobs?: TokenLogprob[] };

  /** One choice on one sequence: evaluates the prompt (reusing the sequence's matching prefix), then samples. */
  async function* runChoice(prepared: Prepared, callOptions: GenerateOptions, seed: number, maxTokens: number): AsyncGenerator<ChoicePart> {
    const { signal, returnPartialOnAbort = false, temperature = 0, topP = 1, topK = 0 } = callOptions;
    let completionTokens = 0;
    const sequencePool = await getPool();
    let sequence: LlamaContextSequence | undefined;
    try {
      sequence = await sequencePool.acquire(signal);
      // Keep the longest prefix the sequence already holds; at least one prompt token must be evaluated anew so
      // that there are logits to sample the first token from.
      const held = sequence.contextTokens;
      let common = 0;
      const limit = Math.min(held.length, prepared.tokens.length - 1);
      while (common < limit && held[common] === prepared.tokens[common]) common++;
      if (common < sequence.nextTokenIndex) await sequence.eraseContextTokenRanges([{ start: common, end: sequence.nextTokenIndex }]);
      signal?.throwIfAborted();
      const cutter = createStopCutter(prepared.stop);
      const generated: Token[] = [];
      let pending: Token[] = [];
      if (maxTokens <= 0) {
        yield { type: 'end', finishReason: 'length', completionTokens };
        return;
      }
      const sampling = { temperature, topP, topK, minP: 0, ...(temperature > 0 ? { seed } : {}) };
      // With logprobs, each token comes with its probability in the distribution it was sampled from (after
      // temperature, top-k and top-p; at temperature 0 the model's own softmax), as llama-server's n_probs reports.
      const logprobs: TokenLogprob[] | undefined = callOptions.logprobs === true ? [] : undefined;
      const evaluation: AsyncGenerator<Token, void, void | Token | Token[]> = logprobs
        ? (async function* (): AsyncGenerator<Token, void, void | Token | Token[]> {
            const inner = sequence.evaluateWithMetadata(prepared.tokens.slice(common), { confidence: true }, sampling);
            try {
              for await (const output of inner) {
                logprobs.push({ token: model.detokenize([output.token], true), logprob: Math.log(output.confidence) });
                yield output.token;
              }
            } finally {
              await inner.return();
            }
          })()
        : sequence.evaluate(prepared.tokens.slice(common), sampling);
      let finishReason: FinishReason = 'stop';
      let stopSequence: string | undefined;
      try {
        for await (const token of evaluation) {
          signal?.throwIfAborted();
          if (prepared.endTokens.has(token)) {
            logprobs?.pop(); // the end token is not part of the completion
            break;
          }
          completionTokens++;
          pending.push(token);
          let text = model.detokenize(pending, true, generated);
          // A token may end inside a UTF-8 character: wait (up to 4 tokens) for the rest of it.
          if (text.endsWith('\uFFFD') && pending.length < 4 && completionTokens < maxTokens) continue;
          generated.push(...pending);
          pending = [];
          const cut = cutter.push(text);
          text = cut.text;
          if (text !== '') {
            yield { type: 'text-delta', text };
            signal?.throwIfAborted(); // the consumer may have aborted while it held the delta
          }
          if (cut.stopSequence !== undefined) {
            stopSequence = cut.stopSequence;
            break;
          }
          if (completionTokens >= maxTokens) {
            finishReason = 'length';
            break;
          }
        }
      } finally {
        await evaluation.return();
      }
      if (pending.length > 0 && stopSequence === undefined) {
        // The generation ended (an end-of-generation or FIM token) while tokens waited for the rest of a UTF-8
        // character: their text is part of the completion all the same.
        const cut = cutter.push(model.detokenize(pending, true, generated));
        generated.push(...pending);
        pending = [];
        if (cut.text !== '') yield { type: 'text-delta', text: cut.text };
        if (cut.stopSequence !== undefined) {
          stopSequence = cut.stopSequence;
          finishReason = 'stop';
        }
      }
      if (stopSequence === undefined) {
        const rest = cutter.flush();
        if (rest !== '') yield { type: 'text-delta', text: rest };
      }
      yield { type: 'end', finishReason, ...(stopSequence === undefined ? {} : { stopSequence }), completionTokens, ...(logprobs ? { logprobs } : {}) };
    } catch (error) {
      if (signal?.aborted !== true) throw error;
      // Never wrap an abort: rethrow the signal's reason unchanged, or end the choice here.
      if (!returnPartialOnAbort) throw signal.reason;
      yield { type: 'end', finishReason: 'abort', completionTokens };
    } finally {
      if (sequence) sequencePool.release(sequence);
    }
  }

  function budget(prepared: Prepared, callOptions: GenerateOptions): number {
    if (prepared.tokens.length >= contextSize) {
      throw new ModelError('context-overflow', `${modelId}: the prompt is ${prepared.tokens.length} tokens but the context holds ${contextSize}. Shorten the prompt or create the backend with a larger contextSize (at most the model's ${model.trainContextSize}).`);
    }
    const wanted = callOptions.maxTokens ?? defaultMaxTokens;
    const room = contextSize - prepared.tokens.length;
    if (wanted > room) prepared.warnings.push(`maxTokens=${wanted}: only ${room} tokens are left in the ${contextSize}-token context after the ${prepared.tokens.length}-token prompt; generation stops there.`);
    return Math.min(wanted, room);
  }

  async function generate(request: LlamaRequest, callOptions: GenerateOptions = {}): Promise<GenerateResult> {
    check(request);
    validate(callOptions);
    if (callOptions.returnPartialOnAbort !== true) callOptions.signal?.throwIfAborted();
    const warnings = callWarnings(callOptions, false);
    const prepared = await prepare(request, callOptions);
    const maxTokens = budget(prepared, callOptions);
    const n = callOptions.n ?? 1;
    const baseSeed = callOptions.seed ?? randomSeed();
    // Greedy decoding ignores the seed, so every choice would be the same text: decode it once and copy it.
    const greedy = (callOptions.temperature ?? 0) === 0;
    const decoded: Choice[] = await Promise.all(
      Array.from({ length: greedy ? 1 : n }, async (_, index) => {
        let text = '';
        for await (const part of runChoice(prepared, callOptions, baseSeed + index, maxTokens)) {
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
    const copies = greedy && first !== undefined ? Array.from({ length: n - 1 }, (): Choice => ({ ...first, ...(first.logprobs ? { logprobs: [...first.logprobs] } : {}) })) : [];
    const choices = [...decoded, ...copies];
    return {
      choices,
      // Tokens generated: a copy of the greedy choice cost none.
      usage: { promptTokens: prepared.tokens.length, completionTokens: decoded.reduce((sum, choice) => sum + choice.completionTokens, 0) },
      warnings: [...warnings, ...prepared.warnings],
      modelId,
    };
  }

  async function* stream(request: LlamaRequest, callOptions: GenerateOptions = {}): AsyncGenerator<StreamPart> {
    check(request);
    validate(callOptions);
    if (callOptions.returnPartialOnAbort !== true) callOptions.signal?.throwIfAborted();
    const warnings = callWarnings(callOptions, true);
    const prepared = await prepare(request, callOptions);
    const maxTokens = budget(prepared, callOptions);
    yield { type: 'start', modelId, warnings: [...warnings, ...prepared.warnings] };
    for await (const part of runChoice(prepared, callOptions, callOptions.seed ?? randomSeed(), maxTokens)) {
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
