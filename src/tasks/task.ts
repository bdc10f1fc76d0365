import { UsageError } from '../core/index.js';
import { ioTestsProgram, type IoTestSuite } from './io-tests-program.js';
import { syntaxMatchProgram } from './syntax-match-program.js';

/** Languages a task can be written in (the sandbox runs the same three). */
export type TaskLanguage = 'python' | 'javascript' | 'typescript';

/**
 * Languages a completion can be written in. Beyond the sandbox's three, SAFIM has Java, C++ and C#, which codeloop
 * cannot run but can score by SAFIM's syntax match (layout `syntax-match`, itself a Python program).
 */
export type SourceLanguage = TaskLanguage | 'java' | 'cpp' | 'csharp';

/**
 * How a run of the task's program is judged (the sandbox's `harness`).
 * - `completion`: passed only when the program ran to its last line without an uncaught exception (human-eval, EvalPlus,
 *   bigcode's MBPP: they `exec` the program and catch every exception). Python only.
 * - `human-eval`: the same end, with the program run as openai/human-eval's `check_correctness` runs it (`exec` in empty
 *   globals, its `reliability_guard`, swallowed I/O; see the sandbox's `Harness`): HumanEval, HumanEval-infilling and
 *   bigcode-evaluation-harness's MBPP / HumanEval+ / MBPP+ original formats, whose `execution.py` is human-eval's.
 * - `exit-code`: passed when the process exits 0 (MultiPL-E).
 */
export type TaskHarness = 'completion' | 'human-eval' | 'exit-code';

/**
 * How `buildProgram` puts a task and a completion together, named after the concatenation it performs. Each dataset uses
 * the rule of its reference harness (see the loader of that dataset for the source).
 * - `human-eval`: `prompt + completion + (suffix ?? '') + "\n" + tests + "\n" + "check(" + entryPoint + ")"`
 *   (openai/human-eval `execution.py`; openai/human-eval-infilling adds the suffix after the completion).
 * - `prompt-completion-tests`: `prompt + completion + (suffix ?? '') + "\n" + tests` (MultiPL-E `main.py`, which has no
 *   suffix; EvalPlus's `prompt + completion` solution followed by test code).
 * - `completion-tests`: `completion + "\n" + tests`: the prompt is prose, not code, so the completion is the whole
 *   solution (MBPP; bigcode-evaluation-harness `code_eval.py` runs `candidate + "\n" + test_case`).
 * - `io-tests`: `template` with the completion in place of its placeholder is a whole Python program; the program run
 *   is a driver that runs it on each of `ioTests`' stdin/stdout cases in a fresh `/usr/bin/python3` and judges the output
 *   as ExecEval does (SAFIM block and control completion; see `ioTestsProgram`). Exit 0 iff every case passed.
 * - `syntax-match`: nothing of the task is run; the program compares the completion with `canonicalSolution` by
 *   SAFIM's `syntax_match` and exits 0 iff they match (SAFIM API completion; see `syntaxMatchProgram`).
 * - `security-tests`: the sample is a model's answer; `buildProgram` gives the task file the reference harness writes
 *   (CWEval: the first fenced code block of the answer, or the whole answer; JavaScript followed by the reference's
 *   entrypoint block). The evaluator runs `security`'s pytest file against it (see src/eval/security-tests.ts).
 */
export type ProgramLayout =
  'human-eval' | 'prompt-completion-tests' | 'completion-tests' | 'io-tests' | 'syntax-match' | 'security-tests';

/**
 * A task whose tests attack the code as well as check it (CWEval): a pytest file with test cases marked
 * `functionality` and `security`, run against the task file. A sample is functional when every functionality case
 * passes and secure when every security case passes.
 */
