import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ChatMessage } from '../models/index.js';
import type { Language, TestResult } from '../sandbox/index.js';

/**
 * One line of the attempt log (`attempts.jsonl`): the one canonical record of a solve, from which every export (RL
 * rows, preference pairs, SFT trajectories, pass@tokens) is a pure function. Keys are snake_case as in the other
 * JSONL files codeloop writes. Documented field by field in docs/solve.md.
 */
export interface AttemptRecord {
  task_id: string;
  /** `a0`, `a1`, … in the order the attempts were made. */
  attempt_id: string;
  /** The attempt this one repairs (repair), or the chosen one (select); null for first samples and test generation. */
  parent_id: string | null;
  /** 0 for a first sample, parent's turn + 1 for a repair. */
  turn: number;
  /** `sample` | `repair`: a program; `tests`: a test-generation call; `select`: the final choice and its verdict. */
  kind: 'sample' | 'repair' | 'tests' | 'select';
  /** The call's settings as sent; `stop`: the stop sequences (base style: the task's), absent when there were none. */
  model: {
    id: string;
    provider: string;
    style: 'base' | 'chat';
    temperature: number;
    top_p: number;
    seed: number;
    max_tokens: number;
    stop?: string[];
  } | null;
  /** The raw prompt (completion models) … */
  prompt?: string;
  /** … or the chat messages. */
  messages?: ChatMessage[];
  completion: string;
  /**
   * Programs: the code taken out of the completion (chat: the fenced block; base: the completion itself), before the
   * starter or its imports were put back to make `code`.
   */
  extracted_code?: string;
  /** The whole solution run (for tests: the assertions kept, one per line). */
  code: string;
  language: Language;
  /** The feedback this attempt was made from (repair only). */
  feedback_in: { template_id: string; text: string } | null;
  /** Per-test results, each with its origin (public, generated, hidden). Hidden ones were never shown to the model. */
  tests: TestResult[];
  /**
   * Programs: the end of what the program wrote to stderr while its visible tests ran (or the test command ran), at
   * most 2000 characters; the hidden tests' execution's stderr is never kept, so nothing here can quote one.
   */
  stderr_tail?: string;
  /** Passed / total of the hidden tests (null when there are none, or on an infra error). */
  pass_rate: number | null;
  /** Every hidden test passed. */
  all_pass: boolean;
  /** Passed / total of the public and generated tests, which the loop steers by (null when there are none). */
  visible_pass_rate: number | null;
  /** Every visible test passed; false when there are none (no evidence either way). */
  visible_all_pass: boolean;
  /** The sandbox broke on this attempt: its results say nothing about the program. */
  infra_error: boolean;
  usage: { prompt_tokens: number; completion_tokens: number; usd?: number };
  finish_reason?: string;
  /** Model call plus execution, ms. */
  wall_ms: number;
  /** Tests generation: the lines rejected by vetting, with the reason. */
  rejected_tests?: { test: string; reason: string }[];
  /** Select: how the final program was chosen. */
  selection?: {
    method: string;
    scoring?: string;
    clusters?: { attempt_ids: string[]; tests: number; score: number }[];
    candidates: string[];
  };
  /** Select: the final verdict from tests the model never saw. */
  verdict?: { passed: boolean; by: string; verdict: string; reason: string; infra_error: boolean };
  /**
   * Select, when tests were generated: how far they can be trusted — kept and rejected tests, attempts that passed
   * all of them, those with a hidden verdict, how many of those fail it (false positives) and the rate, and how many
   * tests the reference solution passes (null without one).
   */
  generated_tests?: {
    kept: number;
    rejected: number;
    attempts_passing_generated: number;
    attempts_judged: number;
    false_positives: number;
    false_positive_rate: number | null;
    passed_by_reference: number | null;
  };
  /** Select: why the loop stopped (`visible-pass`, `strategy-done`, `budget-*`, `context-overflow`, `model-error`, …). */
  stop_reason?: string;
  /** Select, when a model call failed: the error's code and message, and the attempt id it would have had. */
  model_error?: { code: string; message: string; after_attempt_id: string | null };
  repro: ReproMetadata;
  time: string;
}

/** What it takes to rerun an attempt: versions, sandbox, limits and settings. */
export interface ReproMetadata {
  /** codeloop's version (package.json) and the git commit of its checkout (null outside a repository). */
  codeloop: string;
  codeloop_commit: string | null;
  node: string;
  /** `Python 3.x.y` of the sandbox's default interpreter, /usr/bin/python3 (null when it cannot say). */
  python: string | null;
  /** The model file (gguf:, embedded, replay:): size, mtime and sha256 of its first MiB; null for server models. */
  model_digest: { path: string; bytes: number; mtime: string; sha256_first_mib: string } | null;
  /** sha256 of what defines the task (prompt, starter, entry point, tests, stop sequences, judge). */
  task_hash: string;
  platform: string;
  sandbox_isolation: string;
  per_test_ms: number;
  feedback_template: string;
  strategy: string;
  seed: number;
  /** TypeScript attempts were type-checked (MultiPL-E's rule). */
  type_check: boolean;
  /** Select record only: the solve's warnings (settings a backend ignored, dropped public tests, …). */
  warnings?: string[];
}

/** Appends records to a JSONL file as they happen, one write per line (a kill loses at most the line being written). */
export interface AttemptLog {
  readonly path: string;
  write(record: AttemptRecord): void;
  close(): void;
}

export function createAttemptLog(path: string): AttemptLog {
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, 'a');
  let open = true;
  return {
    path,
    write(record) {
      if (!open) throw new Error(`attempt log ${path} is closed`);
      // writeSync on an 'a' descriptor: unbuffered, so the line is in the file when this returns.
      writeSync(fd, `${JSON.stringify(record)}\n`);
    },
    close() {
      if (open) closeSync(fd);
      open = false;
    },
  };
}
