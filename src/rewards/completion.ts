import { codeBlocks, extractCode, solutionFromAnswer } from '../tasks/index.js';
import type { NormalizedRow, RewardItem } from './types.js';

export interface CompletionCode {
  /** The program (stdin/stdout rows) or the solution (function rows) to run. */
  code: string;
  /** 1 when the code came in the form the row expects: a fenced block, or a continuation of a code prompt. */
  formatReward: number;
  /** Nothing to run: an empty answer, or prose with no code where the row needs a whole program. */
  noCode: boolean;
}

/** The text of a completion: a string as is; chat messages: the last assistant message (else the last message). */
export function completionText(completion: RewardItem['completion']): string {
  if (typeof completion === 'string') return completion;
  const assistant = [...completion].reverse().find((message) => message.role === 'assistant') ?? completion.at(-1);
  return assistant?.content ?? '';
}

/** Whether a prompt is code to continue (HumanEval, MultiPL-E) rather than prose (MBPP's text). */
function isCodePrompt(row: NormalizedRow): boolean {
  if (row.prompt.trim() === '') return false;
  return row.language === 'python'
    ? /^\s*(?:def|async\s+def|class|import|from)\s/m.test(row.prompt)
    : /\bfunction\b|=>/.test(row.prompt);
}

/**
 * The code a completion stands for (docs/rewards.md, "Completions"): a chat answer's fenced code (the block defining
 * the entry point, else the longest), else the raw text as a continuation of a code prompt, else the raw text.
 */
export function completionCode(row: NormalizedRow, completion: RewardItem['completion']): CompletionCode {
  const text = completionText(completion);
  const fenced = codeBlocks(text).blocks.some((block) => block.code.trim() !== '');
  if (isCodePrompt(row)) {
    const style = fenced ? 'chat' : 'base';
    const { code, extracted } = solutionFromAnswer(text, {
      style,
      starter: row.prompt,
      language: row.language,
      ...(row.entryPoint ? { entryPoint: row.entryPoint } : {}),
    });
    return { code, formatReward: extracted.trim() === '' ? 0 : 1, noCode: extracted.trim() === '' };
  }
  const code = fenced ? extractCode(text, row.language, row.entryPoint || undefined) : text;
  return { code, formatReward: fenced ? 1 : 0, noCode: code.trim() === '' };
}
