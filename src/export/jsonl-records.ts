import { existsSync, readFileSync } from 'node:fs';
import { UsageError } from '../core/index.js';

/** One parsed JSONL line and where it was. */
export interface JsonlRecord {
  value: Record<string, unknown>;
  /** `FILE:LINE` */
  source: string;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The JSON objects of a JSONL file, read only (an export never changes its input). Blank lines are skipped. A last
 * line without its newline that does not parse is what a killed writer leaves: it is left out with a warning. Any
 * other line that is not a JSON object is a UsageError naming `FILE:LINE`; `what` names the file's role in it.
 */
export function readJsonlRecords(path: string, what: string, warnings: string[]): JsonlRecord[] {
  if (!existsSync(path)) throw new UsageError(`${path} not found: is this ${what}?`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`Cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  const lines = text.split('\n');
  const lastCut = !text.endsWith('\n');
  const records: JsonlRecord[] = [];
  for (const [index, line] of lines.entries()) {
    if (line.trim() === '') continue;
    const source = `${path}:${index + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      if (lastCut && index === lines.length - 1) {
        warnings.push(`${source}: the last line is cut short (a killed run); it was left out.`);
        continue;
      }
      throw new UsageError(`${source}: not valid JSON (${(error as Error).message}); is the file ${what}?`, {
        cause: error,
      });
    }
    if (!isObject(value)) throw new UsageError(`${source}: expected a JSON object; is the file ${what}?`);
    records.push({ value, source });
  }
  return records;
}
