"""Python adapters for codeloop's execution reward service (`codeloop rewards serve`), standard library only.

One small module per trainer: `codeloop_rewards.trl` (TRL GRPO/RLOO reward functions), `codeloop_rewards.verl`
(`compute_score`), `codeloop_rewards.openrlhf` (`reward_func`). All of them call the service over HTTP through
`codeloop_rewards.client.RewardsClient`. See docs/rewards.md ("Trainers").
"""

from .client import RewardsAuthError, RewardsClient, RewardsError, RewardsRequestError

__all__ = ["RewardsAuthError", "RewardsClient", "RewardsError", "RewardsRequestError"]
