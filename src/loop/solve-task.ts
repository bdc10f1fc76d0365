import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { UsageError } from '../core/index.js';
import {
  type ExecutionResult,
  type Executor,
  type Language,
  runTests,
  type TestRunResult,
  type TestSource,
} from '../sandbox/index.js';
import type { Task } from '../tasks/index.js';

/**
 * What the loop solves: a specification the model sees, public tests it may see, hidden tests it never sees, and how
 * the final verdict is reached. Made from a dataset task (`solveTaskFromDataset`), a user task file
 * (`parseSolveTaskFile`) or a source file plus a test command (`commandSolveTask`).
 */
export interface SolveTask {
  id: string;
  language: Language;
  /** The problem as the model is given it: a code prompt (signature and docstring) or prose. */
  prompt: string;
  /** Code a completion model continues (a dataset's code prompt); '' when the prompt is prose. */
  starter: string;
  entryPoint?: string;
  /** Shown to the model in feedback. */
  publicTests: TestSource[];
  /** Never shown to the model; run with every attempt for its record, and for the final verdict. */
  hiddenTests: TestSource[];
  stopSequences: string[];
  /** How the final verdict is reached (see `judgeSolution`). */
  judge: { kind: 'reference'; task: Task } | { kind: 'hidden-tests' } | { kind: 'command'; command: CommandSpec };
  /** Per-test time limit (ms). */
  perTestMs?: number;
}

/** `--file SRC --test-command CMD`: the candidate replaces `sourcePath`; the command's exit code is the verdict. */
export interface CommandSpec {
  /** A shell command, run with /bin/sh in the sandbox's working directory, e.g. `python3 -m pytest -q test_x.py`. */
  command: string;
  /** Where the candidate is written, relative to the working directory (the source file's name). */
  sourcePath: string;
  /** Other files in place for the command (tests, fixtures), by relative path. */
  files: Record<string, string>;
  /** Wall-clock limit of the command (ms). Default 60000. */
  wallMs?: number;
}

/** Layouts whose program is a whole solution followed by the tests, so a whole solution can replace prompt + completion. */
const SOLUTION_LAYOUTS = new Set(['human-eval', 'prompt-completion-tests', 'completion-tests']);

/**
 * The task's reference program with `solution` (the whole source: signature and body) in place of prompt + completion:
 * the rule EvalPlus applies to a `solution` field, for the layouts whose tests follow the code.
 */
export function referenceProgram(task: Task, solution: string): string {
  if (task.layout === 'human-eval') return `${solution}\n${task.tests}\ncheck(${task.entryPoint ?? ''})`;
  if (task.layout === 'prompt-completion-tests' || task.layout === 'completion-tests')
    return `${solution}\n${task.tests}`;
  throw new UsageError(
    `Task ${task.id} has layout "${task.layout}", which the solve loop cannot run: use a task whose tests follow the ` +
      `code (HumanEval, MBPP, MultiPL-E, examples).`,
  );
}

/** The dataset's reference solution as a whole program (its prompt and canonical completion), if it has one. */
export function referenceSolution(task: Task): string | undefined {
  if (task.canonicalSolution === undefined) return undefined;
  return task.layout === 'completion-tests' ? task.canonicalSolution : task.prompt + task.canonicalSolution;
}

/**
 * The examples a docstring or comment already shows (`>>> f(1)` then `2` on the next line), as tests. They are public
 * by construction: the model sees them in the prompt anyway.
 */
