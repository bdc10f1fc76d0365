import { closeSync, openSync, writeSync } from 'node:fs';
import { setMaxListeners } from 'node:events';
import { readCompleteLines, UsageError } from '../core/index.js';
import type { ChatMessage, GenerateResult, ModelBackend } from '../models/index.js';
import type { PromptStyle, Task } from '../tasks/index.js';

/**
 * Sample generation for evaluation: asks a model (any `ModelBackend`, through the contract only) for `n` completions
 * per task and appends them to a samples JSONL that `codeloop eval` scores. Generation and scoring stay separate, as in
 * human-eval: this file never runs code.
 */

/*
 * How a task becomes a model call (`PromptStyle`):
 * - `base`: the dataset's prompt is continued as raw text (`complete`); infilling tasks use `infill(prompt, suffix)`.
 *   What EvalPlus calls "direct completion" and MultiPL-E and human-eval do.
 * - `chat`: the prompt goes in a user message asking for a complete solution in a code block (EvalPlus's instruction
 *   prompt, see `chatMessages`); the answer is saved as `raw` and should be scored with `--sanitize`.
 */

/** One line of a samples file written by `generateSamples`. */
export interface GeneratedSample {
  task_id: string;
  /** The text to score: for `base`, the continuation of the prompt; for `chat`, the model's whole answer. */
  completion: string;
  /** What the model was given (the raw prompt, or the chat messages as JSON), so a replay backend can serve it again. */
  prompt: string;
  /** The infilling suffix, for infilling tasks. */
  suffix?: string;
  finish_reason: string;
  usage: { prompt_tokens: number; completion_tokens: number };
  /** Tokens cut from the prompt's start to fit the model's context (`promptOverflow: 'keep-end'`); absent when none. */
  truncated_prompt_tokens?: number;
  model: string;
  style: PromptStyle;
  /** Sampling settings of the run, so that a rerun into the same file can refuse to mix samples of other settings. */
  temperature: number;
  top_p: number;
  max_tokens: number;
}

/** The fields of a sample line that must match for a rerun to top the file up, and the flag that sets each. */
const RESUME_SETTINGS = [
  ['model', '--model'],
  ['style', '--prompt-style'],
  ['temperature', '--temperature'],
  ['top_p', '--top-p'],
  ['max_tokens', '--max-tokens'],
] as const;

type ResumeSettings = Pick<GeneratedSample, (typeof RESUME_SETTINGS)[number][0]>;

export interface GenerateSamplesOptions {
  /** Samples per task. Tasks that already have some in `outPath` are topped up to `n`. Default 1. */
  n?: number;
  /** Sampling temperature. Default 0 (greedy; with n > 1 use e.g. 0.8 as human-eval's pass@100). */
  temperature?: number;
  topP?: number;
  /**
   * Tokens per completion. Default 512, or half the model's context when that is shorter (`capabilities
   * .contextLength`: the embedded model's 256 tokens give 128), so that a prompt keeps the other half.
   */
  maxTokens?: number;
  /**
   * A prompt that does not fit the model's context: `keep-end` (default) drops its start (the prefix's start for an
   * infill task) so every task still runs, counted per sample (`truncated_prompt_tokens`) and in
   * `GenerateSamplesResult.truncatedPrompts`; `error` fails the run. Chat prompts are never cut.
   */
  promptOverflow?: 'error' | 'keep-end';
  /** Seed of the first sample; sample i of a task uses seed + i, so a rerun gives the same samples. Default 0. */
  seed?: number;
  style?: PromptStyle;
  /** Model calls in flight at once (each may ask for several samples). Default 2. */
  concurrency?: number;
  /**
   * Samples JSONL to append to (created if missing). Lines already there count towards `n` (a killed run resumes); a
   * last line cut short by a kill is removed. A line recorded with another model, prompt style, temperature, top-p
   * or maxTokens is a `UsageError` naming both values: its samples and this run's must not be scored as one.
   */
  outPath: string;
  signal?: AbortSignal;
  /**
   * Called after each sample is written. `decodedTokens`: completion tokens the model decoded for this sample's call,
   * given with the call's first sample and 0 with the rest (greedy n > 1 decodes once and copies), so summing it
   * gives the run's decoded tokens.
   */
  onSample?: (sample: GeneratedSample, decodedTokens: number) => void;
}

