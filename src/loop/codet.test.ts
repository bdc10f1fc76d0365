import assert from 'node:assert/strict';
import { test } from 'node:test';
import { codetPassAtK, rankByDualAgreement, type DualAgreementInput, type RankedTask } from './codet.js';

/**
 * Known-answer test: a hand-written fixture (samples, generated tests, dual-execution results, ground truth) and the
 * figures microsoft/CodeT's `src/agreement.py` + `src/evaluation.py` give for it, worked out by hand from that code
 * (the working is in the comments). Both scorings are checked: CodeT's code `|tests| × sqrt(|solutions|)` and the
 * paper's `|tests| × |solutions|`, which rank task T1 differently.
 */

/** Which test cases each solution passes (the dual execution). */
function passTable(table: Record<string, string[]>): DualAgreementInput['passes'] {
  return (solution, testCase) => table[solution]?.includes(testCase) ?? false;
}

// T1. Samples a, a, c, a, b, d; ground truth: only c is correct. Two test samples; with the limit of 5 the second
// loses t8. Test counts: t1 ×2 (in both samples), t2..t7 ×1. a and b pass t1, t2 -> 3 test ids; c passes t1, t3..t7
// (and t8, never run) -> 7 test ids; d passes nothing and is left out.
// CodeT's code: {a,a,a,b} 3 × sqrt(4) = 6, {c} 7 × 1 = 7 -> c first. Paper: {a,a,a,b} 3 × 4 = 12 > 7 -> a first.
const T1: DualAgreementInput = {
  solutions: ['a', 'a', 'c', 'a', 'b', 'd'],
  testSamples: [
    ['t1', 't2', 't3'],
    ['t4', 't5', 't1', 't6', 't7', 't8'],
  ],
  passes: passTable({ a: ['t1', 't2', 't8'], b: ['t1', 't2'], c: ['t1', 't3', 't4', 't5', 't6', 't7', 't8'], d: [] }),
};
const T1_TRUTH = [
  { solution: 'a', passed: false },
  { solution: 'a', passed: false },
  { solution: 'c', passed: true },
  { solution: 'a', passed: false },
  { solution: 'b', passed: false },
  { solution: 'd', passed: false },
];

// T2. e passes u1, f passes u2, g nothing: two clusters of score 1 (either scoring), merged into one group {e, f} by
// the evaluation. pass@1 = 1 - 1/2 = 0.5; pass@2: one group drawn twice, 1 - (1/2)^2 = 0.75; pass@10: 1 - 2^-10.
const T2: DualAgreementInput = {
  solutions: ['e', 'f', 'g'],
  testSamples: [['u1', 'u2']],
  passes: passTable({ e: ['u1'], f: ['u2'], g: [] }),
};
const T2_TRUTH = [
  { solution: 'e', passed: true },
  { solution: 'f', passed: false },
  { solution: 'g', passed: false },
];

// T3. Nobody passes v1: no ranking, so CodeT falls back to pass@k of the samples (n = 3, c = 2): pass@1 = 2/3;
// pass@2 and pass@10 are 1 because its estimator returns 0 misses whenever n - c < k.
const T3: DualAgreementInput = { solutions: ['h', 'h', 'i'], testSamples: [['v1']], passes: passTable({}) };
const T3_TRUTH = [
  { solution: 'h', passed: true },
  { solution: 'h', passed: true },
  { solution: 'i', passed: false },
];

test('rankByDualAgreement: CodeT code scoring, with multiplicities and the 5-case limit', () => {
  assert.deepEqual(rankByDualAgreement(T1), [
    { solutions: ['c'], tests: ['t1', 't1', 't3', 't4', 't5', 't6', 't7'], score: 7 },
    { solutions: ['a', 'a', 'a', 'b'], tests: ['t1', 't1', 't2'], score: 6 },
  ]);
  assert.deepEqual(
    rankByDualAgreement({ ...T1, scoring: 'paper' }).map((cluster) => [cluster.solutions, cluster.score]),
    [
      [['a', 'a', 'a', 'b'], 12],
      [['c'], 7],
    ],
  );
  assert.deepEqual(rankByDualAgreement(T3), []);
});

test('codetPassAtK reproduces CodeT evaluation.py on the fixture (both scorings)', () => {
  const tasks = (scoring: 'codet' | 'paper'): RankedTask[] => [
    { ranked: rankByDualAgreement({ ...T1, scoring }), samples: T1_TRUTH },
    { ranked: rankByDualAgreement({ ...T2, scoring }), samples: T2_TRUTH },
    { ranked: rankByDualAgreement({ ...T3, scoring }), samples: T3_TRUTH },
  ];
  // pass@1: (1 + 0.5 + 2/3) / 3 = 0.7222; paper: (0 + 0.5 + 2/3) / 3 = 0.3889.
  // pass@2: (1 + 0.75 + 1) / 3 = 0.9167 for both. pass@10: (1 + (1 - 2^-10) + 1) / 3 = 0.99967 -> 0.9997.
  assert.deepEqual(codetPassAtK(tasks('codet')), { 'pass@1': 0.7222, 'pass@2': 0.9167, 'pass@10': 0.9997 });
  assert.deepEqual(codetPassAtK(tasks('paper')), { 'pass@1': 0.3889, 'pass@2': 0.9167, 'pass@10': 0.9997 });
});

test('without the 5-case limit the ranking changes (the limit is applied)', () => {
  // With every case kept, a passes t8 too: {a} 4 tests × sqrt(3), {b} 3 × 1, {c} 8 × 1.
  const ranked = rankByDualAgreement({ ...T1, limit: 100 });
  assert.deepEqual(
    ranked.map((cluster) => [cluster.solutions, cluster.tests.length]),
    [
      [['c'], 8],
      [['a', 'a', 'a'], 4],
      [['b'], 3],
    ],
  );
});
