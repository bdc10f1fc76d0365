import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { codeloopVersion, readCompleteLines, UsageError } from '../core/index.js';
import { normalizeRow } from './rows.js';
import { scoreItem } from './score.js';
import type { RewardItem, RewardResult, ScoreOptions } from './types.js';
import { rewardResultJson, type RewardResultJson } from './wire.js';

/**
 * `codeloop rewards score`: a rewards run folder (docs/rewards.md). Every finished item is appended to
 * `journal.jsonl` as it finishes; a run started again with the same --out scores only the items the journal lacks
 * (and those that were infra errors), then writes `results.jsonl` in input order.
 */

export interface ScoreRunOptions extends Omit<ScoreOptions, 'signal'> {
  rowsPath: string;
  completionsPath: string;
  outDir: string;
  /** Called after each item is scored (journal hits first). */
  onItem?: (index: number, result: RewardResultJson, fromJournal: boolean) => void;
  signal?: AbortSignal;
}

export interface ScoreRunResult {
  items: number;
  scored: number;
  fromJournal: number;
  byVerdict: Record<string, number>;
  meanReward: number | null;
  resultsPath: string;
}

export interface ResultLine extends RewardResultJson {
  index: number;
  row_id: string | null;
  prompt: string | null;
  completion: RewardItem['completion'];
}

function readJsonl(path: string, what: string): unknown[] {
  if (!existsSync(path)) throw new UsageError(`${what} file ${path} does not exist.`);
  return readFileSync(path, 'utf8')
    .split('\n')
    .map((line, index) => ({ line, index }))
    .filter(({ line }) => line.trim() !== '')
    .map(({ line, index }) => {
      try {
        return JSON.parse(line) as unknown;
      } catch (error) {
        throw new UsageError(
          `${path}:${index + 1}: not valid JSON (${(error as Error).message}); fix or remove the line.`,
        );
      }
    });
}

interface PlannedItem {
  item: RewardItem;
  rowId: string | null;
  prompt: string | null;
}

/** Pairs completion lines with rows by row_id, else index, else line order (docs/rewards.md). */
export function planItems(
  rows: unknown[],
  completions: unknown[],
  rowsPath: string,
  completionsPath: string,
): PlannedItem[] {
  const rowIds = rows.map((row, index) => {
    const record = row as Record<string, unknown>;
    const id = record['id'] ?? record['task_id'] ?? record['row_id'];
    return id === undefined || id === null ? null : String(id);
  });
  rows.forEach((row, index) => {
    try {
      normalizeRow(row);
    } catch (error) {
      throw new UsageError(`${rowsPath}: row ${index + 1}: ${(error as Error).message}`);
    }
  });
  const byId = new Map(rowIds.map((id, index) => [id, index] as const).filter(([id]) => id !== null));
  return completions.map((line, lineIndex) => {
    const where = `${completionsPath}:${lineIndex + 1}`;
    if (typeof line !== 'object' || line === null)
      throw new UsageError(`${where}: must be an object {completion, row_id?, index?}.`);
    const record = line as Record<string, unknown>;
    const completion = record['completion'];
    if (typeof completion !== 'string' && !Array.isArray(completion))
      throw new UsageError(`${where}: "completion" must be a string or a list of {role, content} messages.`);
    let rowIndex: number | undefined;
    if (record['row_id'] !== undefined && record['row_id'] !== null) {
      rowIndex = byId.get(String(record['row_id']));
      if (rowIndex === undefined)
        throw new UsageError(
          `${where}: row_id ${JSON.stringify(record['row_id'])} names no row of ${rowsPath} (its "id" or "task_id").`,
        );
    } else if (record['index'] !== undefined) {
      rowIndex = Number(record['index']);
      if (!Number.isInteger(rowIndex) || rowIndex < 0 || rowIndex >= rows.length)
        throw new UsageError(
          `${where}: index ${JSON.stringify(record['index'])} is not a row of ${rowsPath} (0 to ${rows.length - 1}).`,
        );
    } else {
      if (completions.length !== rows.length)
        throw new UsageError(
          `${where}: has neither row_id nor index, and the files have ${completions.length} completions for ` +
            `${rows.length} rows: add row_id or index to each completion.`,
        );
      rowIndex = lineIndex;
    }
    const row = rows[rowIndex] as Record<string, unknown>;
    const prompt = row['prompt'];
    return {
      item: { row, completion: completion as RewardItem['completion'] },
      rowId: rowIds[rowIndex] ?? null,
      prompt: typeof prompt === 'string' ? prompt : prompt === undefined ? null : JSON.stringify(prompt),
    };
  });
}

