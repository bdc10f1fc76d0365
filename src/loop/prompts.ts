import { spawnSync } from 'node:child_process';
import type { ChatMessage } from '../models/index.js';
import { pinnedTypeScript, transpileTypeScript, type Language } from '../sandbox/index.js';
import type { SolveTask } from './solve-task.js';

/**
 * What the loop says to a model: the first request for a solution, a repair request after feedback, and a request for
 * tests (CodeT), each for a chat model (messages) or a completion model (a raw prompt that continues the task's code).
 * Written in codeloop's own words; the prompt text is recorded with every attempt.
 */

const LANGUAGE_TITLES: Record<Language, string> = {
  python: 'Python',
  javascript: 'JavaScript',
  typescript: 'TypeScript',
};

function fenced(task: SolveTask): string {
  return task.starter !== '' ? `\`\`\`${task.language}\n${task.prompt.trim()}\n\`\`\`` : task.prompt.trim();
}

/** The first user message: the task, and how to answer. */
export function solutionMessages(task: SolveTask): ChatMessage[] {
  const defines = task.entryPoint ? `, defining \`${task.entryPoint}\`` : '';
  return [
    {
      role: 'user',
      content: `Solve the following task in ${LANGUAGE_TITLES[task.language]}. Answer with the complete program in one \`\`\`${task.language} code block${defines}; no tests, no example usage.\n\n${fenced(task)}\n`,
    },
  ];
}

/** A repair turn: the conversation so far, the model's last answer, and the feedback. */
export function repairMessages(
  history: readonly ChatMessage[],
  previousAnswer: string,
  feedback: string,
): ChatMessage[] {
  return [
    ...history,
    { role: 'assistant', content: previousAnswer },
    { role: 'user', content: `${feedback}\n\nAnswer with the whole corrected program in one code block.` },
  ];
}

function commentBlock(text: string, language: Language): string {
  const marker = language === 'python' ? '# ' : '// ';
  return text
    .trimEnd()
    .split('\n')
    .map((line) => `${marker}${line}`.trimEnd())
    .join('\n');
}

/**
 * A repair prompt for a completion model: the previous program and the feedback as comments, then the task's code
 * again to continue. (Completion models have no turns; this is the nearest honest equivalent.)
 */
export function repairPrompt(task: SolveTask, previousCode: string, feedback: string): string {
  return `${commentBlock(`A previous attempt at the function below:\n\n${previousCode}\n\nIt failed:\n${feedback}\n\nA corrected version:`, task.language)}\n${task.starter}`;
}

/** Asks a chat model for `count` tests of the entry point, one assertion per line. */
export function testMessages(task: SolveTask, count: number): ChatMessage[] {
  const entry = task.entryPoint ?? 'the function';
  const form =
    task.language === 'python' ? `assert ${entry}(...) == ...` : `assert.deepStrictEqual(${entry}(...), ...);`;
  return [
    {
      role: 'user',
      content: `Write ${count} different tests for \`${entry}\` as specified below: one ${LANGUAGE_TITLES[task.language]} assertion per line, each of the form \`${form}\`, all in one code block. Only the assertions; do not write the function.\n\n${fenced(task)}\n`,
    },
  ];
}

/**
 * CodeT's way to get tests from a completion model: the task's code, an empty body, and the start of an assertion.
 * The text returned is prefixed with `testPromptTail` before parsing.
 */
export function testPrompt(task: SolveTask): { prompt: string; tail: string } {
  const entry = task.entryPoint ?? '';
  if (task.language === 'python') {
    const tail = `assert ${entry}(`;
    return { prompt: `${task.starter}    pass\n\n\n# check the correctness of ${entry}\n${tail}`, tail };
  }
  const tail = `assert.deepStrictEqual(${entry}(`;
  return { prompt: `${task.starter}}\n\n// check the correctness of ${entry}\n${tail}`, tail };
}

