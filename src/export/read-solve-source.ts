import { join, resolve } from 'node:path';
import { UsageError } from '../core/index.js';
import type { ChatMessage } from '../models/index.js';
import { isObject, readJsonlRecords } from './jsonl-records.js';
import type { ExportPrompt, ExportSource, ScoredCompletion } from './records.js';

function isMessages(value: unknown): value is ChatMessage[] {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every(
      (message) => isObject(message) && typeof message.role === 'string' && typeof message.content === 'string',
    )
  );
}

/**
 * The records of a `codeloop solve --out` folder (one task, or `--dataset` with many tasks and runs): its
 * `attempts.jsonl`, one line per attempt (src/loop/attempt-record.ts). Programs (`sample`, `repair`) become scored
 * completions labelled by the hidden tests (`pass_rate`); `tests` and `select` lines are not completions of the task.
 *
 * Attempt ids restart with every solve, and one log may hold many solves (tasks × runs, written one after another):
 * a solve starts at a line whose id is `a0` or whose task differs from the line before, and attempts are keyed by
 * the solve's number so that a repair finds its own parent.
 *
 * A solve log does not record the tests themselves (only their results), so it has no rows for the prompt-only
 * formats (GRPO, OpenRLHF, verl).
 */
export function readSolveSource(dir: string): ExportSource {
  const absolute = resolve(dir);
  const warnings: string[] = [];
  const path = join(absolute, 'attempts.jsonl');
  const records = readJsonlRecords(path, 'the attempt log of a codeloop solve run', warnings);
  const completions: ScoredCompletion[] = [];
  let solve = -1;
  let previousTask: string | null = null;
  for (const { value, source } of records) {
    const { task_id: taskId, attempt_id: attemptId, kind } = value;
    if (typeof taskId !== 'string' || typeof attemptId !== 'string' || typeof kind !== 'string')
      throw new UsageError(
        `${source}: lacks task_id, attempt_id or kind; is ${path} the attempt log of a codeloop solve run?`,
      );
    if (attemptId === 'a0' || taskId !== previousTask) solve++;
    previousTask = taskId;
    if (kind !== 'sample' && kind !== 'repair') continue;
    const prompt: ExportPrompt | undefined = isMessages(value.messages)
      ? value.messages
      : typeof value.prompt === 'string'
        ? value.prompt
        : undefined;
    if (prompt === undefined || typeof value.completion !== 'string') {
      throw new UsageError(`${source}: a ${kind} attempt without its prompt (or messages) and completion.`);
    }
    const passRate = typeof value.pass_rate === 'number' ? value.pass_rate : null;
    const infraError = value.infra_error === true;
    const feedback =
      isObject(value.feedback_in) && typeof value.feedback_in.text === 'string' ? value.feedback_in.text : null;
    const parentId = typeof value.parent_id === 'string' ? value.parent_id : null;
    const allPass = value.all_pass === true;
    completions.push({
      taskId,
      prompt,
      completion: value.completion,
      passRate: infraError ? null : passRate,
      binary: false,
      verdict: infraError ? 'infra-error' : passRate === null ? 'unjudged' : allPass ? 'passed' : 'failed',
      infraError,
      source,
      attempt: {
        key: `${solve}/${attemptId}`,
        parentKey: parentId === null ? null : `${solve}/${parentId}`,
        turn: typeof value.turn === 'number' ? value.turn : 0,
        kind,
        feedback,
      },
    });
  }
  return {
    kind: 'solve',
    dir: absolute,
    completions,
    tasks: [],
    rowsUnavailable:
      'a solve run records test results but not the tests themselves; export the prompt-only formats from an ' +
      'eval or rewards run of the same tasks',
    warnings,
  };
}