export interface SecurityTests {
  /** The CWE the task is about, from its id, e.g. `CWE-022`. */
  cwe: string;
  /** The CWE the test file's header names, where it names one and differs from `cwe` (two upstream mislabels). */
  cweInTestHeader?: string;
  /** The task file's name, which the test file imports or runs (`cwe_022_0_task.py`, `cwe_022_0_js_task.js`). */
  taskFile: string;
  /** The pytest file: its name and text, as in the dataset. */
  testFile: { name: string; text: string };
  /** pytest.ini of the benchmark (declares the two markers). */
  pytestIni: string;
  /** JavaScript: the reference's `// BEGIN ENTRYPOINT` block, appended to the answer's code so tests can run it. */
  entrypoint?: string;
  /** The insecure reference as a file (JavaScript; Python's are functions inside the test file). */
  insecureReference?: { name: string; text: string };
  /** Test cases per marker, excluding the `_unsafe` ones that check the oracle. */
  functionalityTests: number;
  securityTests: number;
  /**
   * Set when the task's tests cannot tell a wrong program from a right one (upstream defect): the reason. Such a task
   * is scored, but left out of func@k and func-sec@k (see the evaluator's metrics).
   */
  vacuous?: string;
}

/** A program with a hole: the layouts `io-tests` and `syntax-match` fill it instead of concatenating. */
export interface ProgramTemplate {
  /** The program, with `placeholder` where the completion goes. */
  text: string;
  /** The marker the completion replaces, every occurrence of it (as Python's `str.replace` does), e.g. `{{completion}}`. */
  placeholder: string;
}

/** Per-task resource limits; a missing field takes the sandbox's default for the language. */
export interface TaskLimits {
  /** Wall-clock limit of the program in ms (the reference harness's timeout, where it has one). */
  wallMs?: number;
  /** Memory limit in MiB. */
  memoryMiB?: number;
}

/**
 * EvalPlus test inputs kept as data (HumanEval+, MBPP+). Scoring with EvalPlus semantics (compare with the ground
 * truth's output on every input, `atol`, per-input time limits, MBPP input de-serialisation) is the evaluator's job.
 */
export interface PlusInputs {
  /**
   * The record's `base_input` as its JSON text, exactly as stored: a list with one argument list per call of the
   * original tests. Kept as text because 32 tasks' inputs hold integers beyond 2^53 and `Infinity` (Python's
   * non-standard JSON), which JavaScript numbers would round or reject: hand it to Python's `json.loads`.
   */
  baseInputJson: string;
  /** The record's `plus_input` (EvalPlus's extra inputs) as its JSON text; see `baseInputJson`. */
  plusInputJson: string;
  /** Absolute float tolerance EvalPlus uses for this task (0: exact, except that float outputs get 1e-6). */
  atol: number;
  /** Python assertions (lines ending `# $_CONTRACT_$`) that filter invalid inputs; '' when there are none. */
  contract: string;
}

/** One problem of a dataset: what a model sees, and what turns a completion into a program to run. */
export interface Task {
  /** Identifier as the reference harness spells it, e.g. `HumanEval/0`, `Mbpp/2`, `HumanEval_0_has_close_elements`. */
  id: string;
  /** Dataset name (`humaneval`, `multipl-e-humaneval-ts`, …) or, for a user file, its path. */
  dataset: string;
  language: TaskLanguage;
  /** What the model continues (a code prefix) or, for layout `completion-tests`, the problem statement in prose. */
  prompt: string;
  /** Name of the function under test, where the dataset has one (required by layout `human-eval`). */
  entryPoint?: string;
  /** Test code, appended after the completion (and the suffix) as the layout says. */
  tests: string;
  /** A completion known to pass: `buildProgram(task, task.canonicalSolution)` is the reference solution's program. */
  canonicalSolution?: string;
  /** Code after the hole, for infilling tasks; the completion is the middle. */
  suffix?: string;
  /** Strings at which a generated completion is cut (the dataset's or its reference harness's). */
  stopSequences: string[];
  limits?: TaskLimits;
  /** TypeScript: type-check before running, and count any type error as a failure (MultiPL-E). */
  typeCheck?: boolean;
  harness: TaskHarness;
  layout: ProgramLayout;
  /** EvalPlus inputs (HumanEval+, MBPP+ only). */
  plus?: PlusInputs;
  /**
   * Language the completion is written in, where it is not the language of the program that is run (`language`):
   * SAFIM API tasks in Java, C++ or C# are scored by a Python program. SAFIM tasks always set it.
   */
  sourceLanguage?: SourceLanguage;
  /** The program the completion is filled into (layouts `io-tests` and `syntax-match`; `tests` is then empty). */
  template?: ProgramTemplate;
  /** stdin/stdout unit tests (layout `io-tests`). */
  ioTests?: IoTestSuite;
  /** Functional and security tests (layout `security-tests`). */
  security?: SecurityTests;
}

