import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { ExecutionRequest, ExecutionResult, Verdict } from '../sandbox/index.js';
import { DEFAULT_LIMITS } from '../sandbox/index.js';
import type { Task } from '../tasks/index.js';
import { evaluateSamples } from './evaluate.js';
import { parseSamples } from './samples.js';

const scratch = mkdtempSync(join(tmpdir(), 'codeloop-evaluate-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const task = (id: string): Task => ({
  id,
  dataset: 'test',
  language: 'python',
  prompt: '',
  tests: '',
  stopSequences: [],
  harness: 'exit-code',
  layout: 'prompt-completion-tests',
});
const TASKS = [task('A'), task('B')];

/** A fake executor whose verdict is the program's first line (e.g. `passed`), counting its calls. */
function fakeExecutor(override: (code: string) => Verdict | undefined = () => undefined) {
  const requests: ExecutionRequest[] = [];
  return {
    requests,
    concurrency: 2,
    async run(request: ExecutionRequest): Promise<ExecutionResult> {
      requests.push(request);
      const verdict = override(request.code) ?? (request.code.split('\n')[0] as Verdict);
      return {
        verdict,
        reason: `said ${verdict}`,
        exitCode: 0,
        signal: null,
        durationMs: 1,
        cpuMs: 1,
        peakMemoryKiB: null,
        stdout: 'x'.repeat(5000),
        stderr: '',
        stdoutBytes: 5000,
        stderrBytes: 0,
        isolation: 'none',
        limits: DEFAULT_LIMITS.python,
      };
    },
  };
}

const SAMPLES = parseSamples(
  ['A:passed', 'A:failed', 'A:passed', 'B:infra-error', 'B:passed']
    .map((entry) => {
      const [taskId, completion] = entry.split(':');
      return JSON.stringify({ task_id: taskId, completion });
    })
    .join('\n'),
  'fake.jsonl',
);

test('infra-error: not journaled, task excluded from counts, retried on the next run', async () => {
  const journalPath = join(scratch, 'infra.jsonl');
  const first = await evaluateSamples(TASKS, SAMPLES, { executor: fakeExecutor(), journalPath });
  assert.deepEqual(first.counts, [{ taskId: 'A', n: 3, c: 2 }]);
  assert.deepEqual(first.excludedTasks, ['B']);
  assert.equal(first.executions, 4);
  const lines = readFileSync(journalPath, 'utf8')
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as { verdict: string; samples: number[]; stdoutTail: string });
  assert.deepEqual(lines.map((line) => line.verdict).sort(), ['failed', 'passed', 'passed']);
  assert.ok(
    lines.some((line) => line.samples.length === 2),
    'the shared program lists both samples',
  );
  assert.equal(lines[0]?.stdoutTail.length, 2048);
  // The sandbox works again: only the infra-error program runs.
  const executor = fakeExecutor(() => 'failed');
  const second = await evaluateSamples(TASKS, SAMPLES, { executor, journalPath });
  assert.equal(executor.requests.length, 1);
  assert.deepEqual(second.counts, [
    { taskId: 'A', n: 3, c: 2 },
    { taskId: 'B', n: 2, c: 1 },
  ]);
  assert.deepEqual(second.excludedTasks, []);
});

test('journal: a cut last line is ignored and cut off; a bad line elsewhere names file:line', async () => {
  const journalPath = join(scratch, 'cut.jsonl');
  await evaluateSamples(TASKS, SAMPLES.slice(0, 2), { executor: fakeExecutor(), journalPath });
  const whole = readFileSync(journalPath, 'utf8');
  writeFileSync(journalPath, `${whole}{"taskId":"A","sam`);
  const executor = fakeExecutor();
  const result = await evaluateSamples(TASKS, SAMPLES.slice(0, 2), { executor, journalPath });
  assert.equal(executor.requests.length, 0);
  assert.equal(result.reusedExecutions, 2);
  assert.equal(readFileSync(journalPath, 'utf8'), whole);
  writeFileSync(journalPath, `not json\n${whole}`);
  await assert.rejects(evaluateSamples(TASKS, SAMPLES, { executor, journalPath }), {
    name: 'UsageError',
    message: new RegExp(`^${journalPath}:1: journal line is not valid JSON`),
  });
});

test('an already aborted signal throws its reason before running anything', async () => {
  const executor = fakeExecutor();
  const reason = new Error('stop');
  await assert.rejects(
    evaluateSamples(TASKS, SAMPLES, { executor, signal: AbortSignal.abort(reason) }),
    (error) => error === reason,
  );
  assert.equal(executor.requests.length, 0);
});
