import { UsageError } from '../core/index.js';
import type { TestResult, TestRunResult } from '../sandbox/index.js';

/**
 * Feedback templates: pure functions from typed test results to the text a model is shown after a failed attempt.
 * Each has a versioned id (`name@version`), recorded on every attempt, so that templates can be compared on the same
 * tasks; a template's output never changes within a version (golden tests in feedback.test.ts). Hidden tests are
 * dropped here whatever the caller passes: they must never reach a model.
 *
 * The styles follow the feedback of published self-repair methods (named with each), in codeloop's own words:
 * - `self-debug-unit-test@1`: one paragraph per failing test, saying what the call returned against the assertion
 *   (Self-Debugging's unit-test feedback).
 * - `reflexion@1`: the passing and the failing tests as two lists, each failure annotated with the value or exception
 *   it produced (Reflexion's test report; Reflexion adds a self-reflection step, which is not part of the template).
 * - `alphacodium-io@1`: one block per failing test with the test, the expected and the actual output (AlphaCodium).
 * - `alphacodium-io@2`: the same blocks, then the tail of what the program wrote to stderr (its own prints, warnings,
 *   a crash's last words), which @1 leaves out.
 * - `plain@1`: only that the program is wrong (Self-Debugging's "simple" feedback, a baseline).
 * - `command-output@1`: the test command and the tail of its output (aider's test-command feedback).
 */

export interface FeedbackInput {
  /**
   * The attempt's test results; hidden ones are removed before rendering. `stderrTail`: the end of what the program
   * wrote to stderr in the execution of its VISIBLE tests (never the hidden run's: it could print a hidden test).
   */
  run: Pick<TestRunResult, 'tests' | 'solution'> & { stderrTail?: string };
  /** At most this many failing tests are described (the first ones). Default 5. */
  maxFailures?: number;
  /** For `command-output@1`: the command, how it ended, and its output tail. */
  command?: { command: string; reason: string; output: string };
}

/** What a template renders from: per-test results (dataset and task-file tasks) or a test command's output. */
export type FeedbackMode = 'tests' | 'command';

export interface FeedbackTemplate {
  id: string;
  summary: string;
  /** The task kinds whose results it can describe. */
  modes: readonly FeedbackMode[];
  render(input: FeedbackInput): string;
}

const DEFAULT_MAX_FAILURES = 5;

function visible(input: FeedbackInput): { passed: TestResult[]; failing: TestResult[]; omitted: number } {
  const shown = input.run.tests.filter((test) => test.origin !== 'hidden' && test.status !== 'infra-error');
  const failing = shown.filter((test) => test.status !== 'passed');
  const limit = input.maxFailures ?? DEFAULT_MAX_FAILURES;
  return {
    passed: shown.filter((test) => test.status === 'passed'),
    failing: failing.slice(0, limit),
    omitted: Math.max(0, failing.length - limit),
  };
}

/** What a failing test produced, in a few words: the value, or the exception, or how it ended. */
function outcome(test: TestResult): string {
  if (test.status === 'timed-out') return 'it did not finish within the time limit';
  if (test.status === 'memory-exceeded') return 'it ran out of memory';
  if (test.status === 'not-run') return 'the program ended before this test ran';
  if (test.status === 'compile-error') return `the program does not compile: ${test.exception?.message ?? ''}`.trim();
  if (test.actual !== undefined && test.status === 'failed') return `it returned ${test.actual}`;
  if (test.exception)
    return `it raised ${test.exception.type}${test.exception.message ? `: ${test.exception.message}` : ''}`;
  return 'the assertion failed';
}

/** A solution that fails before any test (syntax error, exception at import) is described on its own. */
function solutionProblem(input: FeedbackInput): string | undefined {
  const { solution } = input.run;
  if (solution.status === 'passed' || solution.status === 'infra-error') return undefined;
  const what =
    solution.status === 'compile-error'
      ? 'does not compile'
      : solution.status === 'timed-out'
        ? 'does not finish loading within the time limit'
        : 'fails when it is loaded';
  const detail = solution.exception ? `${solution.exception.type}: ${solution.exception.message}` : '';
  return `The program ${what}${detail ? ` (${detail})` : ''}.${solution.traceback ? `\n${solution.traceback.trim()}` : ''}`;
}

const selfDebugUnitTest: FeedbackTemplate = {
  id: 'self-debug-unit-test@1',
  modes: ['tests'],
  summary: 'one paragraph per failing test: what the call gave against the assertion',
  render(input) {
    const problem = solutionProblem(input);
    if (problem) return `${problem}\nPlease fix the program.`;
    const { failing, omitted } = visible(input);
    if (failing.length === 0) return 'The program passes every test it was given.';
    const paragraphs = failing.map((test) => {
      const expected =
        test.expected !== undefined && test.status === 'failed' ? `, but ${test.expected} was expected` : '';
      return `Feedback: running the assertion \`${test.assertion}\` against the program above, ${outcome(test)}${expected}. So the program does not pass this test.`;
    });
    if (omitted > 0) paragraphs.push(`(${omitted} more failing tests not shown.)`);
    return `${paragraphs.join('\n')}\nPlease fix the program.`;
  },
};

