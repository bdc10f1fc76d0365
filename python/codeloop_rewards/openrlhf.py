"""OpenRLHF reward function backed by `codeloop rewards serve`.

OpenRLHF loads this file by path (`--reward.remote_url /path/to/codeloop_rewards/openrlhf.py`) and calls
`reward_func(queries, prompts, labels)` from a worker thread (openrlhf/utils/agent.py,
SingleTurnAgentExecutor._fetch_rewards_via_func). `queries` are prompt + response decoded with special tokens kept,
`prompts` the prompts, `labels` the `--data.label_key` column: the row as JSON text, as `codeloop export --format
openrlhf` writes it. It returns {"rewards", "scores", "extra_logs"}: `scores` (the pass rate, 0 to 1) drive dynamic
filtering.

Configuration is by environment, since OpenRLHF passes no options: CODELOOP_REWARDS_URL, CODELOOP_REWARDS_API_KEY,
CODELOOP_REWARDS_MODE (see client.py), CODELOOP_REWARDS_ON_INFRA_ERROR (default "raise"; a number scores a sandbox
failure that way) and CODELOOP_REWARDS_END_TOKENS (comma-separated end-of-turn tokens cut from a response's end).
"""

import os

if __package__:
    from .client import RewardsClient, RewardsError, parse_row
else:  # loaded from its file path, as OpenRLHF does
    import sys

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from codeloop_rewards.client import RewardsClient, RewardsError, parse_row

DEFAULT_END_TOKENS = ("<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|end|>", "<end_of_turn>", "</s>")

_client = None


def _end_tokens():
    configured = os.environ.get("CODELOOP_REWARDS_END_TOKENS")
    if configured is None:
        return DEFAULT_END_TOKENS
    return tuple(token for token in configured.split(",") if token)


def response_of(query, prompt):
    """The response in a query: what follows the prompt, without trailing end-of-turn tokens."""
    if query.startswith(prompt):
        response = query[len(prompt):]
    elif prompt and prompt in query:
        response = query[query.index(prompt) + len(prompt):]
    else:
        response = query
    tokens = _end_tokens()
    trimmed = True
    while trimmed:
        trimmed = False
        stripped = response.rstrip()
        for token in tokens:
            if stripped.endswith(token):
                response = stripped[:-len(token)]
                trimmed = True
    return response


def reward_func(queries, prompts, labels, **kwargs):
    global _client
    if _client is None:
        _client = RewardsClient()
    on_infra_error = os.environ.get("CODELOOP_REWARDS_ON_INFRA_ERROR", "raise")
    items = [{"row": parse_row(label, f"labels[{index}]"), "completion": response_of(query, prompt)}
             for index, (query, prompt, label) in enumerate(zip(queries, prompts, labels))]
    results = _client.score(items)
    rewards, scores = [], []
    for result in results:
        reward = result.get("reward")
        if reward is None:
            if on_infra_error == "raise":
                raise RewardsError(
                    f"codeloop could not score a response ({result.get('verdict')}: {result.get('reason')}); "
                    "set CODELOOP_REWARDS_ON_INFRA_ERROR to a number to score sandbox failures that way instead.")
            reward = float(on_infra_error)
        pass_rate = result.get("pass_rate")
        rewards.append(float(reward))
        scores.append(float(pass_rate) if pass_rate is not None else min(1.0, max(0.0, float(reward))))
    return {
        "rewards": rewards,
        "scores": scores,
        "extra_logs": {
            "codeloop_format_reward": [float(result.get("format_reward") or 0.0) for result in results],
            "codeloop_infra_error": [float(bool(result.get("infra_error"))) for result in results],
        },
    }
