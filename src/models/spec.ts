/**
 * The model backend contract: types only, no dependencies, no backend named. Every backend (llama, openai-compatible,
 * replay, mock) implements `ModelBackend`; callers (fim, eval generation, loop) depend on this file alone.
 *
 * Calls come in two shapes: `complete`/`infill`/`chat` return the whole result, and `stream*` return an
 * `AsyncIterable<StreamPart>` (start, text deltas, finish). Every call takes `signal`; by default an abort throws the
 * signal's reason unchanged, and `returnPartialOnAbort` returns what was generated instead. Settings a backend cannot
 * honour are reported in `warnings`, never dropped silently.
 */

/** Bumped when a field changes meaning or a required member is added. */
export const MODEL_SPEC_VERSION = 1;

/** Per-call generation settings. Every field is optional; a backend resolves defaults once, in its factory. */
export interface GenerateOptions {
  /** Most tokens to generate. Default: the backend's (llama: 256, openai-compatible: 256). */
  maxTokens?: number;
  /** Sampling temperature; 0 = greedy. Default 0. Range 0–2. */
  temperature?: number;
  /** Nucleus sampling mass. Default 1 (off). Range (0, 1]. */
  topP?: number;
  /** Top-k sampling; 0 = off. Default 0. */
  topK?: number;
  /** Random seed for sampling; the same seed, settings and model give the same text (where the backend supports it). */
  seed?: number;
  /**
   * Strings that end generation; the text returned stops before the first one (the stop string is not included).
   * Default none.
   */
  stop?: string[];
  /** Number of independent samples (`GenerateResult.choices`). Default 1. Backends batch these where they can. */
  n?: number;
  /** Ask for per-token log-probabilities (only where `capabilities.logprobs`). Default false. */
  logprobs?: boolean;
  /** Cancels the call. An abort throws the signal's reason, unless `returnPartialOnAbort`. */
  signal?: AbortSignal;
  /** On abort, return the text generated so far with finish reason `abort` instead of throwing. Default false. */
  returnPartialOnAbort?: boolean;
  /**
   * What to do with a prompt that does not fit the context with room for `maxTokens`: `error` throws
   * `context-overflow`; `keep-end` drops tokens from the prompt's start (an infill prompt: from the prefix's start,
   * keeping the suffix) so that it fits with room for min(maxTokens, half the context), and says how many in
   * `GenerateResult.truncatedPromptTokens`. For models with a short context (the embedded model's 256 tokens), where a
   * code prompt's end (the signature and docstring) matters most. Chat calls always use `error`. Backends without the model's
   * tokenizer (servers) send the prompt whole and leave it to the server. Default `error`.
   */
  promptOverflow?: 'error' | 'keep-end';
  /** Backend-specific settings, passed through unchanged (see each backend's docs). */
  backendOptions?: Record<string, unknown>;
}

/** Why a generation ended. */
export type FinishReason = 'stop' | 'length' | 'abort' | 'error';

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

export interface TokenLogprob {
  token: string;
  logprob: number;
}

/** One generated sample. */
export interface Choice {
  text: string;
  finishReason: FinishReason;
  /** The stop sequence that ended it, when `finishReason` is `stop` because of one. */
  stopSequence?: string;
  /** Per generated token, when requested and supported. */
  logprobs?: TokenLogprob[];
  /** Tokens generated for this choice. */
  completionTokens: number;
}

export interface GenerateResult {
  /** `n` choices, in order. */
  choices: Choice[];
  /**
   * Prompt tokens (counted once) and the completion tokens generated, summed over choices; a choice a backend copied
   * instead of decoding it (greedy n > 1: every sample is the same text) counts none here, but its own
   * `completionTokens` still says how long it is.
   */
  usage: TokenUsage;
  /** Settings the backend could not honour, e.g. "seed is ignored by this server". */
  warnings: string[];
  /** Which model answered (file name, server's model id). */
  modelId: string;
  /** Prompt tokens dropped from the start to fit the context (`promptOverflow: 'keep-end'`); absent when none. */
  truncatedPromptTokens?: number;
}

/** A part of a streamed generation (one choice). */
export type StreamPart =
  | { type: 'start'; modelId: string; warnings: string[] }
  | { type: 'text-delta'; text: string }
  | { type: 'finish'; finishReason: FinishReason; stopSequence?: string; usage: TokenUsage };

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** What a backend can do; calls it cannot serve throw `UnsupportedCapabilityError` (code `unsupported-capability`). */
export interface ModelCapabilities {
  /** `infill` works: the model has FIM tokens (llama) or the server accepts `suffix` / a rendered FIM prompt. */
  supportsInfill: boolean;
  /** `chat` works: a chat template (llama) or a chat endpoint. */
  supportsChat: boolean;
  /** Per-token log-probabilities can be returned. */
  supportsLogprobs: boolean;
  /** `seed` makes sampling reproducible. */
  supportsSeed: boolean;
  /** Largest context in tokens, when known. */
  contextLength?: number;
  /**
   * The FIM format family `infill` lays prompts out in, when the backend knows it (llama: detected from the
   * tokenizer on load, or given; openai-compatible: the format given to render prompts). A family name of the FIM
   * format registry (`FIM_FAMILIES`), e.g. `qwen2.5-coder`.
   */
  fimFamily?: string;
}

/** A model backend. Construction options (path, URL, pool sizes) belong to each backend's factory. */
export interface ModelBackend {
  readonly specVersion: typeof MODEL_SPEC_VERSION;
  /** `llama`, `openai-compatible`, `replay`, `mock`, … */
  readonly provider: string;
  /** The model's name as the user gave it (`gguf:/models/x.gguf`, `openai:gpt-4o-mini@https://…`). */
  readonly modelId: string;
  /** The local file the weights were loaded from, where there is one (a GGUF for the llama backend). */
  readonly modelFile?: string;
  readonly capabilities: ModelCapabilities;

  /** Continues `prompt` (a raw prompt: no chat template applied). */
  complete(prompt: string, options?: GenerateOptions): Promise<GenerateResult>;
  streamComplete(prompt: string, options?: GenerateOptions): AsyncIterable<StreamPart>;

  /** Fills the middle between `prefix` and `suffix` in the model's own FIM format. */
  infill(prefix: string, suffix: string, options?: GenerateOptions): Promise<GenerateResult>;
  streamInfill(prefix: string, suffix: string, options?: GenerateOptions): AsyncIterable<StreamPart>;

  /** Answers a conversation with the model's chat template. */
  chat(messages: ChatMessage[], options?: GenerateOptions): Promise<GenerateResult>;
  streamChat(messages: ChatMessage[], options?: GenerateOptions): AsyncIterable<StreamPart>;

  /** Tokens of `text` in the model's tokenizer, where the backend can count them (else undefined). */
  countTokens?(text: string): Promise<number>;

  /** Frees the model, contexts, connections. Idempotent. */
  close(): Promise<void>;
}

/**
 * Error codes backends throw (as `CodeloopError` subclasses from src/core with these `code`s): `model-not-found`,
 * `model-load-failed`, `unsupported-capability`, `api-call-failed` (with `statusCode` and `retryable`),
 * `invalid-model-name`, `context-overflow`, `prompt-not-recorded` (the replay backend has no completion for a prompt).
 */
export type ModelErrorCode =
  | 'model-not-found'
  | 'model-load-failed'
  | 'unsupported-capability'
  | 'api-call-failed'
  | 'invalid-model-name'
  | 'context-overflow'
  | 'prompt-not-recorded';