export function publicTestsFromPrompt(
  prompt: string,
  language: Language,
  entryPoint: string | undefined,
): TestSource[] {
  if (entryPoint === undefined || entryPoint === '') return [];
  // In JavaScript/TypeScript prompts the examples are `//` comments; a line of code ends an example.
  const comment = language === 'python' ? /^\s*/ : /^\s*\/\/\s?/;
  const lines = prompt.split('\n').map((line) => (comment.test(line) ? line.replace(comment, '') : ''));
  const tests: TestSource[] = [];
  const ends = (line: string): boolean =>
    line === '' || line.startsWith('>>>') || line.startsWith('"""') || line.startsWith("'''") || line.startsWith('*/');
  for (let index = 0; index < lines.length - 1; index++) {
    const match = /^>>>\s*(.+)$/.exec(lines[index] ?? '');
    // The expected value runs to the next blank line, example or end of docstring (it may wrap over lines).
    if (!match?.[1]) continue;
    let next = index + 1;
    let call = match[1].trim();
    // A call continued on `...` lines (doctest's continuation prompt).
    for (; next < lines.length && (lines[next] ?? '').trim().startsWith('...'); next++)
      call += ` ${(lines[next] ?? '').trim().slice(3).trim()}`;
    const parts: string[] = [];
    for (; next < lines.length && !ends((lines[next] ?? '').trim()); next++) parts.push((lines[next] ?? '').trim());
    const expected = parts.join(' ');
    if (expected === '') continue;
    if (!new RegExp(`\\b${entryPoint}\\s*\\(`).test(call)) continue;
    const code =
      language === 'python' ? `assert ${call} == ${expected}` : `assert.deepStrictEqual(${call}, ${expected});`;
    tests.push({ origin: 'public', form: 'single', idPrefix: `public/${tests.length}`, code });
  }
  return tests;
}

/** MBPP-style prose tasks show their first assert in the prompt (as the MBPP paper does): it is the public test. */
function firstAssert(tests: string): string | undefined {
  return tests.split('\n').find((line) => line.startsWith('assert '));
}

/**
 * The function an MBPP assert tests (MBPP has no entry point): the first name it calls that the reference solution
 * defines, else the first called name that is not a builtin or a module function (`math.isclose`, `set`, …).
 */
