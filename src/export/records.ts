import type { ChatMessage } from '../models/index.js';

/**
 * The records every export format is derived from, read out of one run folder (eval, solve or rewards). Each
 * format is a pure function of these: nothing here runs code or calls a model.
 */

/** What the model was given: a raw text prompt (completion models, function-test rows) or chat messages. */
export type ExportPrompt = string | ChatMessage[];

/** One scored completion: a model's answer to a prompt and what executing it came to. */
export interface ScoredCompletion {
  taskId: string;
  prompt: ExportPrompt;
  /** The model's raw text, as recorded. */
  completion: string;
  /**
   * Share of the task's tests passed (solve: the hidden tests; rewards: `pass_rate`; eval: 1 or 0 from the verdict).
   * Null when it says nothing: an infra error, a flaky verdict, or no tests to judge by.
   */
  passRate: number | null;
  /** Eval runs: the harness gives one verdict per program, so `passRate` is 1 or 0 with no partial credit. */
  binary: boolean;
  /** The verdict as the source wrote it (`passed`, `failed`, `compile-error`, `infra-error`, `flaky`, …). */
  verdict: string;
  /** The sandbox broke: the record says nothing about the program, and is never exported as a negative. */
  infraError: boolean;
  /** Where it came from, for messages: `FILE:LINE`. */
  source: string;
  /** Solve attempts only: the attempt's place in its repair tree. */
  attempt?: {
    /** Unique within the source: the solve's number in the log, then the attempt id (`3/a2`). */
    key: string;
    /** Key of the attempt this one repairs; null for first samples. */
    parentKey: string | null;
    turn: number;
    kind: 'sample' | 'repair';
    /** The feedback the repair was made from (repair only). */
    feedback: string | null;
  };
}

/** A task with what a trainer needs to score new completions for it: the row the reward service takes. */
export interface ExportTask {
  taskId: string;
  prompt: ExportPrompt;
  /** The row as the reward service reads it (see docs/rewards.md, "Row formats"); null when the source has none. */
  row: Record<string, unknown> | null;
  language: string | null;
}

/** The canonical records of one run folder. */
export interface ExportSource {
  kind: 'eval' | 'solve' | 'rewards';
  /** Absolute path of the run folder. */
  dir: string;
  /** In source order. */
  completions: ScoredCompletion[];
  /** One per task that has a prompt, in source order; empty when the source records no rows (solve runs). */
  tasks: ExportTask[];
  /** Why the source has no rows, when `tasks` is empty for that reason. */
  rowsUnavailable: string | null;
  /** Odd but not fatal things found while reading, for the caller to show. */
  warnings: string[];
}

/** A stable key for "the same prompt": completions are only compared with others given exactly the same input. */
export function promptKey(taskId: string, prompt: ExportPrompt): string {
  return `${taskId}\u0000${typeof prompt === 'string' ? prompt : JSON.stringify(prompt)}`;
}
