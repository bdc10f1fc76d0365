import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { UsageError } from '../core/index.js';
import type { ChatMessage } from '../models/index.js';
import { isObject, readJsonlRecords, type JsonlRecord } from './jsonl-records.js';
import type { ExportPrompt, ExportSource, ExportTask, ScoredCompletion } from './records.js';

function promptOf(value: unknown): ExportPrompt | undefined {
  if (typeof value === 'string') {
    // results.jsonl keeps a chat prompt as its JSON text.
    if (value.startsWith('[{')) {
      try {
        return promptOf(JSON.parse(value)) ?? value;
      } catch {
        return value;
      }
    }
    return value;
  }
  if (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every(
      (message) => isObject(message) && typeof message.role === 'string' && typeof message.content === 'string',
    )
  )
    return value as ChatMessage[];
  return undefined;
}

/** The id a rows-file line is known by (`id`, else `task_id`, else `row_id`), as the reward service reads it. */
function rowId(row: Record<string, unknown>): string | null {
  for (const key of ['id', 'task_id', 'row_id']) {
    const value = row[key];
    if (typeof value === 'string' || typeof value === 'number') return String(value);
  }
  return null;
}

/** The row's language, wherever its format keeps it. */
function rowLanguage(row: Record<string, unknown>): string | null {
  const parse = (value: unknown): unknown => {
    if (typeof value !== 'string') return value;
    try {
      return JSON.parse(value);
    } catch {
      return undefined;
    }
  };
  const candidates = [row, parse(row.verification_info), parse(row.ground_truth), row.task];
  for (const candidate of candidates)
    if (isObject(candidate) && typeof candidate.language === 'string') return candidate.language;
  return null;
}

/** A path recorded in run.json: absolute, else relative to where the run was started, else to the run folder. */
function recordedPath(dir: string, path: string): string | undefined {
  if (isAbsolute(path)) return existsSync(path) ? path : undefined;
  for (const candidate of [resolve(path), join(dir, path)]) if (existsSync(candidate)) return candidate;
  return undefined;
}

/** A completion as the results file holds it: text, or chat messages whose assistant turns are the text. */
function completionText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value))
    return value
      .filter((message) => isObject(message) && message.role === 'assistant' && typeof message.content === 'string')
      .map((message) => (message as { content: string }).content)
      .join('\n');
  return undefined;
}

/**
 * The records of a `codeloop rewards score --out` folder: `results.jsonl` (one RewardResult per scored item, with
 * `row_id`, `prompt` and `completion`) and `run.json`, which names the rows file the items were scored against. The
 * rows give each task's prompt and its row for the prompt-only formats; when the rows file is gone, the results'
 * own `prompt` is used and the prompt-only formats have no rows.
 */
export function readRewardsSource(dir: string): ExportSource {
  const absolute = resolve(dir);
  const warnings: string[] = [];
  const runPath = join(absolute, 'run.json');
  let run: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(readFileSync(runPath, 'utf8'));
    if (!isObject(parsed) || parsed.kind !== 'rewards') throw new Error('"kind" is not "rewards"');
    run = parsed;
  } catch (error) {
    throw new UsageError(
      `${runPath}: not the run.json of a codeloop rewards run (${(error as Error).message}); ` +
        'give the --out folder of codeloop rewards score.',
      { cause: error },
    );
  }
  const results = readJsonlRecords(join(absolute, 'results.jsonl'), 'the results of a codeloop rewards run', warnings);

  let rows: JsonlRecord[] = [];
  let rowsUnavailable: string | null = null;
  const rowsPath = typeof run.rows === 'string' ? recordedPath(absolute, run.rows) : undefined;
  if (rowsPath === undefined) {
    rowsUnavailable = `the rows file this run scored against (${String(run.rows)}) is not found`;
    warnings.push(`${rowsUnavailable}; prompts come from results.jsonl alone.`);
  } else rows = readJsonlRecords(rowsPath, 'a rows file', warnings);
  const rowById = new Map<string, number>();
  for (const [position, { value }] of rows.entries()) {
    const id = rowId(value);
    if (id !== null && !rowById.has(id)) rowById.set(id, position);
  }
  // Items without a row_id name their row through the completions file (its `row_id` or `index`, else its line
  // number when there are as many completions as rows), read if needed.
  let completionLines: JsonlRecord[] | undefined;
  const rowOfItem = (itemIndex: number): number | undefined => {
    if (completionLines === undefined) {
      const path = typeof run.completions === 'string' ? recordedPath(absolute, run.completions) : undefined;
      completionLines = path === undefined ? [] : readJsonlRecords(path, 'a completions file', warnings);
    }
    const line = completionLines[itemIndex]?.value;
    if (line === undefined) return undefined;
    if (typeof line.row_id === 'string' || typeof line.row_id === 'number') return rowById.get(String(line.row_id));
    if (typeof line.index === 'number') return line.index < rows.length ? line.index : undefined;
    return completionLines.length === rows.length ? itemIndex : undefined;
  };

  const completions: ScoredCompletion[] = [];
  const tasks = new Map<string, ExportTask>();
  let withoutPrompt = 0;
  for (const [position, { value: result, source }] of results.entries()) {
    const completion = completionText(result.completion);
    if (completion === undefined || !('verdict' in result))
      throw new UsageError(`${source}: lacks "completion" or "verdict"; is it a codeloop rewards results file?`);
    const itemIndex = typeof result.index === 'number' ? result.index : position;
    const id = typeof result.row_id === 'string' || typeof result.row_id === 'number' ? String(result.row_id) : null;
    const rowIndex = id !== null ? rowById.get(id) : rowOfItem(itemIndex);
    const row = rowIndex === undefined ? undefined : rows[rowIndex]?.value;
    const taskId = id ?? (row !== undefined ? (rowId(row) ?? `row ${rowIndex}`) : `item ${itemIndex}`);
    const prompt = promptOf(row?.prompt) ?? promptOf(result.prompt);
    if (prompt === undefined) {
      withoutPrompt++;
      continue;
    }
    if (row !== undefined && !tasks.has(taskId)) tasks.set(taskId, { taskId, prompt, row, language: rowLanguage(row) });
    const verdict = typeof result.verdict === 'string' ? result.verdict : 'unknown';
    const infraError = result.infra_error === true || verdict === 'infra-error';
    // A flaky verdict changed between reruns: its pass rate says nothing either way (the service scores it null).
    const passRate =
      infraError || verdict === 'flaky' || typeof result.pass_rate !== 'number' ? null : result.pass_rate;
    completions.push({ taskId, prompt, completion, passRate, binary: false, verdict, infraError, source });
  }
  if (withoutPrompt > 0)
    warnings.push(
      `${withoutPrompt} result(s) have no prompt (neither their row nor results.jsonl gives one); left out. ` +
        'Give rows a "prompt".',
    );
  return {
    kind: 'rewards',
    dir: absolute,
    completions,
    tasks: [...tasks.values()],
    rowsUnavailable,
    warnings,
  };
}
