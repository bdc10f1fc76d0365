import assert from 'node:assert/strict';
import { test } from 'node:test';
import { preferencePairs } from './preference-pairs.js';
import type { ScoredCompletion } from './records.js';

function scored(completion: string, passRate: number | null, extra: Partial<ScoredCompletion> = {}): ScoredCompletion {
  return {
    taskId: 't',
    prompt: 'def f():\n',
    completion,
    passRate,
    binary: false,
    verdict: passRate === 1 ? 'passed' : 'failed',
    infraError: false,
    source: `x:${completion}`,
    ...extra,
  };
}

const names = (pairs: ReturnType<typeof preferencePairs>): string[] =>
  pairs.map((pair) => `${pair.kind}:${pair.chosen.completion}>${pair.rejected.completion}`);

test("AceCoder's rule: chosen >= 0.8, gap >= 0.4, rejected > 0; every qualifying pair, in source order", () => {
  const completions = [
    scored('A', 1),
    scored('B', 0.5),
    scored('C', 0), // did not run far enough: never rejected
    scored('D', 0.8),
    scored('E', 0.3), // 0.7 - 0.3 is 0.39999999999999997: the rule must still see a gap of 0.4
    scored('F', 0.7),
    scored('G', 0.41),
  ];
  assert.deepEqual(names(preferencePairs(completions)), [
    'pass-rate:A>B',
    'pass-rate:A>E',
    'pass-rate:A>G',
    'pass-rate:D>E',
  ]);
  // F (0.7) is no chosen answer; F - E is exactly the gap but F is below 0.8.
  assert.deepEqual(names(preferencePairs([scored('F', 0.7), scored('E', 0.3)])), []);
  // The rule's knobs.
  assert.deepEqual(names(preferencePairs(completions, { minChosen: 0.7, minGap: 0.4 })), [
    'pass-rate:A>B',
    'pass-rate:A>E',
    'pass-rate:A>G',
    'pass-rate:D>E',
    'pass-rate:F>E',
  ]);
});

test('infra errors, flaky and unjudged completions are on neither side; duplicates count once', () => {
  const pairs = preferencePairs([
    scored('A', 1),
    scored('I', null, { infraError: true, verdict: 'infra-error' }),
    scored('L', null, { verdict: 'flaky' }),
    scored('B', 0.5),
    scored('B', 0.5),
    // A broken sandbox reported with a number must still not be a negative.
    scored('J', 0.5, { infraError: true, verdict: 'infra-error' }),
  ]);
  assert.deepEqual(names(pairs), ['pass-rate:A>B']);
});

test('only answers to the same prompt of the same task are compared', () => {
  const pairs = preferencePairs([
    scored('A', 1),
    scored('B', 0.5, { prompt: 'def g():\n' }),
    scored('C', 0.5, { taskId: 'u' }),
  ]);
  assert.deepEqual(pairs, []);
});

test('binary verdicts (eval runs): the rejected answer must have run and failed a test', () => {
  const binary = (completion: string, verdict: string): ScoredCompletion =>
    scored(completion, verdict === 'passed' ? 1 : 0, { binary: true, verdict });
  const pairs = preferencePairs([
    binary('A', 'passed'),
    binary('B', 'failed'),
    binary('C', 'compile-error'),
    binary('D', 'timed-out'),
    binary('E', 'crashed'),
  ]);
  assert.deepEqual(names(pairs), ['pass-rate:A>B']);
});

test('repair pairs: the fixed program against the broken one it was given, under the repair prompt', () => {
  const attempt = (key: string, parentKey: string | null, kind: 'sample' | 'repair') => ({
    key,
    parentKey,
    turn: parentKey === null ? 0 : 1,
    kind,
    feedback: parentKey === null ? null : 'assert add(1, 2) == 3 failed: got -1',
  });
  const repairPrompt = [
    { role: 'user' as const, content: 'task' },
    { role: 'assistant' as const, content: 'broken' },
    { role: 'user' as const, content: 'feedback' },
  ];
  const broken = scored('broken', 0, { attempt: attempt('0/a0', null, 'sample') });
  const fixed = scored('fixed', 1, { prompt: repairPrompt, attempt: attempt('0/a1', '0/a0', 'repair') });
  const halfFixed = scored('half', 0.5, { prompt: repairPrompt, attempt: attempt('0/a2', '0/a1', 'repair') });
  const infraParent = scored('lost', null, { infraError: true, attempt: attempt('1/a0', null, 'sample') });
  const fixedAfterInfra = scored('fixed2', 1, { prompt: repairPrompt, attempt: attempt('1/a1', '1/a0', 'repair') });
  const pairs = preferencePairs([broken, fixed, halfFixed, infraParent, fixedAfterInfra]);
  // a2 (0.5) repairs a1 (1.0): worse, no pair. a1 of solve 1 repairs an infra error: no negative.
  // fixed and fixed2 share a prompt with half: pass-rate pairs fixed>half and fixed2>half.
  assert.deepEqual(names(pairs), ['pass-rate:fixed>half', 'pass-rate:fixed2>half', 'repair:fixed>broken']);
  const repair = pairs.find((pair) => pair.kind === 'repair');
  assert.deepEqual(repair?.prompt, repairPrompt);
});
