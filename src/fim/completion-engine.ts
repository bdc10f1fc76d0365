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
  syntaxLanguageFor,
  type ContextCollector,
} from '../context/index.js';
import { CompletionCache } from './completion-cache.js';
import { formatControlTexts } from './completion-prompt.js';
import { completionSite, decideCompletionMode, type CompletionMode, type CompletionSite } from './completion-mode.js';
import {
  ZERO_USAGE,
  type CompletionEngine,
  type CompletionEngineOptions,
  type CompletionEngineStats,
  type CompletionRequest,
  type CompletionResult,
  type Run,
  type RunResult,
} from './completion-types.js';
import { createParserCache, finishCompletion as finishWith, type FinishSettings } from './finish-completion.js';
import { checkEngineOptions } from './engine-options.js';
import { fitPrompt as fitWith, type PromptFitSettings } from './prompt-fit.js';
import { runGeneration, type GenerationContext } from './generation.js';
import { joinableTypedText } from './in-flight.js';
import { abortable, SUPERSEDED } from './run-abort.js';
import { listen } from './stream-commit.js';

export type {
  CompleteOptions,
  CompletionEngine,
  CompletionEngineOptions,
  CompletionEngineStats,
  CompletionFinishReason,
  CompletionRequest,
  CompletionResult,
} from './completion-types.js';
export { promptBudgetFor } from './prompt-fit.js';
export { suffixSafeEnd } from './stream-commit.js';

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
  const disabledRules = checkEngineOptions({
    model,
    format,
    promptTokens,
    prefixShare,
    suffixShare,
    softDeadlineMs,
    hardDeadlineMs,
    firstTokenTimeoutMs,
    disabledRuleNames,
  });

  const cache = cacheSize > 0 ? new CompletionCache<RunResult>(cacheSize) : undefined;
  const collector: ContextCollector = createContextCollector({ countTokens });
  const runs = new Set<Run>();
  /**
   * Whether the model has answered once. Until then a generation is not aborted for being stale or unwatched: the
   * model may be loading, and a cancelled request cancels the load in servers such as Ollama (Tabby #3367).
   */
  let modelAnswered = false;
  const stats: CompletionEngineStats = {
    requests: 0,
    cacheHits: 0,
    typedAheadHits: 0,
    inFlightHits: 0,
    modelCalls: 0,
    abandoned: 0,
  };
  const specialTokens = format === undefined ? [] : formatControlTexts(format);
  const parserFor = createParserCache();
  const fitSettings: PromptFitSettings = {
    model,
    format,
    countTokens,
    prefixShare,
    suffixShare,
    repoName,
    collector,
    specialTokens,
  };
  const finishSettings: FinishSettings = { specialTokens, disabledRules, parserFor };
  const fitPrompt = (...args: [CompletionRequest, CompletionSite, string | undefined, number]) =>
    fitWith(fitSettings, ...args);
  const finishCompletion = (
    ...args: [string, CompletionSite, CompletionMode, string | undefined, number | undefined]
  ) => finishWith(finishSettings, ...args);
  const generation: GenerationContext = {
    model,
    maxTokens,
    promptTokens,
    temperature,
    softDeadlineMs,
    hardDeadlineMs,
    firstTokenTimeoutMs,
    countTokens,
    specialTokens,
    disabledRules,
    stats,
    parserFor,
    fitPrompt,
    finishCompletion,
    onModelAnswered: () => {
      modelAnswered = true;
    },
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
    run.promise = runGeneration(generation, run, request, site, mode, language, started);
    run.promise.then(
      () => runs.delete(run),
      () => runs.delete(run),
    );
    runs.add(run);
    return run;
  }

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
          const typedText = joinableTypedText(run, site, variant, cache.maxTypedAhead);
          if (typedText === undefined) continue;
          const typed = typedText.length;
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
