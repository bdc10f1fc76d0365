/**
 * Syntax-aware truncation with tree-sitter (SAFIM, arXiv 2403.04814, shows it raises pass@1; of the anchors only
 * Copilot uses a parser). The completion is parsed in place, inside the top-level statement around the cursor:
 * - it stops at the end of the block that contains the cursor (a completion that closes the function and starts the
 *   next one is cut where the block ends);
 * - if it breaks the parse, it is cut back to the longest run of whole lines that parses; if none does and the code
 *   parsed without it, it is rejected. If the code around the cursor did not parse before either, the completion is
 *   kept as it is (nothing to judge by).
 */
import type { SyntaxNode, SyntaxParser } from '../context/index.js';

export interface SyntaxCheckResult {
  text: string;
  /** `ok`, `block-end` (cut at the block's end), `truncated` (cut to parse), `rejected`, `unknown` (no judgement). */
  verdict: 'ok' | 'block-end' | 'truncated' | 'rejected' | 'unknown';
}

/** Node types that are a block of statements or members. */
const BLOCK_TYPES = new Set([
  'block',
  'statement_block',
  'class_body',
  'switch_body',
  'interface_body',
  'enum_body',
  'object_type',
]);

/** Characters either side of the cursor searched for the enclosing top-level statement. */
const STATEMENT_CHARS = 24_000;

/** The most whole-line cuts tried before giving up (each is one parse). */
const MAX_CUTS = 8;

/** Where the top-level statement around `offset` starts and ends: lines at column 0 that are neither blank nor closers. */
function statementWindow(text: string, offset: number, maxLines = 400): [number, number] {
  const isTopLevel = (line: string): boolean =>
    /^[^\s)\]}#/]/.test(line) && !/^(else|elif|except|finally|catch)\b/.test(line);
  let start = text.lastIndexOf('\n', offset - 1) + 1;
  for (let count = 0; start > 0 && count < maxLines; count += 1) {
    if (isTopLevel(text.slice(start, text.indexOf('\n', start) === -1 ? undefined : text.indexOf('\n', start)))) break;
    start = text.lastIndexOf('\n', start - 2) + 1;
  }
  let end = text.indexOf('\n', offset);
  for (let count = 0; end !== -1 && count < maxLines; count += 1) {
    const next = text.indexOf('\n', end + 1);
    const line = text.slice(end + 1, next === -1 ? undefined : next);
    if (isTopLevel(line)) break;
    end = next;
  }
  return [start, end === -1 ? text.length : end];
}

function parses(parser: SyntaxParser, text: string): boolean {
  const tree = parser.parse(text);
  try {
    return !tree.rootNode.hasError;
  } finally {
    tree.delete();
  }
}

/** End offset of the innermost block containing `offset` whose end falls inside (offset, limit], if any. */
function enclosingBlockEnd(parser: SyntaxParser, text: string, offset: number, limit: number): number | undefined {
  const tree = parser.parse(text);
  try {
    let node: SyntaxNode | null = tree.rootNode.descendantForIndex(Math.max(0, offset - 1), offset);
    while (node !== null) {
      if (BLOCK_TYPES.has(node.type) && node.startIndex < offset && node.endIndex >= offset) {
        return node.endIndex > offset && node.endIndex < limit ? node.endIndex : undefined;
      }
      node = node.parent;
    }
    return undefined;
  } finally {
    tree.delete();
  }
}

export function checkCompletionSyntax(
  parser: SyntaxParser,
  prefix: string,
  completion: string,
  suffix: string,
): SyntaxCheckResult {
  if (completion.trim() === '') return { text: completion, verdict: 'ok' };
  // Only the text near the cursor is joined: concatenating the whole document would copy it on every keystroke.
  const near = prefix.length > STATEMENT_CHARS ? prefix.length - STATEMENT_CHARS : 0;
  const nearPrefix = prefix.slice(near);
  const nearSuffix = suffix.slice(0, STATEMENT_CHARS);
  const [start, end] = statementWindow(nearPrefix + nearSuffix, nearPrefix.length);
  const before = nearPrefix.slice(start);
  const after = nearSuffix.slice(0, Math.max(0, end - nearPrefix.length));
  const cursor = before.length;

  let text = completion;
  let verdict: SyntaxCheckResult['verdict'] = 'ok';
  if (!parses(parser, before + text + after)) {
    const baselineParses = parses(parser, before + after);
    const parts = text.split('\n');
    let fixed: string | undefined;
    for (let keep = parts.length - 1, tries = 0; keep >= 1 && tries < MAX_CUTS; keep -= 1, tries += 1) {
      const candidate = parts.slice(0, keep).join('\n');
      if (candidate.trim() !== '' && parses(parser, before + candidate + after)) {
        fixed = candidate;
        break;
      }
    }
    if (fixed !== undefined) [text, verdict] = [fixed, 'truncated'];
    else return baselineParses ? { text: '', verdict: 'rejected' } : { text, verdict: 'unknown' };
  }
  if (text.includes('\n')) {
    const blockEnd = enclosingBlockEnd(parser, before + text + after, cursor, cursor + text.length);
    if (blockEnd !== undefined) {
      const cut = text.slice(0, blockEnd - cursor);
      // Only cut at a line end: the rest of the completion must start a new line.
      if (/^[ \t]*(\n|$)/.test(text.slice(cut.length)) && text.slice(cut.length).trim() !== '')
        return { text: cut.replace(/\s+$/, ''), verdict: 'block-end' };
    }
  }
  return { text, verdict };
}
