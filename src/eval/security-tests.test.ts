import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveLimits, type ExecutionResult } from '../sandbox/index.js';
import type { Task } from '../tasks/index.js';
import type { SampleResult } from './evaluate.js';
import { securityMetrics } from './security-metrics.js';
import { parseSecurityRun, securityRequest } from './security-tests.js';

function task(id: string, cwe: string, extra: Partial<NonNullable<Task['security']>> = {}): Task {
  return {
    id,
    dataset: 'cweval-py',
    language: 'python',
    prompt: '',
    tests: '',
    stopSequences: [],
    harness: 'exit-code',
    layout: 'security-tests',
    security: {
      cwe,
      taskFile: 't_task.py',
      testFile: { name: 't_test.py', text: '' },
      pytestIni: '',
      functionalityTests: 2,
      securityTests: 1,
      ...extra,
    },
  };
}

function run(stdout: string, verdict: ExecutionResult['verdict'] = 'passed'): ExecutionResult {
  return {
    verdict,
    reason: verdict,
    exitCode: 0,
    signal: null,
    durationMs: 1,
    cpuMs: 1,
    peakMemoryKiB: null,
    stdout,
    stderr: '',
    stdoutBytes: stdout.length,
    stderrBytes: 0,
    isolation: 'none',
    limits: resolveLimits('python', {}),
  };
}

const NONCE = 'n0nce';
const line = (tests: object[], extra: object = {}): string =>
  `${NONCE} ${JSON.stringify({ exit: 1, killed: false, report: 'ok', tests, output: '', ...extra })}\n`;
const passed = (name: string, kind: string) => ({ name, kind, status: 'passed', message: '' });

test('functional and secure when every case of each kind passed; _unsafe oracle cases do not count', () => {
  const outcome = parseSecurityRun(
    task('t', 'CWE-078'),
    run(
      line([
        passed('test_f[a]', 'functionality'),
        passed('test_f[b]', 'functionality'),
        passed('test_f[c]', 'security'),
        { name: 'test_f_unsafe[c]', kind: 'security', status: 'failed', message: 'x' },
      ]),
    ),
    NONCE,
  );
  assert.equal(outcome.verdict, 'passed');
  assert.equal(outcome.security?.functional, true);
  assert.equal(outcome.security?.secure, true);
  assert.equal(outcome.security?.failedAttack, undefined);
});

test('a case missing from the report is not-run: the sample is neither functional nor secure', () => {
  const outcome = parseSecurityRun(task('t', 'CWE-078'), run(line([passed('test_f[a]', 'functionality')])), NONCE);
  assert.equal(outcome.verdict, 'failed');
  assert.equal(outcome.security?.functional, false);
  assert.equal(outcome.security?.secure, false);
  assert.deepEqual(
    outcome.security?.tests.filter((test) => test.status === 'not-run').map((test) => test.kind),
    ['functionality', 'security'],
  );
});

test('a failed attack is named; a functionality timeout makes the verdict timed-out', () => {
  const outcome = parseSecurityRun(
    task('t', 'CWE-078'),
    run(
      line([
        passed('test_f[a]', 'functionality'),
        { name: 'test_f[b]', kind: 'functionality', status: 'timed-out', message: 'Failed: Timeout >3.0s' },
        { name: 'test_f[attack]', kind: 'security', status: 'failed', message: 'assert injected' },
      ]),
    ),
    NONCE,
  );
  assert.equal(outcome.verdict, 'timed-out');
  assert.equal(outcome.security?.failedAttack?.name, 'test_f[attack]');
  assert.equal(outcome.security?.secure, false);
});

test('no result line (the driver was stopped) fails the sample; a forged line without the nonce is ignored', () => {
  const forged = `forged ${JSON.stringify({ report: 'ok', tests: [passed('test_f[a]', 'functionality')] })}\n`;
  const outcome = parseSecurityRun(task('t', 'CWE-078'), run(forged, 'memory-exceeded'), NONCE);
  assert.equal(outcome.verdict, 'memory-exceeded');
  assert.equal(outcome.security?.functional, false);
  assert.match(outcome.reason, /without a result/);
  assert.equal(parseSecurityRun(task('t', 'CWE-078'), run('', 'infra-error'), NONCE).verdict, 'infra-error');
});

test('the request carries the task file, the test file and the driver, never the dataset paths', () => {
  const { request, nonce } = securityRequest(task('t', 'CWE-078'), 'def f(): pass\n');
  assert.equal(request.language, 'python');
  assert.ok(request.code.includes(nonce));
  assert.ok(request.code.includes('"not _unsafe"'));
  assert.ok(request.code.includes('t_task.py'));
});

function result(taskId: string, verdict: SampleResult['verdict'], secure: boolean): SampleResult {
  const tally = { passed: 0, total: 1 };
  return {
    taskId,
    index: 0,
    verdict,
    reason: '',
    programSha256: '',
    fromJournal: false,
    security: {
      functional: verdict === 'passed',
      secure,
      functionality: tally,
      security: tally,
      tests: [],
    },
  };
}

test('func@k and func-sec@k per language and CWE; a vacuous task is scored but not counted', () => {
  const tasks = [task('a', 'CWE-078'), task('b', 'CWE-079'), task('c', 'CWE-078', { vacuous: 'tests never run it' })];
  const metrics = securityMetrics(
    tasks,
    {
      samples: [
        result('a', 'passed', true),
        result('a', 'passed', false),
        result('b', 'failed', true),
        result('b', 'passed', false),
        result('c', 'passed', true),
        result('c', 'passed', true),
      ],
      excludedTasks: [],
    },
    [1, 2],
  );
  assert.ok(metrics !== undefined);
  assert.equal(metrics.tasks, 2);
  assert.deepEqual(metrics.funcAtK, { 'pass@1': 0.75, 'pass@2': 1 });
  assert.deepEqual(metrics.funcSecAtK, { 'pass@1': 0.25, 'pass@2': 0.5 });
  assert.deepEqual(metrics.byCwe['CWE-078']?.funcSecAtK, { 'pass@1': 0.5, 'pass@2': 1 });
  assert.deepEqual(metrics.byCwe['CWE-079']?.funcSecAtK, { 'pass@1': 0, 'pass@2': 0 });
  assert.equal(metrics.byLanguage['python']?.tasks, 2);
  assert.deepEqual(metrics.notCounted, [{ taskId: 'c', reason: 'tests never run it' }]);
  assert.deepEqual(metrics.samples, { total: 6, functional: 5, secure: 4, functionalAndSecure: 3 });
});
