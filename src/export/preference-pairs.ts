import { promptKey, type ExportPrompt, type ScoredCompletion } from './records.js';

/**
 * When two completions make a preference pair. The defaults are AceCoder's rule for its reward-model pairs (Zeng et al.
 * 2025, arxiv.org/abs/2502.01718: programs for the same question whose test pass rates differ enough).
 */
export interface PairRule {
  /** The chosen completion passes at least this share of the tests. Default 0.8. */
  minChosen?: number;
  /** The chosen one's pass rate exceeds the rejected one's by at least this. Default 0.4. */
  minGap?: number;
}

export const DEFAULT_PAIR_RULE: Required<PairRule> = { minChosen: 0.8, minGap: 0.4 };

/** Pass rates are fractions k/n: 0.7 − 0.3 is 0.39999999999999997 in floating point, and must count as 0.4. */
const TOLERANCE = 1e-9;

/** A chosen and a rejected answer to the same prompt. */
export interface PreferencePair {
  taskId: string;
  prompt: ExportPrompt;
  chosen: ScoredCompletion;
  rejected: ScoredCompletion;
  /**
   * `pass-rate`: two answers to the same prompt, by the rule above. `repair`: a repair that fixed the program, against
   * the broken program it was given, both as answers to the repair's prompt (the task, the broken program and the
   * feedback): the same prompt and feedback, fixed versus broken.
   */
  kind: 'pass-rate' | 'repair';
}

/** A completion that may stand on either side of a pair: it has a pass rate, and the sandbox did not break. */
function judged(completion: ScoredCompletion): completion is ScoredCompletion & { passRate: number } {
  return !completion.infraError && completion.passRate !== null;
}

/**
 * The rejected side of a pass-rate pair must have run: pass rate > 0 (AceCoder). An eval run's verdicts are binary,
 * so a failing program's pass rate is 0 even when it ran and got most tests right; there the nearest test is the
 * verdict `failed` (it ran, and a test failed), which leaves out programs that did not compile, crashed or timed out.
 */
function ran(completion: ScoredCompletion & { passRate: number }): boolean {
  return completion.binary ? completion.verdict === 'failed' : completion.passRate > 0;
}

/**
 * Preference pairs from scored completions, in source order.
 * - Pass-rate pairs: completions given the same prompt for the same task (identical texts counted once) pair up
 *   as (chosen, rejected) when chosen ≥ `minChosen`, chosen − rejected ≥ `minGap`, and the rejected one ran (see
 *   `ran`). Every qualifying pair is kept, as AceCoder does.
 * - Repair pairs (solve runs): a repair with pass rate ≥ `minChosen` whose parent's pass rate is at least `minGap`
 *   lower gives (repair, parent) under the repair's prompt. The parent may score 0: it is the program the feedback is
 *   about.
 * Completions without a pass rate (infra errors, flaky or unjudged ones) are never on either side.
 */
export function preferencePairs(completions: readonly ScoredCompletion[], rule: PairRule = {}): PreferencePair[] {
  const { minChosen, minGap } = { ...DEFAULT_PAIR_RULE, ...rule };
  const pairs: PreferencePair[] = [];
  const groups = new Map<string, (ScoredCompletion & { passRate: number })[]>();
  for (const completion of completions) {
    if (!judged(completion)) continue;
    const key = promptKey(completion.taskId, completion.prompt);
    const group = groups.get(key) ?? [];
    if (!group.some((other) => other.completion === completion.completion)) group.push(completion);
    groups.set(key, group);
  }
  for (const group of groups.values()) {
    for (const chosen of group) {
      if (chosen.passRate < minChosen - TOLERANCE) continue;
      for (const rejected of group) {
        if (rejected === chosen || !ran(rejected) || chosen.passRate - rejected.passRate < minGap - TOLERANCE) continue;
        pairs.push({ taskId: chosen.taskId, prompt: chosen.prompt, chosen, rejected, kind: 'pass-rate' });
      }
    }
  }
  const byKey = new Map(
    completions.flatMap((completion) => (completion.attempt ? [[completion.attempt.key, completion] as const] : [])),
  );
  for (const repair of completions) {
    if (repair.attempt?.kind !== 'repair' || repair.attempt.parentKey === null || !judged(repair)) continue;
    const parent = byKey.get(repair.attempt.parentKey);
    if (parent === undefined || !judged(parent)) continue;
    if (repair.passRate < minChosen - TOLERANCE || repair.passRate - parent.passRate < minGap - TOLERANCE) continue;
    if (parent.completion === repair.completion) continue;
    pairs.push({ taskId: repair.taskId, prompt: repair.prompt, chosen: repair, rejected: parent, kind: 'repair' });
  }
  return pairs;
}
