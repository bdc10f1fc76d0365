import { UsageError } from '../core/index.js';
import { DEFAULT_PAIR_RULE, type PairRule } from './preference-pairs.js';
import type { ExportSource } from './records.js';
import { dpoRows, grpoRows, ktoRows, openrlhfRows, sftRows, verlRows } from './training-rows.js';
import { verlParquet } from './verl-parquet.js';

export const EXPORT_FORMATS = ['trl-grpo', 'trl-dpo', 'trl-kto', 'sft', 'openrlhf', 'verl'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export function isExportFormat(value: string): value is ExportFormat {
  return (EXPORT_FORMATS as readonly string[]).includes(value);
}

export interface ExportOptions {
  /** trl-dpo: the pair rule (default AceCoder's: chosen ≥ 0.8, gap ≥ 0.4). */
  pairRule?: PairRule;
}

export interface ExportResult {
  format: ExportFormat;
  /** `jsonl`: `text` holds the lines; `parquet`: `bytes` holds the file. */
  kind: 'jsonl' | 'parquet';
  text?: string;
  bytes?: Uint8Array;
  rows: number;
  /** What went in and what was left out, in one line for the CLI. */
  summary: string;
  warnings: string[];
}

function counts(source: ExportSource): string {
  const infra = source.completions.filter((completion) => completion.infraError).length;
  const unjudged = source.completions.filter(
    (completion) => !completion.infraError && completion.passRate === null,
  ).length;
  return (
    `${source.completions.length} completion(s) of ${new Set(source.completions.map((c) => c.taskId)).size} task(s)` +
    (infra > 0 ? `, ${infra} with an infra error (never exported as negatives)` : '') +
    (unjudged > 0 ? `, ${unjudged} without a pass rate (flaky or unjudged)` : '')
  );
}

/** Rows of one format from a source's records; a UsageError when the source cannot give any (exit 2 in the CLI). */
export function exportSource(source: ExportSource, format: ExportFormat, options: ExportOptions = {}): ExportResult {
  const needsRows = format === 'trl-grpo' || format === 'openrlhf' || format === 'verl';
  if (needsRows && source.tasks.every((task) => task.row === null)) {
    throw new UsageError(
      `--format ${format} needs each task's row (its tests) for the reward service, and ${source.dir} has none: ` +
        `${source.rowsUnavailable ?? 'no task in it has a prompt'}.`,
    );
  }
  if (format === 'sft' && source.kind !== 'solve') {
    throw new UsageError(
      '--format sft writes repair trajectories that end in a pass, which only a codeloop solve run records; ' +
        `${source.dir} is the folder of a codeloop ${source.kind === 'rewards' ? 'rewards score' : source.kind} run.`,
    );
  }
  let rows: object[];
  switch (format) {
    case 'trl-grpo':
      rows = grpoRows(source);
      break;
    case 'trl-dpo':
      rows = dpoRows(source, options.pairRule);
      break;
    case 'trl-kto':
      rows = ktoRows(source);
      break;
    case 'sft':
      rows = sftRows(source);
      break;
    case 'openrlhf':
      rows = openrlhfRows(source);
      break;
    case 'verl':
      rows = verlRows(source);
      break;
  }
  const summary = `${rows.length} ${format} row(s) from ${counts(source)} in ${source.dir}`;
  if (rows.length === 0) {
    const rule = { ...DEFAULT_PAIR_RULE, ...options.pairRule };
    const why: Record<ExportFormat, string> = {
      'trl-grpo': 'no task has a prompt and a row',
      'trl-dpo':
        'no two answers to the same prompt meet the pair rule ' +
        `(chosen ≥ ${rule.minChosen}, gap ≥ ${rule.minGap}, rejected ran)`,
      'trl-kto': 'no completion has a pass rate',
      sft: 'no repair passed every hidden test',
      openrlhf: 'no task has a prompt and a row',
      verl: 'no task has a prompt and a row',
    };
    throw new UsageError(`Nothing to export: ${why[format]}. Read ${counts(source)}.`);
  }
  if (format === 'verl') {
    return {
      format,
      kind: 'parquet',
      bytes: verlParquet(rows as ReturnType<typeof verlRows>),
      rows: rows.length,
      summary,
      warnings: source.warnings,
    };
  }
  return {
    format,
    kind: 'jsonl',
    text: rows.map((row) => `${JSON.stringify(row)}\n`).join(''),
    rows: rows.length,
    summary,
    warnings: source.warnings,
  };
}
