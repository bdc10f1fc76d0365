import { existsSync, readFileSync, truncateSync } from 'node:fs';

/**
 * The complete lines of an append-only JSONL file that a killed process may have left mid-write: a last line without
 * its newline is cut from the file (so appending continues on a fresh line) and not returned. Returns [] for a file that
 * does not exist. Line `i` of the result is line `i + 1` of the file (blank lines included, for messages).
 */
export function readCompleteLines(path: string): string[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  const complete = text.lastIndexOf('\n') + 1;
  if (complete < text.length) truncateSync(path, Buffer.byteLength(text.slice(0, complete), 'utf8'));
  return complete === 0 ? [] : text.slice(0, complete - 1).split('\n');
}
