/**
 * Number flags for every command, parsed one way: a flag that is given must be a finite number in its range, and
 * the error names the flag, the value given and the range, so the fix is in the message.
 */
import { UsageError } from '../core/index.js';
import { parseIdRanges, type TaskSelection } from '../tasks/index.js';

export interface NumberFlagRange {
  /** Whole numbers only. */
  integer?: boolean;
  /** Smallest allowed value (inclusive). */
  min?: number;
  /** Largest allowed value (inclusive). */
  max?: number;
  /** Greater than 0 (for non-integers; an integer flag says `min: 1`). */
  positive?: boolean;
}

function describe({ integer = false, min, max, positive = false }: NumberFlagRange): string {
  const kind = integer ? 'an integer' : positive ? 'a positive number' : 'a number';
  if (min !== undefined && max !== undefined) return `${kind} from ${min} to ${max}`;
  if (min !== undefined) return `${kind} ≥ ${min}`;
  if (max !== undefined) return `${kind} ≤ ${max}`;
  return kind;
}

/**
 * `text` (a flag's value, or undefined when the flag is absent) as a number in `range`. `flag` is the flag's name,
 * with or without the leading `--`.
 */
export function numberFlag(flag: string, text: string | undefined, range: NumberFlagRange = {}): number | undefined {
  if (text === undefined) return undefined;
  const name = flag.startsWith('-') ? flag : `--${flag}`;
  const value = Number(text);
  const { integer = false, min, max, positive = false } = range;
  const valid =
    text.trim() !== '' &&
    Number.isFinite(value) &&
    (!integer || Number.isInteger(value)) &&
    (min === undefined || value >= min) &&
    (max === undefined || value <= max) &&
    (!positive || value > 0);
  if (!valid) throw new UsageError(`${name} ${JSON.stringify(text)} must be ${describe(range)}.`);
  return value;
}

/** A comma-separated list of k values for pass@k, e.g. `1,10,100`. */
export function kListFlag(flag: string, text: string | undefined, max = 100_000): number[] | undefined {
  if (text === undefined) return undefined;
  const name = flag.startsWith('--') ? flag : `--${flag}`;
  const ks = text.split(',').map((part) => Number(part.trim()));
  if (text.trim() === '' || ks.some((k) => !Number.isInteger(k) || k < 1 || k > max)) {
    throw new UsageError(
      `${name} ${JSON.stringify(text)} must be integers from 1 to ${max} separated by commas, e.g. 1,10,100.`,
    );
  }
  return ks;
}

/** The subset flags every command that runs a dataset takes (generate, eval, solve --dataset). */
export const SUBSET_OPTIONS = {
  limit: { type: 'string' },
  'id-range': { type: 'string' },
} as const;

export const SUBSET_USAGE = `  --limit N                only the first N tasks (after --id-range)
  --id-range START:END     only the tasks at positions START to END-1 in dataset order (as EvalPlus's --id-range;
                           several: 0:10,20:30). A subset run says "subset" in its summary, metrics.json and report`;

/** `--limit` and `--id-range` as a task selection. */
export function taskSelectionFlags(values: {
  limit?: string | undefined;
  'id-range'?: string | undefined;
}): TaskSelection {
  const limit = numberFlag('--limit', values.limit, { integer: true, min: 1, max: 10_000_000 });
  const idRange = values['id-range'];
  return {
    ...(limit === undefined ? {} : { limit }),
    ...(idRange === undefined ? {} : { ranges: parseIdRanges(idRange) }),
  };
}