export interface GenerateSamplesResult {
  /** Samples written in this call. */
  written: number;
  /** Samples that were already in the file. */
  existing: number;
  /** Warnings the backend reported (deduplicated). */
  warnings: string[];
  /** Samples written in this call whose prompt was cut to fit the context. */
  truncatedPrompts: number;
  usage: { promptTokens: number; completionTokens: number };
}

/** EvalPlus-style instruction prompt for chat models: the task's prompt in a fenced block, asking for a full solution. */
export function chatMessages(task: Task): ChatMessage[] {
  const language = task.language === 'python' ? 'python' : task.language === 'typescript' ? 'typescript' : 'javascript';
  return [
    {
      role: 'user',
      content:
        `Please provide a self-contained ${language === 'python' ? 'Python' : language === 'typescript' ? 'TypeScript' : 'JavaScript'} script that solves the following problem in a markdown code block:\n` +
        `\`\`\`${language}\n${task.prompt.trim()}\n\`\`\`\n`,
    },
  ];
}

/**
 * Counts the samples per task already in `path`, cutting a last line left incomplete by a kill. A line whose recorded
 * settings differ from this run's is refused: topping up would mix two runs' samples in one pass@k. (A line without
 * a setting, e.g. from another tool, is not checked on it.)
 */
function existingCounts(path: string, settings: ResumeSettings): Map<string, number> {
  const counts = new Map<string, number>();
  for (const [index, line] of readCompleteLines(path).entries()) {
    if (line.trim() === '') continue;
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line) as Record<string, unknown>;
    } catch (error) {
      throw new UsageError(
        `${path}:${index + 1}: not valid JSON (${(error as Error).message}); fix or delete the line, or write to a new --out file.`,
        { cause: error },
      );
    }
    const taskId = record.task_id;
    if (typeof taskId !== 'string')
      throw new UsageError(`${path}:${index + 1}: "task_id" is missing; fix or delete the line.`);
    for (const [field, flag] of RESUME_SETTINGS) {
      const recorded = record[field];
      if (recorded === undefined || recorded === settings[field]) continue;
      throw new UsageError(
        `${path}:${index + 1}: the samples there were generated with ${field} ${JSON.stringify(recorded)}, this run asks for ${JSON.stringify(settings[field])}; ` +
          `topping the file up would mix the two in one score. Write to a new --out, or rerun with ${flag} ` +
          `${typeof recorded === 'string' ? recorded : JSON.stringify(recorded)} to top up.`,
      );
    }
    counts.set(taskId, (counts.get(taskId) ?? 0) + 1);
  }
  return counts;
}

/**
 * Generates samples for `tasks` with `backend` and appends them to `outPath`, one JSON line per sample, each line
 * written as soon as its call returns (so a killed run loses at most the calls in flight, and a rerun tops up).
 */
