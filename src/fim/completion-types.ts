/** The completion engine's types: its options, request and result, and one generation's state (`Run`). */
import type { RecentEdit, SourceFile, TokenCounter } from '../context/index.js';
import type { FimFormat, ModelBackend, TokenUsage } from '../models/index.js';
import type { CompletionMode } from './completion-mode.js';

export interface CompletionEngineOptions {
  model: ModelBackend;
  /**
   * The model's FIM format (src/fim registry). With it the engine renders the prompt itself, repository context in the
   * family's repo/file-separator layout, and calls `model.streamComplete`. Without it the engine calls
   * `model.streamInfill` (the backend renders its own format) and puts context in the prefix as comments.
   */
  format?: FimFormat;
  /** Counts prompt tokens. Default `approximateTokenCount` (3.5 characters per token); pass the model's tokenizer when you have it. */
  countTokens?: TokenCounter;
  /**
   * Prompt budget in tokens (prefix + suffix + context). Default 2048. When the model reports its context
   * (`capabilities.contextLength`), the budget is also capped per request at contextLength − maxTokens − a margin
   * (8 tokens + 5 % of the context, for sentinels, BOS and the counter's error), and a backend that counts tokens
   * (`model.countTokens`) has the laid-out prompt measured and cut again if it still does not fit.
   */
  promptTokens?: number;
  /** Share of the budget for the text before the cursor. Default 0.45. */
  prefixShare?: number;
  /** Share for the text after the cursor. Default 0.15. The rest, and whatever prefix/suffix leave unused, goes to context. */
  suffixShare?: number;
  /** Most tokens generated. Default 128 (Copilot budgets 200 for a block, 20 per line). */
  maxTokens?: number;
  /** After this long (ms from the request) the engine returns whatever complete text it has. Default 1000. */
  softDeadlineMs?: number;
  /**
   * Generation time (ms from the first token) after which it is cancelled and nothing is returned. Default 3000.
   * Counted from the first token, not the request, so a model that is still loading or reading a long prompt is not
   * cut off before it can answer (Tabby #3367, #4356: completions cancelled while Ollama loads the model).
   */
  hardDeadlineMs?: number;
  /** Longest wait (ms from the request) for the first token before giving up. Default 60000. */
  firstTokenTimeoutMs?: number;
  /** Cached completions kept. Default 250. 0 turns the cache off. */
  cacheSize?: number;
  /** How long (ms) a generation nobody waits for keeps running for a follow-up request to reuse. Default 150. */
  abandonGraceMs?: number;
  /** Repository name for families with a repo-level header (`<|repo_name|>`). Default none. */
  repoName?: string;
  /** Sampling temperature. Default 0 (greedy: completions are deterministic and cacheable). */
  temperature?: number;
  /**
   * Post-processing rules switched off (names from `POST_PROCESS_RULES`, as listed in `result.rules`): they neither
   * fire nor change the text, so one rule's uplift is the difference between a run with and one without it. Default none.
   */
  disabledRules?: readonly string[];
}

export interface CompletionRequest {
  /** The whole document. */
  text: string;
  /** Cursor offset in UTF-16 code units (JavaScript string index), 0 ≤ cursor ≤ text.length. */
  cursor: number;
  /** Repository-relative path of the document; used for context and the repo-level prompt. */
  path?: string;
  /** LSP language id (`python`, `typescript`, …); default from the path's extension. */
  language?: string;
  /** Open and recently used files, most recent first: ranked for similar windows and followed for imports. */
  files?: readonly SourceFile[];
  /** Context chunks chosen by the client (llama.cpp `input_extra`), used as given and before collected context. */
  extraContext?: readonly SourceFile[];
  /**
   * The user's recent edits, most recent first (the LSP server records them from didChange): the text around each
   * edit after it, taken as context before similar windows and definitions, under the same budget, and dropped when
   * the prompt already shows it.
   */
  recentEdits?: readonly RecentEdit[];
  /** `auto` (default) applies the multi-line rules; a mode forces it. */
  mode?: 'auto' | CompletionMode;
  /** Overrides the engine's maxTokens. */
  maxTokens?: number;
  /** llama.cpp `n_indent`: stop before a new line indented less than this many columns. */
  minIndent?: number;
  /** Overrides the soft deadline (llama.cpp `t_max_predict_ms`). */
  softDeadlineMs?: number;
  /** `false` returns the model's text as generated (special tokens cut only): for measuring what post-processing adds. */
  postProcess?: boolean;
}

