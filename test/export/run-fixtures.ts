// Test support for the export tests: run folders written the way `codeloop rewards score --out` (the layout of
// /work/team/REWARDS-CONTRACT.md: run.json, results.jsonl) and `codeloop solve --out` (attempts.jsonl, one
// AttemptRecord per line) write them, with verdicts given by the test instead of a sandbox.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const jsonl = (records: readonly object[]): string => records.map((record) => `${JSON.stringify(record)}\n`).join('');

export const FUNCTION_ROW = {
  id: 'add',
  prompt: 'def add(a, b):\n',
  test: 'def check(candidate):\n    assert candidate(1, 2) == 3\n    assert candidate(2, 2) == 4\n',
  entry_point: 'add',
  language: 'python',
};

export const STDIO_ROW = {
  id: 'echo',
  prompt: [{ role: 'user', content: 'Read one line from stdin and print it back.' }],
  verification_info: { language: 'javascript', test_cases: [{ input: 'x\n', output: 'x\n' }] },
};

export interface RewardsItem {
  rowId: string;
  completion: string;
  passRate: number | null;
  verdict: string;
  infraError?: boolean;
}

/** A rewards run folder: rows.jsonl, completions.jsonl, run.json and results.jsonl. Returns the folder. */
export function writeRewardsRun(dir: string, items: readonly RewardsItem[], rows: readonly object[]): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'rows.jsonl'), jsonl(rows));
  writeFileSync(
    join(dir, 'completions.jsonl'),
    jsonl(items.map((item) => ({ row_id: item.rowId, completion: item.completion }))),
  );
  writeFileSync(
    join(dir, 'run.json'),
    `${JSON.stringify({
      kind: 'rewards',
      rows: join(dir, 'rows.jsonl'),
      completions: join(dir, 'completions.jsonl'),
      mode: 'fraction',
      created: '2026-12-07T00:00:00.000Z',
      codeloop_version: '0.1.0',
    })}\n`,
  );
  const rowById = new Map(rows.map((row) => [(row as { id: string }).id, row as { prompt?: unknown }]));
  writeFileSync(
    join(dir, 'results.jsonl'),
    jsonl(
      items.map((item, index) => {
        const prompt = rowById.get(item.rowId)?.prompt;
        return {
          index,
          row_id: item.rowId,
          prompt: typeof prompt === 'string' ? prompt : null,
          completion: item.completion,
          reward: item.infraError || item.verdict === 'flaky' ? null : item.passRate,
          pass_rate: item.passRate,
          verdict: item.verdict,
          tests: [],
          infra_error: item.infraError === true,
          reason: item.verdict,
          format_reward: 1,
          duration_ms: 5,
        };
      }),
    ),
  );
  return dir;
}

export interface SolveAttempt {
  task: string;
  id: string;
  kind: 'sample' | 'repair' | 'tests' | 'select';
  parent?: string;
  turn?: number;
  messages?: { role: string; content: string }[];
  prompt?: string;
  completion?: string;
  passRate?: number | null;
  infraError?: boolean;
  feedback?: string;
}

/** A solve run folder: attempts.jsonl with the fields of AttemptRecord the export reads (and a few it does not). */
export function writeSolveRun(dir: string, attempts: readonly SolveAttempt[]): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'attempts.jsonl'),
    jsonl(
      attempts.map((attempt) => ({
        task_id: attempt.task,
        attempt_id: attempt.id,
        parent_id: attempt.parent ?? null,
        turn: attempt.turn ?? 0,
        kind: attempt.kind,
        model: null,
        ...(attempt.messages === undefined ? {} : { messages: attempt.messages }),
        ...(attempt.prompt === undefined ? {} : { prompt: attempt.prompt }),
        completion: attempt.completion ?? '',
        code: attempt.completion ?? '',
        language: 'python',
        feedback_in: attempt.feedback === undefined ? null : { template_id: 'tests.v1', text: attempt.feedback },
        tests: [],
        pass_rate: attempt.infraError ? null : (attempt.passRate ?? null),
        all_pass: attempt.passRate === 1,
        visible_pass_rate: null,
        visible_all_pass: false,
        infra_error: attempt.infraError === true,
        usage: { prompt_tokens: 10, completion_tokens: 10 },
        wall_ms: 1,
        time: '2026-12-07T00:00:00.000Z',
      })),
    ),
  );
  return dir;
}
