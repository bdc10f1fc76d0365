import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Executor } from '../sandbox/index.js';
import type { AttemptRecord } from './attempt-record.js';
import { combineGeneratedTestStats, generatedTestStats } from './generated-test-stats.js';
import { parseSolveTaskFile } from './solve-task.js';

/** A program attempt that passed every generated test, with a hidden verdict (pass rate) or none (null). */
function passing(id: string, passRate: number | null): AttemptRecord {
  return {
    task_id: 't',
    attempt_id: id,
    parent_id: null,
    turn: 0,
    kind: 'sample',
    model: null,
    completion: '',
    code: '',
    language: 'python',
    feedback_in: null,
    tests: [{ id: 'generated/0', origin: 'generated', assertion: 'assert f(1) == 2', status: 'passed' }],
    pass_rate: passRate,
    all_pass: passRate === 1,
    visible_pass_rate: 1,
    visible_all_pass: true,
    infra_error: false,
    usage: { prompt_tokens: 0, completion_tokens: 0 },
    wall_ms: 0,
    repro: {} as AttemptRecord['repro'],
    time: '',
  };
}

test('the false-positive rate has one denominator, per solve and over an evaluation: attempts passing every generated test that have a hidden verdict', async () => {
  const task = parseSolveTaskFile(
    JSON.stringify({ language: 'python', prompt: 'p', entryPoint: 'f', hiddenTests: ['assert f(1) == 2'] }),
    't.json',
  );
  // No reference solution and no generated sources: nothing is executed.
  const executor = {} as Executor;
  const stats = await generatedTestStats(
    executor,
    task,
    [passing('a0', null), passing('a1', 0), passing('a2', 1)],
    [],
    0,
    2000,
    undefined,
  );
  assert.deepEqual(stats, {
    kept: 0,
    rejected: 0,
    attemptsPassingGenerated: 3,
    attemptsJudged: 2,
    falsePositives: 1,
    falsePositiveRate: 0.5,
    passedByReference: null,
  });
  // Summed over runs, the rate is false positives over judged attempts too (it was over all passing attempts: 2/5).
  const other = await generatedTestStats(
    executor,
    task,
    [passing('a0', 0), passing('a1', null)],
    [],
    0,
    2000,
    undefined,
  );
  assert.deepEqual(combineGeneratedTestStats([stats, other]), {
    attemptsPassingGenerated: 5,
    attemptsJudged: 3,
    falsePositives: 2,
    falsePositiveRate: 2 / 3,
  });
  assert.equal(combineGeneratedTestStats([]), null);
});
