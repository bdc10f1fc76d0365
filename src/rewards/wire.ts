import type { RewardResult } from './types.js';

/** A RewardResult as it goes on the wire and into results.jsonl: snake_case, as trainers log it. */
export interface RewardResultJson {
  reward: number | null;
  pass_rate: number | null;
  verdict: RewardResult['verdict'];
  tests: RewardResult['tests'];
  infra_error: boolean;
  reason: string;
  format_reward: number;
  duration_ms: number;
}

export function rewardResultJson(result: RewardResult): RewardResultJson {
  return {
    reward: result.reward,
    pass_rate: result.passRate,
    verdict: result.verdict,
    tests: result.tests,
    infra_error: result.infraError,
    reason: result.reason,
    format_reward: result.formatReward,
    duration_ms: result.durationMs,
  };
}