export type CompletionFinishReason =
  /** A stop rule or the model ended the completion. */
  | 'stop'
  /** maxTokens reached. */
  | 'length'
  /** The soft deadline passed; the complete part is returned. */
  | 'soft-deadline'
  /** The hard deadline passed; nothing is returned. */
  | 'hard-deadline'
  /** The rules say not to complete here (mid-line before code). */
  | 'not-applicable'
  /** Post-processing left nothing (empty output, or a completion that breaks the parse). */
  | 'empty'
  | 'error';

export interface CompletionResult {
  /** Text to insert at the cursor, replacing `replaceLength` characters after it. Empty = no suggestion. */
  text: string;
  /** Characters after the cursor the text replaces (suffix-overlap merge). */
  replaceLength: number;
  mode: CompletionMode | 'none';
  /** Why the mode was chosen (or why there is no completion). */
  modeReason: string;
  finishReason: CompletionFinishReason;
  /** `miss` = generated for this request; `hit`, `typed-ahead` = from the cache; `in-flight` = joined a running generation. */
  cache: 'miss' | 'hit' | 'typed-ahead' | 'in-flight';
  /** Post-processing rules that changed the text, in order (`stop-at-blank-line`, `suffix-merge`, `syntax-truncated`, …). */
  rules: string[];
  /** What the model generated, before post-processing. */
  rawText: string;
  /** Milliseconds in the model call (0 for cache hits). */
  modelMs: number;
  /** Milliseconds from the model call to its first token: mostly reading the prompt (0 for cache hits). */
  firstTokenMs: number;
  /** Whether the document did not fit the prompt budget and its prefix or suffix was cut. */
  promptTruncated: boolean;
  /** Milliseconds from `complete` to its result. */
  totalMs: number;
  usage: TokenUsage;
  warnings: string[];
}

export interface CompletionEngineStats {
  requests: number;
  cacheHits: number;
  typedAheadHits: number;
  inFlightHits: number;
  modelCalls: number;
  /** Generations aborted because nobody needed them any more. */
  abandoned: number;
}

export interface CompleteOptions {
  signal?: AbortSignal;
  /**
   * Called as generation goes with text that no later rule can change: whole lines of the post-processed text, less
   * any tail the repetition guard, the suffix merge or the syntax check might still cut (a line that repeats an earlier
   * one, a tail that could be the re-typed suffix, text that does not parse yet). The result's `text` starts with
   * everything passed here, in order; its rest comes with the result. Single-line completions arrive whole, with the
   * result. Cache hits call nothing.
   */
  onTextDelta?: (text: string) => void;
}

export interface CompletionEngine {
  complete(request: CompletionRequest, options?: CompleteOptions): Promise<CompletionResult>;
  readonly stats: Readonly<CompletionEngineStats>;
  readonly model: ModelBackend;
  /** Aborts running generations and clears the cache (the model is the caller's to close). */
  close(): void;
}

/** The outcome of one generation, post-processed for the site it was started for. */
export interface RunResult {
  text: string;
  replaceLength: number;
  rawText: string;
  finishReason: CompletionFinishReason;
  rules: string[];
  modelMs: number;
  firstTokenMs: number;
  promptTruncated: boolean;
  usage: TokenUsage;
  warnings: string[];
}

export interface Run {
  prefix: string;
  suffix: string;
  mode: CompletionMode;
  /** The request settings its result depends on (see `variantOf`): a request joins only a run with the same. */
  variant: string;
  promise: Promise<RunResult>;
  controller: AbortController;
  waiters: number;
  /** What the model has generated so far: a follow-up request joins only if its typed text agrees with it. */
  partial: string;
  /** Post-processed text that is final (see `onTextDelta`); the run's result text starts with it. */
  committed: string;
  /** Told each time `committed` grows, with the whole committed text. */
  listeners: Set<(committed: string) => void>;
  /** The last candidate `finalPart` judged, so a line that does not parse yet is not parsed again on every token. */
  judged: string;
  /** The model has sent a token for this run. */
  started: boolean;
  /**
   * Some caller was sent a delta of `committed`: only then is the result held to it (`keep-streamed`, the hard
   * deadline's partial text). Callers that do not stream get the plain result.
   */
  sent: boolean;
  /** While generating: commits the complete lines so far, for a listener that attaches late (nothing was committed without one). */
  catchUp?: () => void;
  graceTimer?: NodeJS.Timeout;
}

export const ZERO_USAGE: TokenUsage = { promptTokens: 0, completionTokens: 0 };
