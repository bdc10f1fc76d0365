/**
 * The streaming fan-out: while a multi-line generation runs, the post-processed lines that no later step can change are
 * committed (`finalPart`, `commit`) and passed on to each listening caller as deltas (`listen`).
 */
import type { SyntaxParser } from '../context/index.js';
import type { CompletionSite } from './completion-mode.js';
import type { Run } from './completion-types.js';
import { checkCompletionSyntax } from './syntax-check.js';

/**
 * Where the part of `text` ends that the suffix merge can never take as re-typed suffix: the first index from which
 * the rest of `text` is the start of the suffix (after any of its leading spaces/tabs), else the whole length.
 */
export function suffixSafeEnd(text: string, suffix: string): number {
  const skippable = suffix.match(/^[ \t]*/)?.[0].length ?? 0;
  for (let index = 0; index < text.length; index += 1) {
    const tail = text.slice(index);
    for (let skip = 0; skip <= skippable; skip += 1) if (suffix.startsWith(tail, skip)) return index;
  }
  return text.length;
}

/** Grows `run.committed` to `text` (a longer text that starts with it) and tells the listeners. */
export function commit(run: Run, text: string | undefined): void {
  if (text === undefined || text.length <= run.committed.length || !text.startsWith(run.committed)) return;
  run.committed = text;
  for (const listener of run.listeners) listener(text);
}

/**
 * The part of the post-processed complete lines so far that no later step can change, when it is longer than
 * `committed`: none from the first line that repeats an earlier one (the
 * repetition guard cuts back to the first copy), none of a tail that could be the start of the re-typed suffix (the
 * merge would leave it out), and only text that parses in place (the syntax check could cut or reject it).
 */
export function finalPart(
  processed: string,
  run: Run,
  site: CompletionSite,
  parser: SyntaxParser | undefined,
): string | undefined {
  const { committed } = run;
  if (processed.length <= committed.length) return undefined;
  const lines = processed.split('\n');
  const seen = new Set<string>();
  for (let index = 0; index < lines.length; index += 1) {
    const line = lines[index] ?? '';
    if (line.trim() === '') continue;
    if (seen.has(line)) {
      lines.length = index;
      break;
    }
    seen.add(line);
  }
  let text = lines.join('\n');
  text = text.slice(0, suffixSafeEnd(text, site.suffix)).replace(/\s+$/, '');
  if (text.length <= committed.length || !text.startsWith(committed) || text === run.judged) return undefined;
  run.judged = text;
  if (parser !== undefined) {
    const checked = checkCompletionSyntax(parser, site.prefix, text, site.suffix);
    if ((checked.verdict !== 'ok' && checked.verdict !== 'unknown') || checked.text !== text) return undefined;
  }
  return text;
}

/**
 * Passes a run's committed text on to one caller as deltas, from `typed` characters on (a joiner has typed the
 * start of it). Returns the function that stops it.
 */
export function listen(
  run: Run,
  typed: number,
  typedText: string,
  onTextDelta: ((text: string) => void) | undefined,
): () => boolean {
  if (onTextDelta === undefined) return () => false;
  let sent = typed;
  const listener = (committed: string): void => {
    if (committed.length <= sent || !committed.startsWith(typedText)) return;
    const delta = committed.slice(sent);
    sent = committed.length;
    run.sent = true;
    onTextDelta(delta);
  };
  run.listeners.add(listener);
  run.catchUp?.();
  listener(run.committed);
  return () => {
    run.listeners.delete(listener);
    return sent > typed;
  };
}