/** Assertion lines of a model's answer (tests), in order. */
export function parseTestLines(text: string, language: Language): string[] {
  const lines = text.split('\n').map((line) => line.trim());
  return language === 'python'
    ? lines.filter((line) => line.startsWith('assert '))
    : lines.filter((line) => /^assert(\.\w+)?\s*\(/.test(line));
}

export interface VettedTests {
  kept: string[];
  /** Rejected lines with the reason. */
  rejected: { test: string; reason: string }[];
}

/** Why a generated test was rejected, or null when it is kept. */
type Vetting = 'parse' | 'call' | null;

/**
 * Vets generated tests: a test must parse as exactly one assertion statement (Python: an `assert`; JavaScript and
 * TypeScript: one expression statement that calls `assert` or `assert.something`) and call the entry point: a call
 * whose callee is the entry point's name, inside the assertion (a mention in a string or comment does not count). So
 * `assert.ok(f(1)); process.exit(0)` (two statements) and `assert.ok("f(1)")` are rejected. Parsing happens on the
 * host (Python's `ast.parse`, the pinned TypeScript parser); nothing is run.
 */
export function vetTests(tests: readonly string[], language: Language, entryPoint: string | undefined): VettedTests {
  const kept: string[] = [];
  const rejected: { test: string; reason: string }[] = [];
  const verdicts =
    language === 'python'
      ? vetPython(tests, entryPoint)
      : tests.map((test) => vetJavaScript(test, language, entryPoint));
  tests.forEach((test, index) => {
    const verdict = verdicts[index];
    if (verdict === 'parse') rejected.push({ test, reason: 'does not parse as one assertion' });
    else if (verdict === 'call') rejected.push({ test, reason: `does not call ${entryPoint}` });
    else kept.push(test);
  });
  return { kept, rejected };
}

function vetJavaScript(test: string, language: 'javascript' | 'typescript', entryPoint: string | undefined): Vetting {
  if ('compileError' in transpileTypeScript(test)) return 'parse';
  const ts = pinnedTypeScript();
  const file = ts.createSourceFile(
    `test.${language === 'typescript' ? 'ts' : 'js'}`,
    test,
    ts.ScriptTarget.ES2022,
    true,
    language === 'typescript' ? ts.ScriptKind.TS : ts.ScriptKind.JS,
  );
  const [statement, ...more] = file.statements;
  if (
    statement === undefined ||
    more.length > 0 ||
    !ts.isExpressionStatement(statement) ||
    !ts.isCallExpression(statement.expression)
  )
    return 'parse';
  const callee = statement.expression.expression;
  const isAssert =
    (ts.isIdentifier(callee) && callee.text === 'assert') ||
    (ts.isPropertyAccessExpression(callee) &&
      ts.isIdentifier(callee.expression) &&
      callee.expression.text === 'assert');
  if (!isAssert) return 'parse';
  if (!entryPoint) return null;
  let calls = false;
  const visit = (node: import('typescript').Node): void => {
    if (calls) return;
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === entryPoint)
      calls = true;
    else ts.forEachChild(node, visit);
  };
  statement.expression.arguments.forEach(visit);
  return calls ? null : 'call';
}

const PARSE_SCRIPT = `
import ast, json, sys
job = json.load(sys.stdin)
entry = job["entryPoint"]
out = []
for text in job["tests"]:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        out.append("parse")
        continue
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Assert):
        out.append("parse")
    elif entry and not any(isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == entry for node in ast.walk(tree.body[0])):
        out.append("call")
    else:
        out.append(None)
print(json.dumps(out))
`;

/** Each text vetted as a single Python assert that calls `entryPoint` (`ast.parse` only: parsing executes nothing). */
function vetPython(tests: readonly string[], entryPoint: string | undefined): Vetting[] {
  if (tests.length === 0) return [];
  const result = spawnSync('python3', ['-c', PARSE_SCRIPT], {
    input: JSON.stringify({ tests, entryPoint: entryPoint ?? '' }),
    encoding: 'utf8',
    env: { PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8' },
    timeout: 30_000,
  });
  if (result.status !== 0)
    throw new Error(`python3 could not check the generated tests: ${result.error?.message ?? result.stderr}`);
  return JSON.parse(result.stdout) as Vetting[];
}
