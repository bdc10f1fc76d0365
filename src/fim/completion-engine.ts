/**
 * The completion engine: document + cursor in, an editor-ready completion out. One request goes through
 * mode decision → cache (exact, typed-ahead, in-flight) → prompt (prefix/suffix windows and repository context under a
 * token budget, in the model's FIM format) → streamed generation cut as soon as a stop rule fires or the soft deadline
 * passes with something usable → post-processing (clean, indentation, repetition, stops, suffix merge, syntax).
 *
 * Cancellation: a caller's signal detaches that caller at once (its promise rejects with the signal's reason). The
 * generation itself keeps running for a short grace period, because the next keystroke's request can often reuse it
 * (typed-ahead); it is aborted when a request that cannot reuse it arrives, when the grace period ends with nobody
 * waiting, or at the hard deadline.
 */
import { UsageError } from '../core/index.js';
import {
  approximateTokenCount,
  createContextCollector,
  loadSyntaxParser,
  syntaxLanguageFor,
  type ContextCollector,
  type RecentEdit,
  type SourceFile,
  type SyntaxParser,
  type TokenCounter,
} from '../context/index.js';
import type { FinishReason, GenerateOptions, ModelBackend, StreamPart, TokenUsage } from '../models/index.js';
import type { FimFormat } from '../models/index.js';
import { CompletionCache } from './completion-cache.js';
import {
  formatControlTexts,
  gatherPrompt,
  layoutPrompt,
  type CompletionPrompt,
  type ModelCall,
} from './completion-prompt.js';
import { completionSite, decideCompletionMode, type CompletionMode, type CompletionSite } from './completion-mode.js';
import { POST_PROCESS_RULES, postProcessText } from './post-process.js';
import { mergeSuffixOverlap } from './suffix-merge.js';
import { checkCompletionSyntax } from './syntax-check.js';

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
interface RunResult {
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

interface Run {
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

const SOFT_DEADLINE = Symbol('soft-deadline');
const HARD_DEADLINE = Symbol('hard-deadline');
const SUPERSEDED = Symbol('superseded');

const ZERO_USAGE: TokenUsage = { promptTokens: 0, completionTokens: 0 };

/**
 * Where the part of `text` ends that the suffix merge can never take as re-typed suffix: the first index from which
 * the rest of `text` is the start of the suffix (after any of its leading spaces/tabs), else the whole length.
 */
export function suffixSafeEnd(text: string, suffix: string): number {
  const skippable = suffix.match(/^[ \t]*/)?.[0].length ?? 0;
  for (let index = 0; index < text.length; index += 1) {
    const tail = text.slice(index);
    for (let skip = 0; skip <= skippable; skip += 1) if (suffix.startsWith(tail, skip)) return index;
  }
  return text.length;
}

/** Smallest prompt budget (tokens): the cursor line and a little around it. */
const MIN_PROMPT_TOKENS = 16;

/**
 * The prompt budget (tokens) for one request: `promptTokens`, capped so that prompt + `generate` tokens fit the
 * model's context with a margin. The completion never gets more than half the context: a request for more tokens than
 * fit is given the room that is left (the backend cuts maxTokens to it and says so in a warning). The margin is 5% of
 * the context when the backend counts tokens (the prompt is measured and cut again), 25% when only the 3.5
 * characters/token estimate stands between the prompt and an overflow (dense code, CJK text run well over it).
 */
export function promptBudgetFor(
  promptTokens: number,
  generate: number,
  contextLength: number | undefined,
  measured = true,
): number {
  if (contextLength === undefined || !(contextLength > 0)) return promptTokens;
  const margin = 8 + Math.ceil(contextLength * (measured ? 0.05 : 0.25));
  const reserve = Math.min(generate, Math.floor(contextLength / 2));
  return Math.max(MIN_PROMPT_TOKENS, Math.min(promptTokens, contextLength - reserve - margin));
}

/** Waits for `promise`, or rejects with the signal's reason as soon as it aborts (never wrapped). */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined, onAbort: () => void): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) {
    onAbort();
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const listener = (): void => {
      onAbort();
      reject(signal.reason);
    };
    signal.addEventListener('abort', listener, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', listener);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', listener);
        reject(error);
      },
    );
  });
}

