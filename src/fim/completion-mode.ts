/**
 * Whether to complete at all, and how much: the multi-line vs single-line decision. The rules follow what the anchors
 * converged on (Copilot, Continue, Tabby): an empty block start gets a multi-line completion (Copilot's tree-sitter rule),
 * a blank line gets one too (Continue's "auto", Tabby), mid-line completion happens only when the rest of the line is
 * closing brackets, quotes or punctuation (Copilot's `/^\s*[)>}\]"'`]*\s*[:{;,]?\s*$/`, Tabby's `^\W*$`), and
 * after code on the cursor line it is one line.
 */

export type CompletionMode = 'single-line' | 'multi-line';

export interface CompletionSite {
  /** Document text before the cursor. */
  prefix: string;
  /** Document text after the cursor. */
  suffix: string;
  /** The cursor line up to the cursor. */
  linePrefix: string;
  /** The cursor line after the cursor. */
  lineSuffix: string;
  /** The document's indentation unit (`'\t'`, `'    '`, `'  '`). */
  indentUnit: string;
}

export type ModeDecision = { mode: CompletionMode; reason: string } | { mode: 'none'; reason: string };

/** Text after the cursor on its line that still allows a completion: closers, quotes, a final `:{;,`. */
export const MID_LINE_OK = /^\s*[)>}\]"'`]*\s*[:{;,]?\s*$/;

/** A line that opens a block: Python `:`, braces, an open bracket, an arrow. */
const BLOCK_OPENER = /(:|\{|\(|\[|=>)\s*(#.*|\/\/.*)?$/;

export const leadingWhitespace = (line: string): string => line.match(/^[ \t]*/)?.[0] ?? '';

/** Splits a document at `cursor` into the site the rules work on. */
export function completionSite(text: string, cursor: number, indentUnit?: string): CompletionSite {
  const prefix = text.slice(0, cursor);
  const suffix = text.slice(cursor);
  const lineStart = prefix.lastIndexOf('\n') + 1;
  const lineEnd = suffix.indexOf('\n');
  return {
    prefix,
    suffix,
    linePrefix: prefix.slice(lineStart),
    lineSuffix: lineEnd === -1 ? suffix : suffix.slice(0, lineEnd),
    // The lines around the cursor tell the unit as well as the whole file, at a bounded cost per keystroke.
    indentUnit: indentUnit ?? detectIndentUnit(text.slice(Math.max(0, cursor - 4000), cursor + 2000)),
  };
}

/** The most common indentation step between consecutive indented lines; default four spaces. */
export function detectIndentUnit(text: string): string {
  let tabs = 0;
  const steps = new Map<number, number>();
  let previous = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const indent = leadingWhitespace(line);
    if (indent.startsWith('\t')) {
      tabs += 1;
      continue;
    }
    const step = indent.length - previous;
    if (step > 0) steps.set(step, (steps.get(step) ?? 0) + 1);
    previous = indent.length;
  }
  let best = 4;
  let bestCount = 0;
  for (const [step, count] of steps)
    if (count > bestCount || (count === bestCount && step < best)) [best, bestCount] = [step, count];
  return tabs > bestCount ? '\t' : ' '.repeat(best);
}

/** The last non-blank line before the cursor line, or undefined (scans back from the cursor only). */
export function previousNonBlankLine(prefix: string): string | undefined {
  let end = prefix.lastIndexOf('\n');
  while (end > 0) {
    const start = prefix.lastIndexOf('\n', end - 1) + 1;
    const line = prefix.slice(start, end);
    if (line.trim() !== '') return line;
    end = start - 1;
  }
  return undefined;
}

/** The first non-blank line after the cursor line, or undefined (scans forward from the cursor only). */
export function nextNonBlankLine(suffix: string): string | undefined {
  let start = suffix.indexOf('\n');
  while (start !== -1) {
    const end = suffix.indexOf('\n', start + 1);
    const line = suffix.slice(start + 1, end === -1 ? undefined : end);
    if (line.trim() !== '') return line;
    start = end;
  }
  return undefined;
}

/**
 * The decision for a site. `requested` forces a mode (an editor's "complete line" command, a benchmark's hole),
 * even mid-line before code; `auto` applies the rules.
 */
export function decideCompletionMode(site: CompletionSite, requested: 'auto' | CompletionMode = 'auto'): ModeDecision {
  const { linePrefix, lineSuffix, prefix, suffix } = site;
  // A forced mode completes anywhere, mid-line before code too (an explicit request, or a benchmark's random span).
  if (requested !== 'auto') return { mode: requested, reason: 'requested' };
  if (!MID_LINE_OK.test(lineSuffix)) {
    return {
      mode: 'none',
      reason: `the rest of the line (${JSON.stringify(lineSuffix.slice(0, 40))}) is code, not closing brackets or punctuation`,
    };
  }
  const lineIsBlank = linePrefix.trim() === '';
  if (lineIsBlank) {
    const opener = previousNonBlankLine(prefix);
    const next = nextNonBlankLine(suffix);
    if (opener !== undefined && BLOCK_OPENER.test(opener)) {
      const openerIndent = leadingWhitespace(opener).length;
      // The block is empty when nothing after the cursor is indented deeper than its opener.
      const nextIndent = next === undefined ? -1 : leadingWhitespace(next).length;
      if (nextIndent <= openerIndent && lineSuffix.trim() === '')
        return { mode: 'multi-line', reason: 'empty block start' };
    }
    if (prefix.trim() === '' || (suffix.trim() === '' && lineSuffix.trim() === ''))
      return { mode: 'multi-line', reason: 'blank line at the end of the file' };
    // A blank line is where new statements go: as Continue ("auto") and Tabby do, complete several lines and let
    // the stop rules (dedent, the next suffix line, the block's end) bound them.
    return { mode: 'multi-line', reason: 'blank line inside code' };
  }
  if (lineSuffix.trim() === '' && BLOCK_OPENER.test(linePrefix) && !/[([]\s*$/.test(linePrefix)) {
    return { mode: 'multi-line', reason: 'block opener at the end of the line' };
  }
  return {
    mode: 'single-line',
    reason: lineSuffix.trim() === '' ? 'end of a line' : 'mid-line before closing punctuation',
  };
}