export async function generateSamples(
  tasks: readonly Task[],
  backend: ModelBackend,
  options: GenerateSamplesOptions,
): Promise<GenerateSamplesResult> {
  const {
    n = 1,
    temperature = 0,
    topP,
    maxTokens = defaultMaxTokens(backend),
    promptOverflow = 'keep-end',
    seed = 0,
    style = 'base',
    concurrency = 2,
    outPath,
    signal,
    onSample,
  } = options;
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`n=${n} must be a positive integer.`);
  if (style === 'chat' && !backend.capabilities.supportsChat) {
    throw new UsageError(`${backend.modelId} has no chat template or chat endpoint: use --prompt-style base.`);
  }
  signal?.throwIfAborted();
  const settings: ResumeSettings = {
    model: backend.modelId,
    style,
    temperature,
    top_p: topP ?? 1,
    max_tokens: maxTokens,
  };
  const counts = existingCounts(outPath, settings);
  const existing = [...counts.values()].reduce((sum, count) => sum + count, 0);
  // One job per (task, first sample index, count): greedy decoding gives the same text for every sample, so it is one
  // call with n; sampled decoding asks for up to 8 at a time so that backends can batch them.
  const jobs: { task: Task; first: number; count: number }[] = [];
  for (const task of tasks) {
    const have = counts.get(task.id) ?? 0;
    for (let first = have; first < n; first += 8) jobs.push({ task, first, count: Math.min(8, n - first) });
  }
  const warnings = new Set<string>();
  const usage = { promptTokens: 0, completionTokens: 0 };
  let written = 0;
  let truncatedPrompts = 0;
  const descriptor = openSync(outPath, 'a');
  const inner = new AbortController();
  setMaxListeners(0, inner.signal);
  const forward = (): void => inner.abort(signal?.reason);
  signal?.addEventListener('abort', forward, { once: true });
  try {
    let next = 0;
    const loop = async (): Promise<void> => {
      while (next < jobs.length) {
        inner.signal.throwIfAborted();
        const { task, first, count } = jobs[next++] as (typeof jobs)[number];
        const callOptions = {
          n: count,
          temperature,
          maxTokens,
          seed: seed + first,
          stop: style === 'base' ? [...task.stopSequences] : [],
          signal: inner.signal,
          promptOverflow,
          ...(topP === undefined ? {} : { topP }),
        };
        let result: GenerateResult;
        let prompt: string;
        if (style === 'chat') {
          const messages = chatMessages(task);
          prompt = JSON.stringify(messages);
          result = await backend.chat(messages, callOptions);
        } else if (task.suffix !== undefined) {
          prompt = task.prompt;
          result = await backend.infill(task.prompt, task.suffix, callOptions);
        } else {
          prompt = task.prompt;
          result = await backend.complete(task.prompt, callOptions);
        }
        for (const warning of result.warnings) warnings.add(warning);
        usage.promptTokens += result.usage.promptTokens;
        usage.completionTokens += result.usage.completionTokens;
        for (const [index, choice] of result.choices.slice(0, count).entries()) {
          const sample: GeneratedSample = {
            task_id: task.id,
            completion: choice.text,
            prompt,
            ...(task.suffix === undefined || style === 'chat' ? {} : { suffix: task.suffix }),
            finish_reason: choice.finishReason,
            // Every sample saw the whole prompt (usage.promptTokens counts it once per call, not once per choice).
            usage: { prompt_tokens: result.usage.promptTokens, completion_tokens: choice.completionTokens },
            ...(result.truncatedPromptTokens === undefined
              ? {}
              : { truncated_prompt_tokens: result.truncatedPromptTokens }),
            ...settings,
          };
          if (result.truncatedPromptTokens !== undefined) truncatedPrompts++;
          // One write per line on an O_APPEND descriptor: a kill never leaves half a line behind but the last.
          writeSync(descriptor, `${JSON.stringify(sample)}\n`);
          written++;
          onSample?.(sample, index === 0 ? result.usage.completionTokens : 0);
        }
        if (result.choices.length < count) {
          throw new UsageError(
            `${backend.modelId} returned ${result.choices.length} of ${count} requested samples for ${task.id}.`,
          );
        }
      }
    };
    const outcomes = await Promise.allSettled(
      Array.from({ length: Math.max(1, Math.min(concurrency, jobs.length)) }, () => loop()),
    );
    const failure = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (failure !== undefined) throw signal?.aborted ? signal.reason : failure.reason;
  } finally {
    signal?.removeEventListener('abort', forward);
    closeSync(descriptor);
  }
  return { written, existing, warnings: [...warnings], usage, truncatedPrompts };
}

/** 512 tokens, or half the model's context when that is less (a prompt needs the rest). */
export function defaultMaxTokens(backend: Pick<ModelBackend, 'capabilities'>): number {
  const context = backend.capabilities.contextLength;
  return context === undefined ? 512 : Math.max(1, Math.min(512, Math.floor(context / 2)));
}
