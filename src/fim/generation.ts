/**
 * One generation: the prompt fitted to the context, the model's stream read with the deadlines (soft: stop once
 * something usable arrived; first token; hard), complete lines committed for streaming callers, then the whole text
 * post-processed. Aborts end it with what the reason allows (see run-abort.ts).
 */
import type { SyntaxParser, TokenCounter } from '../context/index.js';
import type { FinishReason, GenerateOptions, ModelBackend, StreamPart } from '../models/index.js';
import type { CompletionMode, CompletionSite } from './completion-mode.js';
import type { CompletionPrompt, ModelCall } from './completion-prompt.js';
import {
  ZERO_USAGE,
  type CompletionEngineStats,
  type CompletionFinishReason,
  type CompletionRequest,
  type Run,
  type RunResult,
} from './completion-types.js';
import { postProcessText } from './post-process.js';
import { promptBudgetFor } from './prompt-fit.js';
import { HARD_DEADLINE, SOFT_DEADLINE } from './run-abort.js';
import { commit, finalPart } from './stream-commit.js';

/** What a generation needs from its engine: the model, the settings with defaults applied, and the engine's steps. */
export interface GenerationContext {
  model: ModelBackend;
  maxTokens: number;
  promptTokens: number;
  temperature: number;
  softDeadlineMs: number;
  hardDeadlineMs: number;
  firstTokenTimeoutMs: number;
  countTokens: TokenCounter;
  specialTokens: readonly string[];
  disabledRules: ReadonlySet<string>;
  /** Counts `modelCalls`. */
  stats: CompletionEngineStats;
  parserFor(language: string | undefined): Promise<SyntaxParser | undefined>;
  fitPrompt(
    request: CompletionRequest,
    site: CompletionSite,
    language: string | undefined,
    budget: number,
  ): Promise<{ prompt: CompletionPrompt; call: ModelCall }>;
  finishCompletion(
    raw: string,
    site: CompletionSite,
    mode: CompletionMode,
    language: string | undefined,
    minIndent: number | undefined,
  ): Promise<{ text: string; replaceLength: number; rules: string[] }>;
  /** Told when the model sends its first token (of any generation). */
  onModelAnswered(): void;
}

/** Runs the generation of `run` (started at `started`, performance.now()) for `site`, and post-processes it. */
export async function runGeneration(
  generation: GenerationContext,
  run: Run,
  request: CompletionRequest,
  site: CompletionSite,
  mode: CompletionMode,
  language: string | undefined,
  started: number,
): Promise<RunResult> {
  const {
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
  } = generation;
  const contextLength = model.capabilities.contextLength;
  const { controller } = run;
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
          generation.onModelAnswered();
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
}