function calledFunction(assertion: string, solution: string): string | undefined {
  const called = [...assertion.matchAll(/(?<![.\w])([A-Za-z_]\w*)\s*\(/g)].map((match) => match[1] as string);
  const defined = called.find((name) => new RegExp(`^\\s*def\\s+${name}\\s*\\(`, 'm').test(solution));
  const builtins = new Set([
    'set',
    'sorted',
    'list',
    'tuple',
    'abs',
    'round',
    'str',
    'int',
    'float',
    'len',
    'dict',
    'frozenset',
    'isinstance',
    'all',
    'any',
    'sum',
    'max',
    'min',
  ]);
  return defined ?? called.find((name) => !builtins.has(name));
}

/** A dataset task as a solve task: public tests from the prompt's examples, hidden tests = the dataset's tests. */
export function solveTaskFromDataset(task: Task): SolveTask {
  if (!SOLUTION_LAYOUTS.has(task.layout)) referenceProgram(task, '');
  const prose = task.layout === 'completion-tests';
  let prompt = task.prompt;
  let publicTests = publicTestsFromPrompt(task.prompt, task.language, task.entryPoint);
  const entryPoint =
    task.entryPoint ??
    (prose ? calledFunction(firstAssert(task.tests) ?? '', task.canonicalSolution ?? '') : undefined);
  if (prose) {
    const shown = firstAssert(task.tests);
    if (shown !== undefined) {
      // The test's setup (imports, MBPP's test_setup_code) comes with it; `statements` makes it setup, not a test.
      const setup = task.tests.slice(0, task.tests.indexOf(shown));
      publicTests = [{ origin: 'public', form: 'statements', idPrefix: 'public/', code: `${setup}${shown}\n` }];
      prompt = `${task.prompt}\nYour code should pass this test:\n${shown}\n`;
    }
  }
  const form = task.layout === 'completion-tests' ? 'statements' : 'check-function';
  return {
    id: task.id,
    language: task.language,
    prompt,
    starter: prose ? '' : task.prompt,
    ...(entryPoint === undefined ? {} : { entryPoint }),
    publicTests,
    hiddenTests: [{ origin: 'hidden', form, idPrefix: 'hidden/', code: task.tests }],
    stopSequences: [...task.stopSequences],
    judge: { kind: 'reference', task },
  };
}

const LANGUAGE_NAMES: readonly Language[] = ['python', 'javascript', 'typescript'];

/** Every field a task file may have: any other is refused, so that a misspelt "hiddenTest" is not silently ignored. */
const SOLVE_TASK_FIELDS = [
  'id',
  'language',
  'prompt',
  'entryPoint',
  'starter',
  'publicTests',
  'hiddenTests',
  'perTestMs',
] as const;

/** Task files in YAML (`.yaml`, `.yml`); any other name is read as JSON. */
const YAML_EXTENSION = /\.ya?ml$/i;

/**
 * A user task file, JSON or YAML (by extension), documented in docs/solve.md:
 * `{"id", "language", "prompt", "entryPoint", "starter"?, "publicTests": [..], "hiddenTests": [..], "perTestMs"?}`,
 * each test one assertion in the task's language.
 */
export function parseSolveTaskFile(text: string, path: string): SolveTask {
  const format = YAML_EXTENSION.test(path) ? 'YAML' : 'JSON';
  let record: Record<string, unknown>;
  try {
    // YAML 1.2's core schema: `yes`/`no` stay strings, duplicate keys are an error.
    record = (format === 'YAML' ? parseYaml(text, { uniqueKeys: true }) : JSON.parse(text)) as Record<string, unknown>;
  } catch (error) {
    throw new UsageError(
      `${path} is not valid ${format} (${(error as Error).message.split('\n')[0]}); see docs/solve.md for the task file format.`,
      { cause: error },
    );
  }
  if (record === null || typeof record !== 'object' || Array.isArray(record))
    throw new UsageError(
      `${path}: a task file holds one ${format === 'YAML' ? 'YAML mapping' : 'JSON object'} (got ` +
        `${record === null ? 'nothing' : Array.isArray(record) ? 'a list' : typeof record}); see docs/solve.md.`,
    );
  const unknown = Object.keys(record).filter((key) => !(SOLVE_TASK_FIELDS as readonly string[]).includes(key));
  if (unknown.length > 0) {
    const key = unknown[0] as string;
    const near = SOLVE_TASK_FIELDS.find((field) => field.toLowerCase() === key.toLowerCase().replace(/s?$/, 's'));
    const nearer = near ?? SOLVE_TASK_FIELDS.find((field) => field.toLowerCase() === key.toLowerCase());
    throw new UsageError(
      `${path}: unknown field "${key}"${nearer === undefined ? '' : ` (did you mean "${nearer}"?)`}; the fields are ${SOLVE_TASK_FIELDS.join(', ')} (see docs/solve.md).`,
    );
  }
  const text_ = (key: string, required: boolean): string | undefined => {
    const value = record[key];
    if (value === undefined && !required) return undefined;
    if (typeof value !== 'string' || (required && value.trim() === ''))
      throw new UsageError(
        `${path}: "${key}" must be a${required ? ' non-empty' : ''} string (got ${JSON.stringify(value)}); see docs/solve.md.`,
      );
    return value;
  };
  const tests = (key: string, origin: 'public' | 'hidden'): TestSource[] => {
    const value = record[key] ?? [];
    if (!Array.isArray(value) || value.some((item) => typeof item !== 'string' || item.trim() === '')) {
      throw new UsageError(
        `${path}: "${key}" must be a list of test strings, one assertion each (got ${JSON.stringify(value).slice(0, 80)}).`,
      );
    }
    return (value as string[]).map((code, index) => ({ origin, form: 'single', idPrefix: `${origin}/${index}`, code }));
  };
  const language = text_('language', true) as Language;
  if (!LANGUAGE_NAMES.includes(language))
    throw new UsageError(
      `${path}: "language" is ${JSON.stringify(language)}; use one of ${LANGUAGE_NAMES.join(', ')}.`,
    );
  const hiddenTests = tests('hiddenTests', 'hidden');
  if (hiddenTests.length === 0)
    throw new UsageError(
      `${path}: "hiddenTests" is empty; the final verdict needs at least one hidden test (the model never sees them).`,
    );
  const perTestMs = record.perTestMs;
  if (
    perTestMs !== undefined &&
    (typeof perTestMs !== 'number' || !Number.isInteger(perTestMs) || perTestMs < 10 || perTestMs > 600_000)
  ) {
    throw new UsageError(
      `${path}: "perTestMs" is ${JSON.stringify(perTestMs)}; use a whole number of milliseconds from 10 to 600000.`,
    );
  }
  const entryPoint = text_('entryPoint', false);
  return {
    id: text_('id', false) ?? basename(path).replace(/\.(json|ya?ml)$/i, ''),
    language,
    prompt: text_('prompt', true) ?? '',
    starter: text_('starter', false) ?? '',
    ...(entryPoint === undefined ? {} : { entryPoint }),
    publicTests: tests('publicTests', 'public'),
    hiddenTests,
    stopSequences: [],
    judge: { kind: 'hidden-tests' },
    ...(perTestMs === undefined ? {} : { perTestMs: perTestMs as number }),
  };
}

export function loadSolveTaskFile(path: string): SolveTask {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(
      `cannot read task file ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); give a ` +
        `dataset task (examples/ID) or a task file path.`,
      { cause: error },
    );
  }
  return parseSolveTaskFile(text, path);
}

