"""verl custom reward function backed by `codeloop rewards serve`.

verl's reward managers call `compute_score(data_source=..., solution_str=..., ground_truth=..., extra_info=...,
**reward_kwargs)` per response (verl/workers/reward_manager/naive.py, NaiveRewardManager.__call__; the keyword
arguments come from `custom_reward_function.reward_kwargs`, verl/trainer/ppo/reward.py, get_custom_reward_fn), and
the batch manager calls `compute_score(data_sources=, solution_strs=, ground_truths=, extra_infos=)` once per batch
(verl/workers/reward_manager/batch.py). A float or a dict with "score" comes back.

    custom_reward_function.path=$CODELOOP/python/codeloop_rewards/verl.py
    custom_reward_function.name=compute_score          # or compute_score_batch with reward_model.reward_manager=batch
    +custom_reward_function.reward_kwargs.url=http://127.0.0.1:8177

`ground_truth` is the row (JSON text or a dict): what `codeloop export --format verl` writes, or verl's own code
ground truth ({"inputs", "outputs", "fn_name"?} or {"assert_case"}), whose language is taken from
`extra_info["language"]` (default python).

verl has no way to leave a response unscored: a number must come back. When the sandbox fails (the service's reward
is None), this raises by default instead of scoring the response 0; `on_infra_error=<float>` scores it that way.
"""

import asyncio

if __package__:
    from .client import RewardsClient, RewardsError, parse_row
else:  # loaded from its file path, as verl's load_extern_object does
    import os
    import sys

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from codeloop_rewards.client import RewardsClient, RewardsError, parse_row

_clients = {}


def _client(url, api_key, mode):
    key = (url, api_key, mode)
    if key not in _clients:
        _clients[key] = RewardsClient(url=url, api_key=api_key, mode=mode)
    return _clients[key]


def _row(ground_truth, extra_info):
    row = parse_row(ground_truth, "ground_truth")
    language = extra_info.get("language") if isinstance(extra_info, dict) else None
    if isinstance(language, str) and "language" not in row:
        if any(key in row for key in ("inputs", "outputs", "assert_case")):
            row = {"ground_truth": row, "language": language}
        elif "ground_truth" in row or "verification_info" in row:
            row = {**row, "language": language}
    return row


def _score(result, on_infra_error):
    reward = result.get("reward")
    if reward is None:
        if on_infra_error == "raise":
            raise RewardsError(
                f"codeloop could not score a response ({result.get('verdict')}: {result.get('reason')}). verl cannot "
                "leave a response out, and scoring it 0 would count a sandbox failure as wrong code; pass "
                "on_infra_error=<float> in custom_reward_function.reward_kwargs to score it that way instead.")
        reward = float(on_infra_error)
    pass_rate = result.get("pass_rate")
    return {
        "score": float(reward),
        # verl averages every numeric key over the batch, so each key is a number on every response.
        "pass_rate": float(pass_rate) if pass_rate is not None else float(reward),
        "format_reward": float(result.get("format_reward") or 0.0),
        "infra_error": bool(result.get("infra_error")),
        "verdict": str(result.get("verdict")),
    }


def compute_score(data_source, solution_str, ground_truth, extra_info=None, url=None, api_key=None, mode=None,
                  on_infra_error="raise", **kwargs):
    """One response's score: {"score", "pass_rate", "format_reward", "infra_error", "verdict"}."""
    item = {"row": _row(ground_truth, extra_info), "completion": solution_str}
    return _score(_client(url, api_key, mode).score([item])[0], on_infra_error)


async def compute_score_async(data_source, solution_str, ground_truth, extra_info=None, **kwargs):
    """compute_score as a coroutine, for verl's asynchronous reward loop."""
    return await asyncio.to_thread(compute_score, data_source, solution_str, ground_truth, extra_info, **kwargs)


def compute_score_batch(data_sources, solution_strs, ground_truths, extra_infos=None, url=None, api_key=None,
                        mode=None, on_infra_error="raise", **kwargs):
    """Scores for a whole batch in one request per `batch_size` items (verl's BatchRewardManager)."""
    extra_infos = list(extra_infos) if extra_infos is not None else [None] * len(solution_strs)
    items = [{"row": _row(truth, extra), "completion": solution}
             for solution, truth, extra in zip(solution_strs, ground_truths, extra_infos)]
    return [_score(result, on_infra_error) for result in _client(url, api_key, mode).score(items)]
