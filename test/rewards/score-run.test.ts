import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { scoreRun } from '../../src/rewards/index.js';
import { createExecutor, probeIsolation, type Executor } from '../../src/sandbox/index.js';
import { PYTHON_ROW } from './reward-hacks.js';

const skip = probeIsolation().level === null ? 'no OS sandbox on this machine (codeloop doctor says why)' : false;

describe('codeloop rewards score run folder', { skip }, () => {
  let executor: Executor;
  let dir: string;
  before(async () => {
    executor = await createExecutor({ concurrency: 2 });
    dir = mkdtempSync(join(tmpdir(), 'codeloop-rewards-'));
  });
  after(async () => {
    await executor.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('GRPO groups by row_id, results in input order, a stopped run resumes from its journal', async () => {
    const rows = join(dir, 'rows.jsonl');
    const completions = join(dir, 'completions.jsonl');
    const out = join(dir, 'run');
    writeFileSync(
      rows,
      `${JSON.stringify({ id: 'add', ...PYTHON_ROW })}\n${JSON.stringify({ id: 'io', test_cases: [{ input: '', output: '7' }] })}\n`,
    );
    const lines = [
      { row_id: 'add', completion: '    return a + b\n' },
      { row_id: 'io', completion: '```python\nprint(7)\n```' },
      { row_id: 'add', completion: '    return a * b\n' },
      { index: 1, completion: '```python\nprint(8)\n```' },
    ];
    writeFileSync(completions, lines.map((line) => JSON.stringify(line)).join('\n') + '\n');
    // A run stopped after item 2, its last journal line cut short by the kill.
    const partial = {
      index: 2,
      row_id: 'add',
      prompt: PYTHON_ROW.prompt,
      completion: 'x',
      reward: 0.25,
      pass_rate: 0.25,
    };
    const { mkdirSync } = await import('node:fs');
    mkdirSync(out);
    writeFileSync(
      join(out, 'journal.jsonl'),
      `${JSON.stringify({ ...partial, verdict: 'failed', tests: [], infra_error: false, reason: 'journal', format_reward: 1, duration_ms: 1 })}\n{"index": 0, "rew`,
    );
    let runs = 0;
    const counting = {
      isolation: executor.isolation,
      concurrency: 2,
      run: (...args: Parameters<Executor['run']>) => (runs++, executor.run(...args)),
    };
    const result = await scoreRun({
      executor: counting,
      rowsPath: rows,
      completionsPath: completions,
      outDir: out,
      mode: 'fraction',
    });
    assert.equal(result.items, 4);
    assert.equal(result.fromJournal, 1);
    assert.equal(result.scored, 3);
    assert.ok(runs > 0);
    const results = readFileSync(result.resultsPath, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    assert.deepEqual(
      results.map((line) => [line.index, line.row_id, line.reward]),
      [
        [0, 'add', 1],
        [1, 'io', 1],
        [2, 'add', 0.25],
        [3, 'io', 0],
      ],
    );
    assert.equal(results[0].prompt, PYTHON_ROW.prompt);
    const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    assert.equal(run.kind, 'rewards');
    assert.equal(run.mode, 'fraction');
    // Everything is journaled now: a second run scores nothing.
    runs = 0;
    const again = await scoreRun({
      executor: counting,
      rowsPath: rows,
      completionsPath: completions,
      outDir: out,
      mode: 'fraction',
    });
    assert.equal(again.scored, 0);
    assert.equal(runs, 0);
    await assert.rejects(
      scoreRun({ executor: counting, rowsPath: rows, completionsPath: completions, outDir: out, mode: 'binary' }),
      /holds a rewards run of other inputs or mode/,
    );
    writeFileSync(completions, `${JSON.stringify({ row_id: 'nope', completion: 'x' })}\n`);
    await assert.rejects(
      scoreRun({ executor: counting, rowsPath: rows, completionsPath: completions, outDir: join(dir, 'other') }),
      /completions\.jsonl:1: row_id "nope" names no row/,
    );
  });
});