const reflexion: FeedbackTemplate = {
  id: 'reflexion@1',
  modes: ['tests'],
  summary: 'passed and failed tests as two lists, failures annotated with their output',
  render(input) {
    const problem = solutionProblem(input);
    const { passed, failing, omitted } = visible(input);
    const lines = [
      'Tests passed:',
      ...(passed.length > 0 ? passed.map((test) => test.assertion) : ['(none)']),
      '',
      'Tests failed:',
    ];
    if (problem) lines.push(problem);
    else
      lines.push(
        ...(failing.length > 0
          ? failing.map(
              (test) =>
                `${test.assertion} # output: ` +
                `${test.status === 'failed' && test.actual !== undefined ? test.actual : (test.exception?.type ?? test.status)}`,
            )
          : ['(none)']),
      );
    if (omitted > 0) lines.push(`(${omitted} more not shown)`);
    return lines.join('\n');
  },
};

function alphaCodiumBlocks(input: FeedbackInput, problem: string | undefined): string {
  if (problem) return `${problem}\nFix the program so that it runs.`;
  const { failing, omitted } = visible(input);
  if (failing.length === 0) return 'All tests passed.';
  const blocks = failing.map((test) =>
    [
      'Test:',
      test.assertion,
      'Expected output:',
      test.expected ?? '(the assertion holds)',
      'Program output:',
      test.status === 'failed' && test.actual !== undefined ? test.actual : outcome(test),
      ...(test.traceback ? ['Traceback tail:', test.traceback.trim()] : []),
    ].join('\n'),
  );
  if (omitted > 0) blocks.push(`(${omitted} more failing tests not shown.)`);
  return `The program failed ${failing.length + omitted} test${failing.length + omitted === 1 ? '' : 's'}.\n\n${blocks.join('\n\n')}\n\nFix the program so that it passes these tests.`;
}

const alphaCodiumIo: FeedbackTemplate = {
  id: 'alphacodium-io@1',
  modes: ['tests'],
  summary: 'one block per failing test: the test, the expected output, the program output',
  render(input) {
    return alphaCodiumBlocks(input, solutionProblem(input));
  },
};

/** Most stderr characters `alphacodium-io@2` shows (the end of it). */
const FEEDBACK_STDERR = 1_000;

const alphaCodiumIoStderr: FeedbackTemplate = {
  id: 'alphacodium-io@2',
  modes: ['tests'],
  summary: 'alphacodium-io@1, then the tail of what the program wrote to stderr',
  render(input) {
    const text = alphaCodiumBlocks(input, solutionProblem(input));
    const stderr = (input.run.stderrTail ?? '').trimEnd().slice(-FEEDBACK_STDERR);
    return stderr === '' ? text : `${text}\n\nThe program wrote this to stderr (the end of it):\n${stderr}`;
  },
};

const plain: FeedbackTemplate = {
  id: 'plain@1',
  modes: ['tests', 'command'],
  summary: 'only that the program is wrong (a baseline)',
  render() {
    return 'The program above is wrong. Please fix it.';
  },
};

const commandOutput: FeedbackTemplate = {
  id: 'command-output@1',
  modes: ['command'],
  summary: 'the test command and the tail of its output',
  render(input) {
    if (input.command === undefined) return 'The tests failed. Please fix the program.';
    const { command, reason, output } = input.command;
    return `I ran the tests with \`${command}\`; it ${reason}. Its output ends with:\n\n${output.trimEnd()}\n\nThe tests are right; change the program, not the tests.`;
  },
};

export const FEEDBACK_TEMPLATES: Readonly<Record<string, FeedbackTemplate>> = Object.fromEntries(
  [selfDebugUnitTest, reflexion, alphaCodiumIo, alphaCodiumIoStderr, plain, commandOutput].map((template) => [
    template.id,
    template,
  ]),
);

export const DEFAULT_FEEDBACK_TEMPLATE = 'self-debug-unit-test@1';

export function feedbackTemplate(id: string): FeedbackTemplate {
  const template = FEEDBACK_TEMPLATES[id];
  if (template === undefined)
    throw new UsageError(
      `Unknown feedback template ${JSON.stringify(id)}: use one of ${Object.keys(FEEDBACK_TEMPLATES).join(', ')}.`,
    );
  return template;
}

/**
 * The template `id`, checked against the task's kind: `command-output@1` has nothing to show for per-test results, and
 * the unit-test templates nothing for a test command (they would render "passes every test" or an empty list).
 */
export function feedbackTemplateFor(id: string, mode: FeedbackMode): FeedbackTemplate {
  const template = feedbackTemplate(id);
  if (!template.modes.includes(mode)) {
    const fitting = Object.values(FEEDBACK_TEMPLATES)
      .filter((candidate) => candidate.modes.includes(mode))
      .map((candidate) => candidate.id);
    const what =
      mode === 'command'
        ? 'a test-command task (--file with --test-command)'
        : 'a task with per-test results (a dataset task or a task file)';
    throw new UsageError(
      `Feedback template ${JSON.stringify(id)} does not fit ${what}: use one of ${fitting.join(', ')} (--feedback).`,
    );
  }
  return template;
}

/** Renders feedback with the template `id`; returns the id with the text, as an attempt records it. */
export function renderFeedback(id: string, input: FeedbackInput): { templateId: string; text: string } {
  return { templateId: id, text: feedbackTemplate(id).render(input) };
}
