import { CodeloopError } from '../core/index.js';
import type { Language, TestForm, TestSource } from '../sandbox/index.js';
import type { Task } from '../tasks/index.js';
import type { FunctionTestsRow, NormalizedRow, StdioRow } from './types.js';

/** A row whose shape names no known format, or a field of the wrong type; the message names the field. */
export class RowError extends CodeloopError {
  constructor(message: string) {
    super('invalid-row', message);
    this.name = 'RowError';
  }
}

const LANGUAGE_NAMES: Record<string, Language> = {
  python: 'python',
  py: 'python',
  python3: 'python',
  javascript: 'javascript',
  js: 'javascript',
  nodejs: 'javascript',
  typescript: 'typescript',
  ts: 'typescript',
};

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function languageOf(value: unknown, field: string): Language {
  if (value === undefined || value === null) return 'python';
  const language = typeof value === 'string' ? LANGUAGE_NAMES[value.toLowerCase()] : undefined;
  if (language === undefined)
    throw new RowError(
      `${field} ${JSON.stringify(value)} is not a language codeloop runs: use python, javascript or typescript.`,
    );
  return language;
}

/** A field that may hold JSON text (verl and Open-R1 datasets store it either way). */
function objectField(value: unknown, field: string): Json {
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch (error) {
      throw new RowError(`${field} is a string but not JSON (${(error as Error).message}).`);
    }
  }
  if (!isObject(value)) throw new RowError(`${field} must be an object (or its JSON text).`);
  return value;
}

function stringList(value: unknown, field: string): string[] {
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string'))
    throw new RowError(`${field} must be a list of strings.`);
  return value as string[];
}

function text(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new RowError(`${field} must be a string.`);
  return value;
}

function base(format: NormalizedRow['format'], language: Language) {
  return { format, language, prompt: '', entryPoint: '', typeCheck: language === 'typescript' };
}

function openR1(info: Json, field: string): StdioRow {
  const language = languageOf(info['language'], `${field}.language`);
  const cases = info['test_cases'];
  if (!Array.isArray(cases)) throw new RowError(`${field}.test_cases must be a list of {input, output}.`);
  return {
    ...base('open-r1', language),
    kind: 'stdio',
    cases: cases.map((testCase: unknown, index) => {
      if (!isObject(testCase)) throw new RowError(`${field}.test_cases[${index}] must be an object {input, output}.`);
      return {
        input: text(testCase['input'] ?? '', `${field}.test_cases[${index}].input`),
        outputs: [text(testCase['output'], `${field}.test_cases[${index}].output`)],
      };
    }),
  };
}

function verl(truth: Json, field: string, languageValue: unknown): NormalizedRow {
  const language = languageOf(languageValue, 'language');
  if ('assert_case' in truth) {
    const asserts = stringList(truth['assert_case'], `${field}.assert_case`);
    return functionTests('verl', language, '', '', asserts.join('\n'), 'statements');
  }
  const inputs = truth['inputs'];
  const outputs = truth['outputs'];
  if (!Array.isArray(inputs) || !Array.isArray(outputs) || inputs.length !== outputs.length)
    throw new RowError(`${field} must have "inputs" and "outputs", lists of the same length (or "assert_case").`);
  const fnName = truth['fn_name'];
  if (fnName !== undefined && fnName !== null && fnName !== '') {
    const name = text(fnName, `${field}.fn_name`);
    return {
      ...base('verl', language),
      entryPoint: name,
      kind: 'calls',
      cases: inputs.map((args, index) => ({ args: Array.isArray(args) ? args : [args], expected: outputs[index] })),
    };
  }
  return {
    ...base('verl', language),
    kind: 'stdio',
    cases: inputs.map((input, index) => ({
      input: text(input, `${field}.inputs[${index}]`),
      outputs: [text(outputs[index], `${field}.outputs[${index}]`)],
    })),
  };
}