function checkFraction(name: string, value: number): void {
  if (!(value >= 0 && value <= 1)) throw new UsageError(`${name}=${value} must be between 0 and 1.`);
}

export function createCompletionEngine(options: CompletionEngineOptions): CompletionEngine {
  const {
    model,
    format,
    countTokens = approximateTokenCount,
    promptTokens = 2048,
    prefixShare = 0.45,
    suffixShare = 0.15,
    maxTokens = 128,
    softDeadlineMs = 1000,
    hardDeadlineMs = 3000,
    firstTokenTimeoutMs = 60_000,
    cacheSize = 250,
    abandonGraceMs = 150,
    repoName,
    temperature = 0,
    disabledRules: disabledRuleNames = [],
  } = options;
  if (model === undefined || typeof model.streamComplete !== 'function')
    throw new UsageError('createCompletionEngine needs a model (a ModelBackend from openModel).');
  checkFraction('prefixShare', prefixShare);
  checkFraction('suffixShare', suffixShare);
  if (prefixShare + suffixShare > 1)
    throw new UsageError(`prefixShare + suffixShare = ${prefixShare + suffixShare} must be at most 1.`);
  if (!Number.isInteger(promptTokens) || promptTokens < MIN_PROMPT_TOKENS)
    throw new UsageError(`promptTokens=${promptTokens} must be an integer ≥ ${MIN_PROMPT_TOKENS}.`);
  for (const [name, value] of [
    ['softDeadlineMs', softDeadlineMs],
    ['hardDeadlineMs', hardDeadlineMs],
    ['firstTokenTimeoutMs', firstTokenTimeoutMs],
  ] as const) {
    if (!(value >= 0)) throw new UsageError(`${name}=${value} must be a number of milliseconds ≥ 0.`);
  }
  const known: ReadonlySet<string> = new Set(POST_PROCESS_RULES);
  const unknownRules = disabledRuleNames.filter((name) => !known.has(name));
  if (unknownRules.length > 0)
    throw new UsageError(
      `disabledRules: ${unknownRules.map((name) => JSON.stringify(name)).join(', ')} is not a rule; the rules are ` +
        `${POST_PROCESS_RULES.join(', ')}.`,
    );
  const disabledRules: ReadonlySet<string> = new Set(disabledRuleNames);
  if (format === undefined && !model.capabilities.supportsInfill) {
    throw new UsageError(
      `${model.modelId} cannot infill and no FIM format was given; pass format (src/fim getFimFormat) so the engine ` +
        `renders FIM prompts itself.`,
    );
  }

  const contextLength = model.capabilities.contextLength;
  const cache = cacheSize > 0 ? new CompletionCache<RunResult>(cacheSize) : undefined;
  const collector: ContextCollector = createContextCollector({ countTokens });
  const runs = new Set<Run>();
  /**
   * Whether the model has answered once. Until then a generation is not aborted for being stale or unwatched: the
   * model may be loading, and a cancelled request cancels the load in servers such as Ollama (Tabby #3367).
   */
  let modelAnswered = false;
  const parsers = new Map<string, Promise<SyntaxParser | undefined>>();
  const stats: CompletionEngineStats = {
    requests: 0,
    cacheHits: 0,
    typedAheadHits: 0,
    inFlightHits: 0,
    modelCalls: 0,
    abandoned: 0,
  };
  const specialTokens = format === undefined ? [] : formatControlTexts(format);

  const parserFor = (language: string | undefined): Promise<SyntaxParser | undefined> => {
    const key = language ?? '';
    let parser = parsers.get(key);
    if (parser === undefined) {
      const syntax = syntaxLanguageFor(language);
      parser = syntax === undefined ? Promise.resolve(undefined) : loadSyntaxParser(syntax).catch(() => undefined);
      parsers.set(key, parser);
    }
    return parser;
  };

  const detach = (run: Run): void => {
    run.waiters -= 1;
    if (run.waiters > 0) return;
    clearTimeout(run.graceTimer);
    run.graceTimer = setTimeout(() => {
      if (run.waiters === 0 && runs.has(run) && (modelAnswered || run.started)) {
        stats.abandoned += 1;
        run.controller.abort(SUPERSEDED);
      }
    }, abandonGraceMs);
    run.graceTimer.unref?.();
  };

  /** Starts one generation for `site` and post-processes it. */
  function startRun(
    request: CompletionRequest,
    site: CompletionSite,
    mode: CompletionMode,
    language: string | undefined,
    started: number,
  ): Run {
    const controller = new AbortController();
    const run: Run = {
      prefix: site.prefix,
      suffix: site.suffix,
      mode,
      variant: variantOf(request),
      controller,
      waiters: 1,
      partial: '',
      committed: '',
      listeners: new Set(),
      judged: '',
      started: false,
      sent: false,
      promise: Promise.resolve(undefined as unknown as RunResult),
    };
    run.promise = (async (): Promise<RunResult> => {
      const generate = request.maxTokens ?? maxTokens;
      const parser = request.postProcess === false ? undefined : await parserFor(language);
      const { prompt, call } = await fitPrompt(
        request,
        site,
        language,
        promptBudgetFor(promptTokens, generate, contextLength, model.countTokens !== undefined),
      );
      const warnings = [...prompt.warnings, ...call.warnings];
      const promptTruncated = prompt.prefix.length < site.prefix.length || prompt.suffix.length < site.suffix.length;
      let firstTokenMs = 0;
      const generateOptions: GenerateOptions = { maxTokens: generate, temperature, signal: controller.signal };
      const stream: AsyncIterable<StreamPart> =
        call.kind === 'complete'
          ? model.streamComplete(call.prompt, { ...generateOptions, stop: call.stop })
          : model.streamInfill(call.prefix, call.suffix, generateOptions);
      stats.modelCalls += 1;

      const modelStart = performance.now();
      const softAt = request.softDeadlineMs ?? softDeadlineMs;
      let raw = '';
      let softPassed = false;
      let finish: FinishReason | undefined;
      let usage = ZERO_USAGE;
      const usable = (text: string): boolean => {
        const processed = postProcessText(text, { site, mode, specialTokens, disabledRules }).text;
        return mode === 'single-line' ? processed.trim() !== '' : /\S[^\n]*\n/.test(text) && processed.trim() !== '';
      };
      const soft = setTimeout(
        () => {
          softPassed = true;
          if (usable(raw)) controller.abort(SOFT_DEADLINE);
        },
        Math.max(0, softAt - (performance.now() - started)),
      );
      let hard = setTimeout(
        () => {
          warnings.push(`no token within firstTokenTimeoutMs (${firstTokenTimeoutMs} ms); the request was cancelled.`);
          controller.abort(HARD_DEADLINE);
        },
        Math.max(0, firstTokenTimeoutMs - (performance.now() - started)),
      );
      let firstToken = true;
      let lastRawBreak = -1;
      let finishReason: CompletionFinishReason = 'stop';
      const rules = {
        site,
        mode,
        specialTokens,
        disabledRules,
        ...(request.minIndent === undefined ? {} : { minIndent: request.minIndent }),
      };
      // Streaming work (a post-process and a syntax parse per line) is done only for runs someone streams from: LSP,
      // eval and non-streamed HTTP have no listener. `finalPart` works from scratch, so a late listener catches up.
      const commitLines = (): void => {
        const rawBreak = raw.lastIndexOf('\n');
        if (mode !== 'multi-line' || rawBreak === -1 || run.listeners.size === 0) return;
        lastRawBreak = rawBreak;
        commit(run, finalPart(postProcessText(raw.slice(0, rawBreak + 1), rules).text, run, site, parser));
      };
      if (request.postProcess !== false) run.catchUp = commitLines;
      try {
        for await (const part of stream) {
          if (part.type === 'start') warnings.push(...part.warnings);
          else if (part.type === 'finish') {
            finish = part.finishReason;
            usage = part.usage;
          } else {
            if (firstToken) {
              firstToken = false;
              firstTokenMs = performance.now() - modelStart;
              run.started = true;
              modelAnswered = true;
              clearTimeout(hard);
              hard = setTimeout(() => controller.abort(HARD_DEADLINE), hardDeadlineMs);
            }
            raw += part.text;
            run.partial = raw;
            if (request.postProcess !== false) {
              const step = postProcessText(raw, { ...rules, generating: true });
              if (step.stopped) break;
              // A new line is complete: the lines up to it, post-processed, may be final.
              if (raw.lastIndexOf('\n') > lastRawBreak) commitLines();
            }
            if (softPassed && usable(raw)) {
              finishReason = 'soft-deadline';
              break;
            }
          }
        }
        if (finish === 'length') finishReason = 'length';
      } catch (error) {
        const reason: unknown = controller.signal.reason;
        if (!controller.signal.aborted) throw error;
        if (reason === SOFT_DEADLINE) finishReason = 'soft-deadline';
        // Nothing is returned at the hard deadline, except text already passed to onTextDelta, which cannot be taken back.
        else if (reason === HARD_DEADLINE)
          return {
            text: run.sent ? run.committed : '',
            replaceLength: 0,
            rawText: raw,
            finishReason: 'hard-deadline',
            rules: [],
            modelMs: performance.now() - modelStart,
            firstTokenMs,
            promptTruncated,
            usage,
            warnings,
          };
        else throw error;
      } finally {
        run.catchUp = undefined;
        clearTimeout(soft);
        clearTimeout(hard);
      }
      const modelMs = performance.now() - modelStart;
      if (finish === undefined) {
        // The stream was cut by a stop rule or a deadline before its finish part: count the tokens ourselves.
        usage = {
          promptTokens: countTokens(call.kind === 'complete' ? call.prompt : call.prefix + call.suffix),
          completionTokens: countTokens(raw),
        };
      }
      if (finishReason === 'soft-deadline' && mode === 'multi-line' && raw.includes('\n'))
        raw = raw.slice(0, raw.lastIndexOf('\n'));
      if (request.postProcess === false) {
        const cut = specialTokens.reduce((at, token) => {
          const index = raw.indexOf(token);
          return index !== -1 && index < at ? index : at;
        }, raw.length);
        return {
          text: raw.slice(0, cut),
          replaceLength: 0,
          rawText: raw,
          finishReason,
          rules: [],
          modelMs,
          firstTokenMs,
          promptTruncated,
          usage,
          warnings,
        };
      }
      let processed = await finishCompletion(raw, site, mode, language, request.minIndent);
      // Sent text is never taken back: when a rule cut into it after all, the result is what was sent.
      if (run.sent && !processed.text.startsWith(run.committed))
        processed = { text: run.committed, replaceLength: 0, rules: [...processed.rules, 'keep-streamed'] };
      return {
        ...processed,
        rawText: raw,
        finishReason: processed.text === '' && finishReason === 'stop' ? 'empty' : finishReason,
        modelMs,
        firstTokenMs,
        promptTruncated,
        usage,
        warnings,
      };
    })();
    run.promise.then(
      () => runs.delete(run),
      () => runs.delete(run),
    );
    runs.add(run);
    return run;
  }

  /** Grows `run.committed` to `text` (a longer text that starts with it) and tells the listeners. */
  const commit = (run: Run, text: string | undefined): void => {
    if (text === undefined || text.length <= run.committed.length || !text.startsWith(run.committed)) return;
    run.committed = text;
    for (const listener of run.listeners) listener(text);
  };

  /**
   * The part of the post-processed complete lines so far that no later step can change, when it is longer than
   * `committed`: none from the first line that repeats an earlier one (the
   * repetition guard cuts back to the first copy), none of a tail that could be the start of the re-typed suffix (the
   * merge would leave it out), and only text that parses in place (the syntax check could cut or reject it).
   */
  function finalPart(
    processed: string,
    run: Run,
    site: CompletionSite,
    parser: SyntaxParser | undefined,
  ): string | undefined {
    const { committed } = run;
    if (processed.length <= committed.length) return undefined;
    const lines = processed.split('\n');
    const seen = new Set<string>();
    for (let index = 0; index < lines.length; index += 1) {
      const line = lines[index] ?? '';
      if (line.trim() === '') continue;
      if (seen.has(line)) {
        lines.length = index;
        break;
      }
      seen.add(line);
    }
    let text = lines.join('\n');
    text = text.slice(0, suffixSafeEnd(text, site.suffix)).replace(/\s+$/, '');
    if (text.length <= committed.length || !text.startsWith(committed) || text === run.judged) return undefined;
    run.judged = text;
    if (parser !== undefined) {
      const checked = checkCompletionSyntax(parser, site.prefix, text, site.suffix);
      if ((checked.verdict !== 'ok' && checked.verdict !== 'unknown') || checked.text !== text) return undefined;
    }
    return text;
  }

  /**
   * Gathers and lays out the prompt under `budget` tokens. The budget is counted with `countTokens`, which may be an
   * estimate; when the model can count (llama: its tokenizer) and has a known context, the laid-out prompt is
   * measured, and cut again in proportion while it is over, so that it never overflows the context.
   */
  async function fitPrompt(
    request: CompletionRequest,
    site: CompletionSite,
    language: string | undefined,
    budget: number,
  ): Promise<{ prompt: CompletionPrompt; call: ModelCall }> {
    for (let attempt = 0; ; attempt += 1) {
      const prompt = await gatherPrompt(
        request,
        site,
        language,
        { countTokens, promptTokens: budget, prefixShare, suffixShare },
        collector,
      );
      const call = layoutPrompt(prompt, {
        ...(format === undefined ? {} : { format }),
        language,
        path: request.path,
        repoName,
      });
      if (
        contextLength === undefined ||
        model.countTokens === undefined ||
        attempt === 3 ||
        budget <= MIN_PROMPT_TOKENS
      )
        return { prompt, call };
      const measured = await measurePrompt(call, model.countTokens.bind(model));
      if (measured <= budget) return { prompt, call };
      budget = Math.max(MIN_PROMPT_TOKENS, Math.floor((budget * budget * 0.95) / measured));
    }
  }

  /** Tokens of a laid-out prompt in the model's tokenizer: each sentinel is one token (countTokens reads it as text). */
  async function measurePrompt(call: ModelCall, count: (text: string) => Promise<number>): Promise<number> {
    if (call.kind === 'infill') return (await count(call.prefix)) + (await count(call.suffix)) + 4;
    let text = call.prompt;
    let sentinels = 0;
    for (const token of specialTokens) {
      const parts = text.split(token);
      sentinels += parts.length - 1;
      text = parts.join('\n');
    }
    return (await count(text)) + sentinels;
  }

  async function finishCompletion(
    raw: string,
    site: CompletionSite,
    mode: CompletionMode,
    language: string | undefined,
    minIndent: number | undefined,
  ): Promise<{ text: string; replaceLength: number; rules: string[] }> {
    const step = postProcessText(raw, {
      site,
      mode,
      specialTokens,
      disabledRules,
      ...(minIndent === undefined ? {} : { minIndent }),
    });
    const rules = [...step.rules];
    let text = step.text;
    const merged = disabledRules.has('suffix-merge')
      ? { text, replaceLength: 0 }
      : mergeSuffixOverlap(text, mode === 'single-line' ? site.lineSuffix : site.suffix);
    if (merged.replaceLength > 0) rules.push('suffix-merge');
    text = merged.text;
    const parser = await parserFor(language);
    if (parser !== undefined && text.trim() !== '') {
      const checked = checkCompletionSyntax(parser, site.prefix, text, site.suffix.slice(merged.replaceLength));
      const rule =
        checked.verdict === 'truncated'
          ? 'syntax-truncated'
          : checked.verdict === 'block-end'
            ? 'syntax-block-end'
            : checked.verdict === 'rejected'
              ? 'syntax-rejected'
              : undefined;
      if (rule === undefined || !disabledRules.has(rule)) {
        if (rule !== undefined) rules.push(rule);
        text = checked.text;
      }
    }
    if (text.trim() === '') return { text: '', replaceLength: 0, rules };
    // The syntax step may have cut the re-typed tail away; then nothing after the cursor is replaced.
    return { text, replaceLength: text === merged.text ? merged.replaceLength : 0, rules };
  }

  /**
   * Passes a run's committed text on to one caller as deltas, from `typed` characters on (a joiner has typed the
   * start of it). Returns the function that stops it.
   */
  const listen = (
    run: Run,
    typed: number,
    typedText: string,
    onTextDelta: ((text: string) => void) | undefined,
  ): (() => boolean) => {
    if (onTextDelta === undefined) return () => false;
    let sent = typed;
    const listener = (committed: string): void => {
      if (committed.length <= sent || !committed.startsWith(typedText)) return;
      const delta = committed.slice(sent);
      sent = committed.length;
      run.sent = true;
      onTextDelta(delta);
    };
    run.listeners.add(listener);
    run.catchUp?.();
    listener(run.committed);
    return () => {
      run.listeners.delete(listener);
      return sent > typed;
    };
  };

  /**
   * What a result depends on besides the text: the requested mode, maxTokens and n_indent. Cache entries and running
   * generations are shared only between requests that agree on it. The mode `auto` decides is left out: typing the
   * start of a suggestion turns a blank line (multi-line) into code on the line (single-line), and that is exactly
   * the typed-ahead case the cache serves.
   */
  const variantOf = (request: CompletionRequest): string =>
    `${request.mode ?? 'auto'}|${request.maxTokens ?? maxTokens}|${request.minIndent ?? ''}`;

  const fromRun = (
    result: RunResult,
    typed: number,
    cacheState: CompletionResult['cache'],
    mode: CompletionMode,
    modeReason: string,
    started: number,
  ): CompletionResult => ({
    text: result.text.slice(typed),
    replaceLength: result.replaceLength,
    mode,
    modeReason,
    finishReason: result.finishReason,
    cache: cacheState,
    rules: result.rules,
    rawText: result.rawText,
    modelMs: cacheState === 'miss' ? result.modelMs : 0,
    firstTokenMs: cacheState === 'miss' ? result.firstTokenMs : 0,
    promptTruncated: result.promptTruncated,
    totalMs: performance.now() - started,
    usage: cacheState === 'miss' ? result.usage : ZERO_USAGE,
    warnings: result.warnings,
  });

  return {
    model,
    stats,
    close() {
      for (const run of runs) run.controller.abort(SUPERSEDED);
      cache?.clear();
    },
    async complete(request, callOptions = {}) {
      const started = performance.now();
      const { signal, onTextDelta } = callOptions;
      signal?.throwIfAborted();
      if (typeof request?.text !== 'string')
        throw new UsageError(`complete needs the document as request.text (got ${typeof request?.text}).`);
      if (!Number.isInteger(request.cursor) || request.cursor < 0 || request.cursor > request.text.length) {
        throw new UsageError(
          `request.cursor=${String(request.cursor)} must be an integer offset between 0 and the document length (${request.text.length}).`,
        );
      }
      stats.requests += 1;
      // Without a path or language (llama.cpp /infill sends neither), the context chunks' file names tell it.
      const language =
        syntaxLanguageFor(request.language, request.path) ??
        request.language ??
        [...(request.extraContext ?? []), ...(request.files ?? [])]
          .map((file) => syntaxLanguageFor(undefined, file.path))
          .find((found) => found !== undefined);
      const site = completionSite(request.text, request.cursor);
      const decision = decideCompletionMode(site, request.mode ?? 'auto');
      if (decision.mode === 'none') {
        return {
          text: '',
          replaceLength: 0,
          mode: 'none',
          modeReason: decision.reason,
          finishReason: 'not-applicable',
          cache: 'miss',
          rules: [],
          rawText: '',
          modelMs: 0,
          firstTokenMs: 0,
          promptTruncated: false,
          totalMs: performance.now() - started,
          usage: ZERO_USAGE,
          warnings: [],
        };
      }
      const { mode, reason } = decision;
      const useCache = request.postProcess !== false && cache !== undefined;

      const variant = variantOf(request);
      if (useCache) {
        const hit = cache.get(site.prefix, site.suffix, variant);
        if (hit !== undefined) {
          if (hit.typed === 0) stats.cacheHits += 1;
          else stats.typedAheadHits += 1;
          return fromRun(hit.entry, hit.typed, hit.typed === 0 ? 'hit' : 'typed-ahead', mode, reason, started);
        }
        for (const run of runs) {
          const typed = site.prefix.length - run.prefix.length;
          if (
            run.variant !== variant ||
            run.suffix !== site.suffix ||
            typed < 0 ||
            typed > cache.maxTypedAhead ||
            !site.prefix.startsWith(run.prefix) ||
            run.controller.signal.aborted
          )
            continue;
          const typedText = site.prefix.slice(run.prefix.length);
          // Join only a generation that already agrees with the typed text (or the same position asked again).
          if (
            typedText !== '' &&
            (run.partial === '' || (!run.partial.startsWith(typedText) && !typedText.startsWith(run.partial)))
          )
            continue;
          run.waiters += 1;
          clearTimeout(run.graceTimer);
          const stopListening = listen(run, typed, typedText, onTextDelta);
          let result: RunResult;
          try {
            result = await abortable(run.promise, signal, () => detach(run));
          } catch (error) {
            // Text already passed on cannot be replaced by a new generation's.
            if (signal?.aborted || stopListening()) throw error;
            break;
          } finally {
            stopListening();
          }
          detach(run);
          if (result.text.startsWith(typedText) && result.text.length > typedText.length) {
            stats.inFlightHits += 1;
            return fromRun(result, typed, 'in-flight', mode, reason, started);
          }
          break;
        }
      }

      // A new keystroke that cannot reuse a running generation makes it useless: free the model for this one.
      for (const run of runs) {
        if (run.waiters === 0 && (modelAnswered || run.started)) {
          stats.abandoned += 1;
          run.controller.abort(SUPERSEDED);
        }
      }
      const run = startRun(request, site, mode, language, started);
      const stopListening = listen(run, 0, '', onTextDelta);
      let result: RunResult;
      try {
        result = await abortable(run.promise, signal, () => detach(run));
      } finally {
        stopListening();
      }
      detach(run);
      // A result cut by a deadline is what was ready in time, not the completion: the next request asks again.
      if (
        useCache &&
        result.text !== '' &&
        result.finishReason !== 'hard-deadline' &&
        result.finishReason !== 'soft-deadline'
      )
        cache.set(site.prefix, site.suffix, result, variant);
      return fromRun(result, 0, 'miss', mode, reason, started);
    },
  };
}
