import type { Executor, TestResult, TestRunResult } from '../sandbox/index.js';
import { runCommand, type SolveTask } from './solve-task.js';

/** A test-command task's one visible "test": the command, judged by its exit code, with its output tail. */
export async function commandRun(
  executor: Executor,
  task: SolveTask,
  code: string,
  signal: AbortSignal | undefined,
): Promise<TestRunResult> {
  if (task.judge.kind !== 'command') throw new Error('commandRun called for a task without a test command');
  const spec = task.judge.command;
  const result = await runCommand(executor, spec, code, signal);
  const output = withoutTimings(`${result.stdout}${result.stderr}`).slice(-3_000);
  const infraError = result.verdict === 'infra-error';
  const status: TestResult['status'] =
    result.verdict === 'passed'
      ? 'passed'
      : result.verdict === 'timed-out'
        ? 'timed-out'
        : infraError
          ? 'infra-error'
          : 'failed';
  return {
    tests: [
      {
        id: 'public/command',
        origin: 'public',
        assertion: spec.command,
        status,
        ...(status === 'passed' ? {} : { exception: { type: 'CommandFailed', message: result.reason } }),
        traceback: output,
        durationMs: result.durationMs,
      },
    ],
    solution: { status: infraError ? 'infra-error' : 'passed' },
    infraError,
    execution: {
      verdict: result.verdict,
      reason: result.reason,
      durationMs: result.durationMs,
      isolation: result.isolation,
      stderrTail: result.stderr.slice(-2_000),
    },
  };
}

/**
 * Test runners print how long they took ("Ran 1 test in 0.001s", "1 failed in 0.12s", "Duration 1.2s", "(3ms)"); the
 * figures are replaced by `<time>` so that the same failure gives the same feedback, and a rerun the same prompts
 * (aider's benchmark strips timing lines for the same reason).
 */
export function withoutTimings(output: string): string {
  return output
    .replace(/\b(in|Duration|Time:?)(\s+)\d+(?:\.\d+)?\s?(?:ms|s)\b/g, '$1$2<time>')
    .replace(/\bduration_ms \d+(?:\.\d+)?/g, 'duration_ms <time>')
    .replace(/\(\d+(?:\.\d+)?\s?m?s\)/g, '(<time>)');
}

export function commandFeedback(
  task: SolveTask,
  run: TestRunResult,
): { command: string; reason: string; output: string } {
  const test = run.tests[0];
  return {
    command: task.judge.kind === 'command' ? task.judge.command.command : '',
    reason: run.execution.reason,
    output: test?.traceback ?? '',
  };
}