/** `--file SRC --test-command CMD` as a solve task: the model sees the source and the command's output. */
export function commandSolveTask(options: {
  source: string;
  sourcePath: string;
  language: Language;
  command: string;
  files: Record<string, string>;
  instructions?: string;
  wallMs?: number;
}): SolveTask {
  const { source, sourcePath, language, command, files, instructions, wallMs } = options;
  return {
    id: sourcePath,
    language,
    prompt: `${instructions ?? `Make the test command \`${command}\` pass by changing ${sourcePath}.`}\nThe current ${sourcePath}:\n${source}`,
    starter: '',
    publicTests: [],
    hiddenTests: [],
    stopSequences: [],
    judge: { kind: 'command', command: { command, sourcePath, files, ...(wallMs === undefined ? {} : { wallMs }) } },
  };
}

/** The final verdict of one solution. */
export interface Judgement {
  passed: boolean;
  /** The sandbox broke: no verdict (retry). */
  infraError: boolean;
  /** How it was judged: the dataset's reference harness, the task file's hidden tests, or the test command. */
  by: 'reference' | 'hidden-tests' | 'command';
  verdict: ExecutionResult['verdict'];
  reason: string;
  /** Output tail of the reference program or command (never shown to the model for hidden tests). */
  outputTail?: string;
}

const OUTPUT_TAIL = 4_000;

/** Runs a test command in the sandbox with the candidate in place; the command's exit code decides. */
export async function runCommand(
  executor: Executor,
  spec: CommandSpec,
  solution: string,
  signal?: AbortSignal,
): Promise<ExecutionResult> {
  // A Python wrapper runs the shell command: the sandbox runs programs, and /bin/sh is inside it.
  const wrapper = `import subprocess, sys\nsys.exit(subprocess.run(${JSON.stringify(spec.command)}, shell=True).returncode)\n`;
  return executor.run(
    {
      language: 'python',
      code: wrapper,
      files: { ...spec.files, [spec.sourcePath]: solution },
      limits: { wallMs: spec.wallMs ?? 60_000 },
      harness: 'exit-code',
    },
    signal === undefined ? {} : { signal },
  );
}

/**
 * The final verdict of `solution` on `task`, from tests the model never saw: the dataset's own harness (its program
 * layout, time limit, type-check and success rule), the task file's hidden tests, or the test command.
 */
export async function judgeSolution(
  executor: Executor,
  task: SolveTask,
  solution: string,
  options: { signal?: AbortSignal; hiddenRun?: TestRunResult } = {},
): Promise<Judgement> {
  const { signal } = options;
  const run = signal === undefined ? {} : { signal };
  if (task.judge.kind === 'reference') {
    const reference = task.judge.task;
    const result = await executor.run(
      {
        language: reference.language,
        code: referenceProgram(reference, solution),
        ...(reference.limits ? { limits: reference.limits } : {}),
        ...(reference.typeCheck ? { typeCheck: true } : {}),
        harness: reference.harness,
      },
      run,
    );
    return {
      passed: result.verdict === 'passed',
      infraError: result.verdict === 'infra-error',
      by: 'reference',
      verdict: result.verdict,
      reason: result.reason,
      outputTail: tail(result),
    };
  }
  if (task.judge.kind === 'command') {
    const result = await runCommand(executor, task.judge.command, solution, signal);
    return {
      passed: result.verdict === 'passed',
      infraError: result.verdict === 'infra-error',
      by: 'command',
      verdict: result.verdict,
      reason: result.reason,
      outputTail: tail(result),
    };
  }
  const hidden =
    options.hiddenRun ??
    (await runTests(executor, {
      language: task.language,
      solution,
      sources: task.hiddenTests,
      ...(task.entryPoint ? { entryPoint: task.entryPoint } : {}),
      ...(task.perTestMs ? { perTestMs: task.perTestMs } : {}),
      ...run,
    }));
  const hiddenResults = hidden.tests.filter((test) => test.origin === 'hidden');
  const failed = hiddenResults.filter((test) => test.status !== 'passed');
  return {
    passed: !hidden.infraError && hiddenResults.length > 0 && failed.length === 0,
    infraError: hidden.infraError,
    by: 'hidden-tests',
    verdict: hidden.infraError ? 'infra-error' : failed.length === 0 ? 'passed' : 'failed',
    reason: hidden.infraError
      ? hidden.execution.reason
      : `${hiddenResults.length - failed.length}/${hiddenResults.length} hidden tests passed`,
  };
}

function tail(result: ExecutionResult): string {
  return `${result.stdout}${result.stderr}`.slice(-OUTPUT_TAIL);
}

/**
 * Drops the public tests that the task's own reference solution fails: examples in a prompt can be wrong (HumanEval/47's
 * docstring says 15.0 where the answer is 8.0), and feedback from a wrong test would steer the model away from a
 * right program. Only dataset tasks with a canonical solution are checked; nothing of it reaches the model.
 */
export async function checkedPublicTests(
  executor: Executor,
  task: SolveTask,
  perTestMs: number,
  signal: AbortSignal | undefined,
  warnings: Set<string>,
): Promise<TestSource[]> {
  const solution = task.judge.kind === 'reference' ? referenceSolution(task.judge.task) : undefined;
  if (solution === undefined || task.publicTests.length === 0) return task.publicTests;
  const run = await runTests(executor, {
    language: task.language,
    solution,
    sources: task.publicTests,
    ...(task.entryPoint ? { entryPoint: task.entryPoint } : {}),
    perTestMs,
    ...(signal ? { signal } : {}),
  });
  if (run.infraError) return task.publicTests;
  return task.publicTests.filter((source) => {
    const results = run.tests.filter((test) =>
      source.form === 'single' ? test.id === source.idPrefix : test.id.startsWith(source.idPrefix),
    );
    const wrong = results.find((test) => test.status !== 'passed');
    if (wrong)
      warnings.add(
        `public test ${JSON.stringify(wrong.assertion)} is not used: the task's reference solution fails it (${wrong.status}${wrong.actual !== undefined ? `, it returns ${wrong.actual}` : ''})`,
      );
    return wrong === undefined;
  });
}