/** The form of a test source, from its code: a check function (HumanEval, MultiPL-E) or loose statements (MBPP). */
function formOf(code: string, language: Language): TestForm {
  if (language === 'python') return /^def\s+check\s*\(/m.test(code) ? 'check-function' : 'statements';
  return /^\s*function\s+(?:test|check)\s*\(/m.test(code) ? 'check-function' : 'statements';
}

/** Calls that wrap the function under test in an assert (`assert set(f(x)) == ...`), not the function itself. */
const WRAPPERS = new Set(
  'assert set sorted list tuple abs round len str int float frozenset dict bool any all isinstance type max min print math deepEqual deepStrictEqual strictEqual equal ok'.split(
    ' ',
  ),
);

/** MBPP-style rows name their function only in the tests: the first call on the first assert line that no wrapper is. */
function calledInFirstAssert(code: string): string {
  const line = code.split('\n').find((text) => /\bassert\b/.test(text)) ?? '';
  for (const match of line.matchAll(/(?<![\w$.])([A-Za-z_$][\w$]*)\s*\(/g))
    if (!WRAPPERS.has(match[1]!)) return match[1]!;
  return '';
}

function functionTests(
  format: NormalizedRow['format'],
  language: Language,
  prompt: string,
  entryPoint: string,
  code: string,
  form: TestForm = formOf(code, language),
): FunctionTestsRow {
  // MultiPL-E names the function only inside its tests (`let candidate = has_close_elements;`), MBPP in its asserts.
  const named =
    entryPoint || (/\bcandidate\s*=\s*([A-Za-z_$][\w$]*)\s*;?/.exec(code)?.[1] ?? '') || calledInFirstAssert(code);
  const sources: TestSource[] = [{ origin: 'hidden', code, form, idPrefix: 'test/' }];
  return { ...base(format, language), prompt, entryPoint: named, kind: 'function-tests', sources };
}

function fromTask(task: Json): NormalizedRow {
  const language = languageOf(task['language'], 'task.language');
  const typed = task as unknown as Task;
  const typeCheck = typed.typeCheck ?? language === 'typescript';
  switch (typed.layout) {
    case 'human-eval':
    case 'prompt-completion-tests':
      return {
        ...functionTests(
          'codeloop-task',
          language,
          text(typed.prompt, 'task.prompt'),
          typed.entryPoint ?? '',
          text(typed.tests, 'task.tests'),
        ),
        typeCheck,
      };
    case 'completion-tests':
      return {
        ...functionTests('codeloop-task', language, '', typed.entryPoint ?? '', text(typed.tests, 'task.tests')),
        typeCheck,
      };
    case 'io-tests':
      if (typed.template !== undefined)
        throw new RowError(
          'task.template: io-tests tasks with a program template are not supported by rewards; give the tests as an Open-R1 row.',
        );
      return { ...base('codeloop-task', language), kind: 'stdio', cases: typed.ioTests?.cases ?? [], typeCheck };
    default:
      throw new RowError(
        `task.layout ${JSON.stringify(typed.layout)} cannot be scored for rewards: use a task with layout ` +
          `human-eval, prompt-completion-tests, completion-tests or io-tests.`,
      );
  }
}

/**
 * Detects a row's format by its shape (docs/rewards.md, "Row formats") and returns what to run. Throws RowError naming
 * the field when the row matches no format or a field has the wrong type.
 */
export function normalizeRow(row: unknown): NormalizedRow {
  if (!isObject(row)) throw new RowError('a row must be a JSON object.');
  if ('task' in row) return fromTask(objectField(row['task'], 'task'));
  if ('verification_info' in row)
    return openR1(objectField(row['verification_info'], 'verification_info'), 'verification_info');
  if ('test_cases' in row) return openR1(row, 'row');
  const rewardModel = isObject(row['reward_model']) ? row['reward_model'] : undefined;
  const truth = row['ground_truth'] ?? rewardModel?.['ground_truth'];
  const extraInfo = isObject(row['extra_info']) ? row['extra_info'] : undefined;
  if (truth !== undefined)
    return verl(objectField(truth, 'ground_truth'), 'ground_truth', row['language'] ?? extraInfo?.['language']);
  if ('assert_case' in row || ('inputs' in row && 'outputs' in row)) return verl(row, 'row', row['language']);
  if ('test_list' in row) {
    const language = languageOf(row['language'], 'language');
    const imports = row['test_imports'] === undefined ? [] : stringList(row['test_imports'], 'test_imports');
    const tests = stringList(row['test_list'], 'test_list');
    const entry = typeof row['entry_point'] === 'string' ? row['entry_point'] : '';
    return functionTests('mbpp', language, '', entry, [...imports, ...tests].join('\n'), 'statements');
  }
  const tests = row['test'] ?? row['tests'];
  if (tests !== undefined) {
    const language = languageOf(row['language'], 'language');
    const prompt = row['prompt'] === undefined ? '' : text(row['prompt'], 'prompt');
    const entry = row['entry_point'] === undefined ? '' : text(row['entry_point'], 'entry_point');
    return functionTests(
      'function-tests',
      language,
      prompt,
      entry,
      text(tests, row['test'] !== undefined ? 'test' : 'tests'),
    );
  }
  throw new RowError(
    `the row has none of the fields that name a format (keys: ${Object.keys(row).slice(0, 10).join(', ') || 'none'}): ` +
      'give verification_info (Open-R1), ground_truth (verl), prompt + test + entry_point (HumanEval style), ' +
      'test_list (MBPP) or task (a codeloop task). See docs/rewards.md.',
  );
}
