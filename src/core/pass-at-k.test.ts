import assert from 'node:assert/strict';
import { test } from 'node:test';
import { passAtK, passAtKForTask } from './pass-at-k.js';

function close(actual: number, expected: number, message?: string): void {
  assert.ok(Math.abs(actual - expected) < 1e-12, `${message ?? ''} ${actual} ≠ ${expected}`);
}

function binomial(n: number, k: number): number {
  let value = 1;
  for (let i = 1; i <= k; i++) value = (value * (n - k + i)) / i;
  return value;
}

test('known values of the per-task estimator', () => {
  close(passAtKForTask(5, 2, 1), 0.4);
  close(passAtKForTask(10, 3, 5), 1 - binomial(7, 5) / binomial(10, 5)); // 1 - 21/252 = 0.91666…
  close(passAtKForTask(10, 3, 5), 11 / 12);
  assert.equal(passAtKForTask(10, 0, 5), 0);
  assert.equal(passAtKForTask(10, 8, 5), 1, 'n - c < k: every 5-subset holds a pass');
  assert.equal(passAtKForTask(4, 1, 2), 0.5); // 1 - C(3,2)/C(4,2) = 1 - 3/6
  assert.equal(passAtKForTask(3, 0, 2), 0);
  assert.equal(passAtKForTask(1, 1, 1), 1);
  close(passAtKForTask(200, 1, 1), 1 / 200);
});

test('the product form agrees with 1 - C(n-c,k)/C(n,k) where the binomials are still exact', () => {
  for (const [n, c, k] of [
    [20, 7, 3],
    [30, 1, 10],
    [15, 14, 1],
    [25, 5, 20],
  ] as const) {
    close(passAtKForTask(n, c, k), 1 - binomial(n - c, k) / binomial(n, k), `n=${n} c=${c} k=${k}`);
  }
});

test('the product form stays finite where the binomials overflow (n = 2000)', () => {
  const value = passAtKForTask(2000, 3, 100);
  assert.ok(Number.isFinite(value) && value > 0 && value < 1);
  close(value, 1 - (1900 * 1899 * 1898) / (2000 * 1999 * 1998));
});

test('passAtK is the mean over tasks; human-eval example samples give pass@1 = 0.5', () => {
  close(
    passAtK(
      [
        { n: 2, c: 1 },
        { n: 2, c: 1 },
        { n: 2, c: 1 },
      ],
      [1],
    )['pass@1'] ?? Number.NaN,
    0.5,
  );
  const result = passAtK(
    [
      { n: 5, c: 2 },
      { n: 10, c: 3 },
    ],
    [1, 5],
  );
  close(result['pass@1'] ?? Number.NaN, (0.4 + 0.3) / 2);
  close(result['pass@5'] ?? Number.NaN, (1 + 11 / 12) / 2);
});

test("a k is reported only when every task has n ≥ k (not MultiPL-E's 1.0 for n < k)", () => {
  const result = passAtK(
    [
      { n: 20, c: 0 },
      { n: 10, c: 0 },
    ],
    [1, 10, 100],
  );
  assert.deepEqual(Object.keys(result), ['pass@1', 'pass@10']);
  assert.equal(result['pass@10'], 0);
  assert.deepEqual(passAtK([{ n: 1, c: 1 }], [10, 100]), {});
  assert.deepEqual(Object.keys(passAtK([{ n: 10, c: 5 }], [10, 1, 10])), ['pass@10', 'pass@1']);
});

test('bad counts and ks name the value and the rule', () => {
  assert.throws(() => passAtK([], [1]), {
    name: 'UsageError',
    message: 'pass@k needs at least one task; no task counts were given.',
  });
  assert.throws(
    () =>
      passAtK(
        [
          { n: 3, c: 1 },
          { n: 4, c: 5 },
        ],
        [1],
      ),
    {
      name: 'UsageError',
      message: 'pass@k: task 1 has n=4, c=5; counts must be integers with n ≥ 1 and 0 ≤ c ≤ n.',
    },
  );
  assert.throws(() => passAtK([{ n: 3, c: 1 }], [0]), {
    message: 'pass@k: k=0 is not a positive integer; use values such as 1, 10, 100.',
  });
  assert.throws(() => passAtK([{ n: 3, c: 1 }], [1.5]), { message: /k=1\.5 is not a positive integer/ });
});
