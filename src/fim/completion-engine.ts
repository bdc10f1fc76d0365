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
import type { FinishReason, GenerateOptions, StreamPart } from '../models/index.js';
import { CompletionCache } from './completion-cache.js';
import { formatControlTexts } from './completion-prompt.js';
import { completionSite, decideCompletionMode, type CompletionMode, type CompletionSite } from './completion-mode.js';
import {
  ZERO_USAGE,
  type CompletionEngine,
  type CompletionEngineOptions,
  type CompletionEngineStats,
  type CompletionFinishReason,
  type CompletionRequest,
  type CompletionResult,
  type Run,
  type RunResult,
} from './completion-types.js';
import { createParserCache, finishCompletion as finishWith, type FinishSettings } from './finish-completion.js';
import { checkEngineOptions } from './engine-options.js';
import { postProcessText } from './post-process.js';
import { fitPrompt as fitWith, promptBudgetFor, type PromptFitSettings } from './prompt-fit.js';
import { joinableTypedText } from './in-flight.js';
import { abortable, HARD_DEADLINE, SOFT_DEADLINE, SUPERSEDED } from './run-abort.js';
import { commit, finalPart, listen } from './stream-commit.js';

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

  const contextLength = model.capabilities.contextLength;
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
