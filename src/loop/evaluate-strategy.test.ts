import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createMockBackend, type MockRequest } from '../models/index.js';
import { createExecutor, probeIsolation, type Executor } from '../sandbox/index.js';
import { loadExamples, type Task } from '../tasks/index.js';
import { evaluateStrategy, passAtTokens, type StrategyEvaluation } from './evaluate-strategy.js';
import type { SolveResult } from './solve.js';
import { solveTaskFromDataset } from './solve-task.js';

const skip = probeIsolation().level === null ? 'no OS sandbox on this machine (codeloop doctor says why)' : false;

test('passAtTokens by hand', () => {
  assert.deepEqual(
    passAtTokens(
      [
        { passed: true, tokens: 30 },
        { passed: false, tokens: 10 },
        { passed: true, tokens: 50 },
        { passed: true, tokens: 30 },
      ],
      [20],
    ),
    [
      { tokens: 10, passRate: 0 },
      { tokens: 20, passRate: 0 },
      { tokens: 30, passRate: 0.5 },
      { tokens: 50, passRate: 0.75 },
    ],
  );
});

/** The off-by-one mistakes of test/eval/examples-dataset.test.ts, for the Python and JavaScript tasks. */
const MUTANTS: Record<string, [string, string]> = {
  'examples/py/fizzbuzz': ['range(1, n + 1)', 'range(1, n)'],
  'examples/py/bisect-left': ['lo, hi = 0, len(xs)', 'lo, hi = 0, len(xs) - 1'],
  'examples/py/to-roman': ['while n >= value', 'while n > value'],
  'examples/py/primes-up-to': ['math.isqrt(n) + 1', 'math.isqrt(n)'],
  'examples/js/sum-range': ['i <= b', 'i < b'],
  'examples/js/rotate-right': [
    'arr.slice(n - shift).concat(arr.slice(0, n - shift))',
    'arr.slice(n - shift - 1).concat(arr.slice(0, n - shift - 1))',
  ],
  'examples/js/is-palindrome': ['let j = chars.length - 1', 'let j = chars.length - 2'],
  'examples/js/run-length-encode': ['String(j - i)', 'String(j - i + 1)'],
};

/**
 * A scripted model: the off-by-one program first; the canonical one after any feedback (a perfect repairer) or when
 * sampled at temperature 0.4 or more (a model that resampling helps only when warm).
 */
function scriptedModel(task: Task) {
  const [from, to] = MUTANTS[task.id] ?? ['', ''];
  const fence = (code: string): string => `\`\`\`${task.language}\n${task.prompt}${code}\`\`\`\n`;
  return createMockBackend({
    respond: (request: MockRequest, { options }) => {
      const feedback = request.kind === 'chat' && request.messages.length > 1;
      return feedback || (options.temperature ?? 0) >= 0.4
        ? fence(task.canonicalSolution ?? '')
        : fence((task.canonicalSolution ?? '').replace(from, to));
    },
  });
}

describe('evaluateStrategy on the examples dataset (Python and JavaScript tasks, scripted mock)', { skip }, () => {
  let executor: Executor;
  let tasks: Task[];
  before(async () => {
    executor = await createExecutor({ concurrency: 2 });
    tasks = (await loadExamples()).tasks.filter((task) => task.id in MUTANTS);
  });
  after(async () => {
    await executor.close();
  });

  test('repair vs resample: pass@k, pass rate, and pass rate against tokens at equal budget', async () => {
    const evaluations: Record<string, StrategyEvaluation> = {};
    const firstVisible = new Map<string, boolean>();
    const results: SolveResult[] = [];
    for (const strategy of ['repair', 'resample'] as const) {
      evaluations[strategy] = await evaluateStrategy({
        tasks: tasks.map(solveTaskFromDataset),
        model: (task) => scriptedModel(tasks.find((candidate) => candidate.id === task.id) as Task),
        executor,
        strategy,
        ks: [1],
        tokenGrid: [100, 1000],
        onRunEnd: (taskId, _run, result) => {
          results.push(result);
          firstVisible.set(taskId, result.attempts[0]?.visible_all_pass ?? false);
        },
      });
    }
    const repair = evaluations.repair as StrategyEvaluation;
    const resample = evaluations.resample as StrategyEvaluation;
    for (const evaluation of [repair, resample]) {
      assert.equal(evaluation.tasks, 8);
      // The curve rises with the budget and ends at the pass rate.
      const rates = evaluation.passAtTokens.map((point) => point.passRate);
      assert.deepEqual(
        rates,
        [...rates].sort((a, b) => a - b),
      );
      assert.equal(evaluation.passAtTokens.at(-1)?.passRate, evaluation.passRate);
      assert.equal(evaluation.passAtK['pass@1'], evaluation.passRate, 'with one run per task pass@1 is the pass rate');
    }
    // The mechanics, task by task: a mutant that its public examples catch is repaired in one round (2 programs) or
    // resampled until the temperature reaches 0.4 (3 programs); one they do not catch ends the loop at once, failed.
    for (const [index, task] of tasks.entries()) {
      const caught = firstVisible.get(task.id) === false;
      const repairRun = repair.perTask[index]?.runs[0];
      const resampleRun = resample.perTask[index]?.runs[0];
      assert.deepEqual(
        [repairRun?.passed, repairRun?.programAttempts],
        caught ? [true, 2] : [false, 1],
        `repair on ${task.id}`,
      );
      assert.deepEqual(
        [resampleRun?.passed, resampleRun?.programAttempts],
        caught ? [true, 3] : [false, 1],
        `resample on ${task.id}`,
      );
    }
    assert.ok(repair.passRate > 0, 'some mutants are caught by their public examples');
    assert.equal(repair.passRate, resample.passRate, 'the same tasks are solved in the end');
    assert.equal(repair.generatedTests, null, 'repair and resample generate no tests');
    // Tokens per run are what the attempts record.
    for (const result of results)
      assert.equal(
        result.usage.promptTokens + result.usage.completionTokens,
        result.attempts.reduce((sum, record) => sum + record.usage.prompt_tokens + record.usage.completion_tokens, 0),
      );
  });

  test('per-call settings reach every run: maxTokensPerCall, perTestMs and style', async () => {
    const task = tasks.find((candidate) => candidate.id === 'examples/py/fizzbuzz') as Task;
    const models: ReturnType<typeof scriptedModel>[] = [];
    const results: SolveResult[] = [];
    await evaluateStrategy({
      tasks: [solveTaskFromDataset(task)],
      model: () => {
        const model = createMockBackend({
          capabilities: { supportsChat: true },
          respond: () => task.canonicalSolution ?? '',
        });
        models.push(model);
        return model;
      },
      executor,
      strategy: 'repair',
      maxTokensPerCall: 77,
      perTestMs: 1234,
      style: 'base',
      runs: 2,
      onRunEnd: (_taskId, _run, result) => results.push(result),
    });
    assert.deepEqual(
      models.flatMap((model) => model.calls.map((call) => [call.request.kind, call.options.maxTokens])),
      [
        ['complete', 77],
        ['complete', 77],
      ],
    );
    for (const result of results) {
      assert.equal(result.passed, true, result.judgement.reason);
      assert.deepEqual(
        result.attempts.map((record) => [
          record.kind,
          record.model?.style,
          record.model?.max_tokens,
          record.repro.per_test_ms,
        ]),
        [
          ['sample', 'base', 77, 1234],
          ['select', undefined, undefined, 1234],
        ],
      );
    }
  });
});