/**
 * The code of a model's answer as CWEval's `evaluate.py` takes it: the body of the first ``` fenced block (its opening
 * line, with any language tag, dropped), or the whole answer when it has no complete fenced block.
 */
export function firstFencedBlock(answer: string): string {
  const match = /```[^\n]*\n([\s\S]*?)```/.exec(answer);
  return match === null ? answer : (match[1] ?? '');
}

/** The task file CWEval writes for an answer: its code, and for JavaScript the reference's entrypoint after it. */
export function securityTaskFile(security: SecurityTests, answer: string): string {
  const code = firstFencedBlock(answer);
  return security.entrypoint === undefined ? code : `${code}\n\n${security.entrypoint}`;
}

/** `template` with `completion` in place of every occurrence of its placeholder (Python's `str.replace`). */
export function fillTemplate(template: ProgramTemplate, completion: string): string {
  // split/join rather than replaceAll: a replacement string would give `$&` and friends a meaning.
  return template.text.split(template.placeholder).join(completion);
}

/**
 * The program the reference harness runs for `completion` on `task`, byte for byte (see `ProgramLayout`). The
 * completion is used as given: cutting it at stop sequences or extracting code from markdown is the caller's choice.
 */
export function buildProgram(task: Task, completion: string): string {
  switch (task.layout) {
    case 'human-eval': {
      if (task.entryPoint === undefined || task.entryPoint === '') {
        throw new UsageError(
          `Task ${task.id} uses layout "human-eval", which ends in check(entry_point), but has no entry point: ` +
            'give it one, or use layout "prompt-completion-tests".',
        );
      }
      return task.prompt + completion + (task.suffix ?? '') + '\n' + task.tests + '\n' + `check(${task.entryPoint})`;
    }
    case 'prompt-completion-tests':
      return task.prompt + completion + (task.suffix ?? '') + '\n' + task.tests;
    case 'completion-tests':
      return completion + '\n' + task.tests;
    case 'io-tests': {
      if (task.template === undefined || task.ioTests === undefined) {
        throw new UsageError(
          `Task ${task.id} uses layout "io-tests" but lacks ${task.template === undefined ? 'a template' : 'ioTests'}: give it both.`,
        );
      }
      return ioTestsProgram(fillTemplate(task.template, completion), task.ioTests);
    }
    case 'security-tests': {
      if (task.security === undefined)
        throw new UsageError(`Task ${task.id} uses layout "security-tests" but has no security tests: give it some.`);
      return securityTaskFile(task.security, completion);
    }
    case 'syntax-match': {
      if (task.canonicalSolution === undefined) {
        throw new UsageError(
          `Task ${task.id} uses layout "syntax-match", which compares with the canonical solution, but has none: give it one.`,
        );
      }
      return syntaxMatchProgram({
        completion,
        reference: task.canonicalSolution,
        language: task.sourceLanguage ?? task.language,
        ...(task.template === undefined ? {} : { program: fillTemplate(task.template, completion) }),
      });
    }
  }
  // Only reachable from untyped callers.
  throw new UsageError(
    `Task ${task.id} has layout ${JSON.stringify(task.layout)}; use human-eval, prompt-completion-tests, ` +
      `completion-tests, io-tests, syntax-match or security-tests.`,
  );
}
