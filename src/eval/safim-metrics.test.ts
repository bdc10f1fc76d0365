import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LoadedDataset, Task } from '../tasks/index.js';
import { safimLabel, safimMetrics, type SafimSample, type SafimSampleResult } from './safim-metrics.js';

function task(
  id: string,
  layout: 'io-tests' | 'syntax-match',
  sourceLanguage: Task['sourceLanguage'] = 'python',
): Task {
  return {
    id,
    dataset: layout === 'io-tests' ? 'safim-control' : 'safim-api',
    language: 'python',
    sourceLanguage,
    prompt: '',
    tests: '',
    canonicalSolution: 'i < n:',
    template: { text: 'while {{completion}}\n    i += 1\n', placeholder: '{{completion}}' },
    ...(layout === 'io-tests' ? { ioTests: { cases: [{ input: '', outputs: [''] }], timeoutMs: 6000 } } : {}),
    stopSequences: [],
    harness: 'exit-code',
    layout,
  };
}

const control: LoadedDataset = {
  name: 'safim-control',
  tasks: ['a', 'b', 'c', 'd', 'e', 'f'].map((id) => task(id, 'io-tests')),
  files: [],
  knownBroken: {},
  omitted: [
    {
      language: 'cpp',
      count: 4881,
      reason: 'cpp is judged by compiling and running it (ExecEval), which codeloop cannot do',
    },
  ],
};

function scored(
  entries: [taskId: string, completion: string, verdict: SafimSampleResult['verdict'], reason: string][],
): [SafimSample[], SafimSampleResult[]] {
  return [
    entries.map(([taskId, completion]) => ({ taskId, completion })),
    entries.map(([taskId, , verdict, reason]) => ({ taskId, verdict, reason })),
  ];
}

test('safimMetrics: pass@1 over every task (missing ones fail, infra-errors are left out), failures by SAFIM label', () => {
  const [samples, results] = scored([
    ['a', 'i < m:', 'passed', 'exited with code 0'],
    ['b', 'i < n:', 'failed', 'exited with code 1 (IoTestsError: TIME_LIMIT_EXCEEDED on test 1 of 1)'], // the ground truth
    ['c', 'j < n:', 'failed', 'exited with code 1 (IoTestsError: WRONG_ANSWER on test 1 of 3)'],
    ['d', '  \n', 'failed', 'exited with code 1 (IoTestsError: COMPILATION_ERROR)'],
    ['e', 'x', 'infra-error', 'the sandbox could not run the program: …'],
  ]);
  const metrics = safimMetrics(control, samples, results);
  assert.deepEqual(metrics, {
    category: 'control',
    passAt1: 2 / 5,
    tasks: 5,
    byLanguage: { python: { tasks: 5, passAt1: 2 / 5 } },
    failures: {
      EMPTY: 1,
      COMPILATION_ERROR: 1,
      RUNTIME_ERROR: 0,
      MEMORY_LIMIT_EXCEEDED: 0,
      TIME_LIMIT_EXCEEDED: 0,
      WRONG_ANSWER: 0,
      MIXED: 1,
    },
    missingTasks: ['f'],
    excludedTasks: ['e'],
    groundTruthPasses: 1,
    notScored: control.omitted,
  });
});

test('safimMetrics: several samples per task give the mean pass rate; languages are reported apart', () => {
  const api: LoadedDataset = {
    name: 'safim-api',
    tasks: [task('p', 'syntax-match'), task('j', 'syntax-match', 'java'), task('k', 'syntax-match', 'cpp')],
    files: [],
    knownBroken: {},
  };
  const [samples, results] = scored([
    ['p', 'f(x)', 'passed', 'exited with code 0'],
    ['p', 'f(', 'failed', 'exited with code 1 (SyntaxMatchError: COMPILATION_ERROR)'],
    ['j', 'g(x)', 'failed', 'exited with code 1 (SyntaxMatchError: WRONG_ANSWER)'],
    ['k', 'h(x)', 'passed', 'exited with code 0'],
  ]);
  const metrics = safimMetrics(api, samples, results);
  assert.equal(metrics.passAt1, (0.5 + 0 + 1) / 3);
  assert.deepEqual(metrics.byLanguage, {
    cpp: { tasks: 1, passAt1: 1 },
    java: { tasks: 1, passAt1: 0 },
    python: { tasks: 1, passAt1: 0.5 },
  });
  assert.deepEqual(Object.keys(metrics.byLanguage), ['cpp', 'java', 'python']);
  assert.equal(metrics.failures.COMPILATION_ERROR, 1);
  assert.equal(metrics.failures.WRONG_ANSWER, 1);
  assert.deepEqual(metrics.notScored, []);
});

test('safimLabel: SAFIM evaluate.py and show_detailed_results.py labels', () => {
  const io = task('a', 'io-tests');
  assert.equal(safimLabel(io, 'passed', 'exited with code 0', 'i < m:'), 'PASSED');
  assert.equal(
    safimLabel(io, 'failed', 'exited with code 1 (IoTestsError: WRONG_ANSWER on test 3 of 3)', 'x'),
    'WRONG_ANSWER',
  );
  assert.equal(
    safimLabel(io, 'failed', 'exited with code 1 (IoTestsError: RUNTIME_ERROR on test 2 of 3)', 'x'),
    'MIXED',
  );
  assert.equal(
    safimLabel(io, 'failed', 'exited with code 1 (IoTestsError: WRONG_ANSWER on test 1 of 1)', ' \t'),
    'EMPTY',
  );
  assert.equal(safimLabel(io, 'timed-out', 'killed at the 19000 ms wall-clock limit', 'x'), 'TIME_LIMIT_EXCEEDED');
  assert.equal(
    safimLabel(io, 'failed', 'exited with code 1 (IoTestsError: TIME_LIMIT_EXCEEDED on test 1 of 1)', 'i < n:'),
    'PASSED',
  );
  assert.equal(
    safimLabel(io, 'failed', 'exited with code 1 (IoTestsError: TIME_LIMIT_EXCEEDED on test 1 of 1)'),
    'TIME_LIMIT_EXCEEDED',
  );
  const api = task('p', 'syntax-match');
  assert.equal(safimLabel(api, 'passed', 'exited with code 0', 'f(x)'), 'EXACT_MATCH');
  assert.equal(safimLabel(api, 'failed', 'exited with code 1 (SyntaxMatchError: WRONG_ANSWER)', ''), 'EMPTY');
});

test('safimMetrics refuses other datasets and results that do not line up with the samples', () => {
  assert.throws(() => safimMetrics({ ...control, name: 'humaneval' }, [], []), {
    name: 'UsageError',
    message: 'SAFIM metrics are for safim-block, safim-control and safim-api, not "humaneval".',
  });
  assert.throws(() => safimMetrics(control, [{ taskId: 'a' }], []), {
    name: 'UsageError',
    message: 'safimMetrics needs one result per sample: got 1 samples and 0 results.',
  });
  assert.throws(() => safimMetrics(control, [{ taskId: 'a' }], [{ taskId: 'zz', verdict: 'passed', reason: '' }]), {
    name: 'UsageError',
    message: 'Result 0 is for task "zz", which is not the sample\'s task or not a task of safim-control.',
  });
});
