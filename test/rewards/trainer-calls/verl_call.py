"""Calls codeloop's verl compute_score the way verl's reward managers call a custom reward function.

Conventions from volcengine/verl (read at commit b178a3cd56f5):
- verl/trainer/ppo/reward.py, get_custom_reward_fn: the function is loaded from custom_reward_function.path with
  load_extern_object (a module made from the file path) and wrapped so that custom_reward_function.reward_kwargs are
  passed as keyword arguments on every call.
- verl/workers/reward_manager/naive.py, NaiveRewardManager.__call__: per response,
  compute_score(data_source=, solution_str=, ground_truth=, extra_info=) with extra_info the row's extra_info plus
  "num_turns" and "rollout_reward_scores"; a dict result must hold "score", and every key is collected per response.
- verl/workers/reward_manager/batch.py, BatchRewardManager.verify: compute_score(data_sources=, solution_strs=,
  ground_truths=, extra_infos=, **reward_kwargs) once for the batch.

Usage: python3 verl_call.py naive|batch PATH NAME < {"rows": [{data_source, response, reward_model, extra_info}],
"reward_kwargs": {...}}. Prints {"scores": [...]} or {"error": type, "message": ...}.
"""

import importlib.util
import json
import sys
from functools import partial


def load_extern_object(module_path, object_name):
    spec = importlib.util.spec_from_file_location("custom_module", module_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, object_name)


def _call_with_kwargs(raw_fn, extra_kwargs, *args, **kwargs):
    return raw_fn(*args, **{**kwargs, **extra_kwargs})


def main():
    manager, path, name = sys.argv[1:4]
    spec = json.load(sys.stdin)
    compute_score = partial(_call_with_kwargs, load_extern_object(path, name), dict(spec.get("reward_kwargs", {})))
    rows = spec["rows"]
    try:
        if manager == "naive":
            scores = []
            for row in rows:
                extra_info = dict(row.get("extra_info", {}))
                extra_info["num_turns"] = None
                extra_info["rollout_reward_scores"] = {}
                score = compute_score(data_source=row["data_source"], solution_str=row["response"],
                                      ground_truth=row["reward_model"]["ground_truth"], extra_info=extra_info)
                assert not isinstance(score, dict) or "score" in score, score
                scores.append(score)
        else:
            extras = [dict(row.get("extra_info", {}), rollout_reward_scores={}) for row in rows]
            scores = compute_score(data_sources=[row["data_source"] for row in rows],
                                   solution_strs=[row["response"] for row in rows],
                                   ground_truths=[row["reward_model"].get("ground_truth") for row in rows],
                                   extra_infos=extras)
            assert len(scores) == len(rows)
        for score in scores:
            assert isinstance(score["score"], float), score
        print(json.dumps({"scores": scores}))
    except Exception as error:  # what the trainer would see
        print(json.dumps({"error": type(error).__name__, "message": str(error)}))


main()
