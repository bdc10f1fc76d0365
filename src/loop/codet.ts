/**
 * CodeT's dual execution agreement (Chen et al. 2022, arxiv.org/abs/2207.10397), written from a reading of
 * microsoft/CodeT `src/agreement.py` and `src/evaluation.py` so that it returns what that code returns:
 *
 * - Solutions are counted with their multiplicity: a solution sampled three times is three members of its cluster.
 *   Test cases too: only the first `limit` cases of each test-generation sample count (CodeT's `--test_case_limit`,
 *   default 5), and a case generated twice counts twice.
 * - Only solutions that pass at least one test case, and test cases passed by at least one solution, take part.
 * - Solutions are grouped by the exact (multi)set of test cases they pass. A group is scored
 *   `|tests| × sqrt(|solutions|)` by CodeT's code (`scoring: 'codet'`), `|tests| × |solutions|` by the paper
 *   (`scoring: 'paper'`). Groups are ranked by score, highest first.
 * - pass@k of a ranking (`codetPassAtK`, CodeT's `get_result_of_sorted_solutions`): groups of equal score are merged;
 *   the top k merged groups are each drawn from once (if there are fewer than k, the extra draws go round-robin from
 *   the first); a draw from a group of n solutions with c correct misses with probability (n - c) / n. A task with no
 *   ranked group falls back to plain pass@k of its samples. The mean over tasks is rounded to 4 decimals.
 */

export type ClusterScoring = 'codet' | 'paper';

export interface DualAgreementInput {
  /** Sampled solutions in sample order; identical texts are one solution with a multiplicity. */
  solutions: readonly string[];
  /** Test cases of each test-generation sample, in order. */
  testSamples: readonly (readonly string[])[];
  /** Whether `solution` passes `testCase` (the dual execution result). */
  passes(solution: string, testCase: string): boolean;
  /** Test cases kept from the start of each test sample. Default 5 (CodeT's `--test_case_limit`). */
  limit?: number;
  /** Default `codet`. */
  scoring?: ClusterScoring;
}

export interface AgreementCluster {
  /** Member solutions, with multiplicity. */
  solutions: string[];
  /** Test cases every member passes, with multiplicity. */
  tests: string[];
  score: number;
}

function count(values: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}

/** Clusters of solutions by the test cases they pass, best first (ties keep the order of first appearance). */
export function rankByDualAgreement(input: DualAgreementInput): AgreementCluster[] {
  const { solutions, testSamples, passes, limit = 5, scoring = 'codet' } = input;
  const solutionCounts = count(solutions);
  const testCounts = count(testSamples.flatMap((sample) => sample.slice(0, limit)));
  const passed = new Map<string, string[]>();
  for (const solution of solutionCounts.keys()) {
    const passing = [...testCounts.keys()].filter((testCase) => passes(solution, testCase));
    if (passing.length > 0) passed.set(solution, passing);
  }
  const clusters = new Map<string, AgreementCluster>();
  for (const [solution, passing] of passed) {
    // The multiset of test cases, as CodeT's sorted tuple of expanded test ids.
    const tests = passing.flatMap((testCase) => Array<string>(testCounts.get(testCase) ?? 0).fill(testCase));
    const key = JSON.stringify(passing);
    const cluster = clusters.get(key) ?? { solutions: [], tests, score: 0 };
    cluster.solutions.push(...Array<string>(solutionCounts.get(solution) ?? 0).fill(solution));
    clusters.set(key, cluster);
  }
  for (const cluster of clusters.values()) {
    cluster.score =
      cluster.tests.length * (scoring === 'codet' ? Math.sqrt(cluster.solutions.length) : cluster.solutions.length);
  }
  // Array.prototype.sort is stable, as Python's sorted is.
  return [...clusters.values()].sort((a, b) => b.score - a.score);
}

/** comb(n - c, k) / comb(n, k), as CodeT's `_estimator` computes it (0 when n - c < k). */
function missProbability(n: number, c: number, k: number): number {
  if (n - c < k) return 0;
  let product = 1;
  for (let i = n - c + 1; i <= n; i++) product *= 1 - k / i;
  return product;
}

/** Merged groups and how many draws each gets in the top k (CodeT's `_turn_solution_scores_into_choose_count`). */
function draws(ranked: readonly AgreementCluster[], k: number): { solutions: string[]; draws: number }[] {
  const merged: { solutions: string[]; score: number }[] = [];
  for (const cluster of ranked) {
    const last = merged.at(-1);
    if (last !== undefined && last.score === cluster.score) last.solutions = [...last.solutions, ...cluster.solutions];
    else merged.push({ solutions: [...cluster.solutions], score: cluster.score });
  }
  if (merged.length >= k) return merged.slice(0, k).map((group) => ({ solutions: group.solutions, draws: 1 }));
  const counts = merged.map(() => 1);
  for (let i = 0; i < k - merged.length; i++) counts[i % merged.length]! += 1;
  return merged.map((group, index) => ({ solutions: group.solutions, draws: counts[index] ?? 1 }));
}

export interface RankedTask {
  /** The ranking of `rankByDualAgreement` (may be empty). */
  ranked: readonly AgreementCluster[];
  /** Every sample with its ground-truth verdict (hidden tests), in sample order, duplicates included. */
  samples: readonly { solution: string; passed: boolean }[];
}

/** pass@k of rankings against ground truth, as CodeT's evaluation computes it (mean over tasks, 4 decimals). */
export function codetPassAtK(tasks: readonly RankedTask[], ks: readonly number[] = [1, 2, 10]): Record<string, number> {
  const result: Record<string, number> = {};
  for (const k of ks) {
    const rates = tasks.map(({ ranked, samples }) => {
      const truth = new Map(samples.map((sample) => [sample.solution, sample.passed]));
      if (ranked.length === 0) {
        // CodeT's fallback: pass@k of the samples themselves, with its estimator (1 when n - c < k, even for n < k).
        const correct = samples.filter((sample) => sample.passed).length;
        return 1 - missProbability(samples.length, correct, k);
      }
      let allWrong = 1;
      for (const group of draws(ranked, k)) {
        const correct = group.solutions.filter((solution) => truth.get(solution) === true).length;
        allWrong *= missProbability(group.solutions.length, correct, 1) ** group.draws;
      }
      return 1 - allWrong;
    });
    const mean = rates.reduce((sum, rate) => sum + rate, 0) / Math.max(1, rates.length);
    result[`pass@${k}`] = Math.round(mean * 10_000) / 10_000;
  }
  return result;
}
