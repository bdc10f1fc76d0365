"""Calls a codeloop TRL reward function the way TRL's GRPOTrainer calls reward functions.

Convention from huggingface/trl, trl/trainer/grpo_trainer.py, GRPOTrainer._calculate_rewards (read at commit
f2cd57710ae3): every dataset column but "prompt", "completion" and "completion_ids" is passed as a keyword argument
holding one value per completion, plus trainer_state, log_extra and log_metric; a sync function is called as
f(prompts=..., completions=..., completion_ids=..., **reward_kwargs), an async one is awaited with asyncio.gather on
an event loop running in another thread (asyncio.run_coroutine_threadsafe(...).result()).

Usage: python3 trl_call.py sync|async|pair < {"prompts": [...], "completions": [...], "columns": {name: [...]}}
Prints {"rewards": [...], "extra": {column: [...]}, "metrics": {name: [...]}, "name": f.__name__}; `pair` calls the
two functions of make_reward_functions() one after the other, as TRL loops over its reward_funcs, and prints
{"rewards": [[...], [...]], "names": [...]}.
"""

import asyncio
import json
import sys
import threading

from codeloop_rewards.trl import codeloop_reward, codeloop_reward_async, make_reward_functions


class TrainerState:  # stands in for transformers.TrainerState, which reward functions may read
    global_step = 0


def main():
    mode = sys.argv[1]
    spec = json.load(sys.stdin)
    prompts, completions = spec["prompts"], spec["completions"]
    completion_ids = [[0] * 3 for _ in completions]
    extra, metrics = {}, {}
    reward_kwargs = {key: values for key, values in spec["columns"].items()
                     if key not in ("prompt", "completion", "completion_ids")}
    reward_kwargs["trainer_state"] = TrainerState()
    reward_kwargs["log_extra"] = lambda column, values: extra.setdefault(column, []).extend(values)
    reward_kwargs["log_metric"] = lambda name, value: metrics.setdefault(name, []).append(value)
    if mode == "pair":
        funcs = make_reward_functions()
        outputs = [func(prompts=prompts, completions=completions, completion_ids=completion_ids, **reward_kwargs)
                   for func in funcs]
        print(json.dumps({"rewards": outputs, "names": [func.__name__ for func in funcs]}))
        return
    if mode == "sync":
        func = codeloop_reward
        output = func(prompts=prompts, completions=completions, completion_ids=completion_ids, **reward_kwargs)
    else:
        func = codeloop_reward_async
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, daemon=True)
        thread.start()

        async def run_all():
            return await asyncio.gather(
                func(prompts=prompts, completions=completions, completion_ids=completion_ids, **reward_kwargs))

        output = asyncio.run_coroutine_threadsafe(run_all(), loop).result()[0]
        loop.call_soon_threadsafe(loop.stop)
    assert isinstance(output, list) and len(output) == len(completions), output
    assert all(reward is None or isinstance(reward, float) or isinstance(reward, int) for reward in output), output
    print(json.dumps({"rewards": output, "extra": extra, "metrics": metrics, "name": func.__name__}))


main()
