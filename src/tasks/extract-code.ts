import { codeBlocks } from './code-blocks.js';
import type { TaskLanguage } from './task.js';

/**
 * Code out of a model's answer, for the solve loop and rewards: the fenced block that defines the entry point, else the
 * longest block, else the whole text. (eval's `sanitize` applies EvalPlus's stricter rules for scoring on the same
 * block parser.)
 */

/**
 * How a model is asked for a task's code. `base`: the task's prompt is continued as raw text. `chat`: the prompt goes
 * in a user message and the answer is prose around fenced code.
 */
export type PromptStyle = 'base' | 'chat';

/** Whether `code` defines `name` (a Python `def`, a JavaScript function or a const/let/var bound to it). */
export function definesEntryPoint(code: string, language: TaskLanguage, name: string): boolean {
  const escaped = name.replace(/[$]/g, '\\$');
  if (language === 'python') return new RegExp(`^\\s*(?:async\\s+)?def\\s+${escaped}\\s*\\(`, 'm').test(code);
  return new RegExp(
    `(?:^|\\n)\\s*(?:export\\s+)?(?:(?:async\\s+)?function\\s*\\*?\\s*${escaped}\\s*[<(]|(?:const|let|var)\\s+${escaped}\\b)`,
  ).test(code);
}

/** The code in `text`: the fenced block that defines `entryPoint`, else the longest fenced block, else `text` itself. */
export function extractCode(text: string, language: TaskLanguage, entryPoint?: string): string {
  const blocks = codeBlocks(text)
    .blocks.map((block) => block.code)
    .filter((block) => block.trim() !== '');
  if (blocks.length === 0) return text;
  if (entryPoint) {
    const defining = blocks.find((block) => definesEntryPoint(block, language, entryPoint));
    if (defining !== undefined) return defining;
  }
  return blocks.reduce((longest, block) => (block.length > longest.length ? block : longest));
}

/**
 * The whole solution a model's answer stands for.
 * - `base` (the model continued `starter`): starter + completion.
 * - `chat`: the extracted code when it defines the entry point (with the starter's Python imports it lacks, e.g.
 *   `from typing import List`, which a restated signature needs); otherwise starter + code (the answer was a body).
 */
export function solutionFromAnswer(
  answer: string,
  options: { style: PromptStyle; starter: string; language: TaskLanguage; entryPoint?: string },
): { code: string; extracted: string } {
  const { style, starter, language, entryPoint } = options;
  if (style === 'base') return { code: starter + answer, extracted: answer };
  const extracted = extractCode(answer, language, entryPoint);
  if (entryPoint && !definesEntryPoint(extracted, language, entryPoint) && starter !== '')
    return { code: starter + extracted, extracted };
  if (language !== 'python') return { code: extracted, extracted };
  const code = withoutMainBlock(extracted);
  const imports = starter
    .split('\n')
    .filter((line) => /^(?:import\s|from\s+\S+\s+import\s)/.test(line) && !code.includes(line));
  return { code: imports.length > 0 ? `${imports.join('\n')}\n${code}` : code, extracted };
}

/**
 * Drops a top-level `if __name__ == "__main__":` block: chat answers often end with example calls there, and the task's
 * program runs as `__main__`, so they would run (and may print, wait on input or fail) before the tests.
 */
export function withoutMainBlock(code: string): string {
  const lines = code.split('\n');
  const start = lines.findIndex((line) => /^if\s+__name__\s*==\s*['"]__main__['"]\s*:/.test(line));
  if (start < 0) return code;
  let end = start + 1;
  while (end < lines.length && (/^\s/.test(lines[end] ?? '') || (lines[end] ?? '') === '')) end++;
  return [...lines.slice(0, start), ...lines.slice(end)].join('\n').replace(/\n+$/, '\n');
}