export async function scoreRun(options: ScoreRunOptions): Promise<ScoreRunResult> {
  const { rowsPath, completionsPath, outDir, onItem, ...scoreOptions } = options;
  const rows = readJsonl(rowsPath, 'Rows');
  const completions = readJsonl(completionsPath, 'Completions');
  const planned = planItems(rows, completions, rowsPath, completionsPath);
  mkdirSync(outDir, { recursive: true });
  const runPath = join(outDir, 'run.json');
  const run = {
    kind: 'rewards',
    rows: resolve(rowsPath),
    completions: resolve(completionsPath),
    mode: scoreOptions.mode ?? 'fraction',
    rerun: scoreOptions.rerun ?? 0,
    created: new Date().toISOString(),
    codeloop_version: codeloopVersion(),
  };
  if (existsSync(runPath)) {
    const earlier = JSON.parse(readFileSync(runPath, 'utf8')) as typeof run;
    if (earlier.rows !== run.rows || earlier.completions !== run.completions || earlier.mode !== run.mode)
      throw new UsageError(
        `${outDir} holds a rewards run of other inputs or mode (${earlier.rows}, ${earlier.completions}, ` +
          `${earlier.mode}): pick another --out to start a new run.`,
      );
  } else writeFileSync(runPath, `${JSON.stringify(run, null, 2)}\n`);

  const journalPath = join(outDir, 'journal.jsonl');
  const done = new Map<number, ResultLine>();
  for (const [lineIndex, line] of readCompleteLines(journalPath).entries()) {
    if (line.trim() === '') continue;
    let record: ResultLine;
    try {
      record = JSON.parse(line) as ResultLine;
    } catch (error) {
      throw new UsageError(
        `${journalPath}:${lineIndex + 1}: not valid JSON (${(error as Error).message}); delete the line to re-score it.`,
      );
    }
    // Infra errors are scored again: they say nothing about the completion.
    if (Number.isInteger(record.index) && !record.infra_error) done.set(record.index, record);
  }
  const fromJournal = done.size;
  for (const [index, record] of [...done].sort(([a], [b]) => a - b)) onItem?.(index, record, true);
  const descriptor = openSync(journalPath, 'a');
  let scored = 0;
  try {
    const todo = planned.map((_, index) => index).filter((index) => !done.has(index));
    const width = scoreOptions.concurrency ?? (scoreOptions.executor as { concurrency?: number }).concurrency ?? 4;
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.max(1, Math.min(width, todo.length)) }, async () => {
        while (next < todo.length) {
          const index = todo[next++]!;
          const { item, rowId, prompt } = planned[index]!;
          const result: RewardResult = await scoreItem(item, scoreOptions);
          const line: ResultLine = {
            index,
            row_id: rowId,
            prompt,
            completion: item.completion,
            ...rewardResultJson(result),
          };
          writeSync(descriptor, `${JSON.stringify(line)}\n`);
          done.set(index, line);
          scored++;
          onItem?.(index, line, false);
        }
      }),
    );
  } finally {
    closeSync(descriptor);
  }
  const resultsPath = join(outDir, 'results.jsonl');
  const ordered = planned.map((_, index) => done.get(index)!);
  writeFileSync(`${resultsPath}.tmp`, ordered.map((line) => `${JSON.stringify(line)}\n`).join(''));
  renameSync(`${resultsPath}.tmp`, resultsPath);
  const byVerdict: Record<string, number> = {};
  for (const line of ordered) byVerdict[line.verdict] = (byVerdict[line.verdict] ?? 0) + 1;
  const rewards = ordered.map((line) => line.reward).filter((reward): reward is number => reward !== null);
  return {
    items: planned.length,
    scored,
    fromJournal,
    byVerdict,
    meanReward: rewards.length === 0 ? null : rewards.reduce((sum, reward) => sum + reward, 0) / rewards.length,
    resultsPath,
  };
}
