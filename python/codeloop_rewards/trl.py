"""TRL reward functions backed by `codeloop rewards serve` (GRPOTrainer, RLOOTrainer).

TRL calls a reward function as `f(prompts=..., completions=..., completion_ids=..., **columns)`: `columns` are the
dataset's other columns, one value per completion, plus `trainer_state`, `log_extra` and `log_metric`
(trl/trainer/grpo_trainer.py, `GRPOTrainer._calculate_rewards`). Completions are text, or lists of chat messages for
conversational datasets. It takes `list[float | None]` back: None means "cannot score this one" and TRL leaves it out
of the group's baseline, which is what an infra error must be (never 0).

    from codeloop_rewards.trl import codeloop_reward          # sync; codeloop_reward_async for the async form
    trainer = GRPOTrainer(model=..., reward_funcs=[codeloop_reward], train_dataset=dataset, ...)

The row for each completion is the dataset's `row` column (JSON text or an object, as `codeloop export --format
trl-grpo` writes it), or else it is put together from the row formats' own columns (`verification_info`,
`ground_truth`, `test` + `entry_point`, `test_list`, `task`, `language`), with the prompt added for function tests.
"""

import asyncio
import json
import threading

if __package__:
    from .client import RewardsClient, parse_row
else:  # loaded from its file path rather than imported as part of the package
    import os
    import sys

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from codeloop_rewards.client import RewardsClient, parse_row

ROW_COLUMNS = ("verification_info", "ground_truth", "test", "entry_point", "test_list", "test_imports", "task",
               "language")


def _row(index, prompts, columns, row_column):
    if row_column in columns:
        return parse_row(columns[row_column][index], f"column {row_column!r} of completion {index}")
    row = {key: columns[key][index] for key in ROW_COLUMNS if key in columns}
    if not row:
        raise ValueError(
            f"completion {index}: the dataset has neither a {row_column!r} column nor any of {', '.join(ROW_COLUMNS)}; "
            f"its columns are {sorted(key for key in columns if isinstance(columns[key], list))}. "
            "Export it with `codeloop export --format trl-grpo`, or pass row_column=")
    if ("test" in row or "test_list" in row) and isinstance(prompts[index], str):
        row["prompt"] = prompts[index]  # function tests continue the prompt
    return row


def make_reward_function(client=None, row_column="row", name="codeloop_execution", **client_options):
    """A synchronous TRL reward function. `client_options` go to RewardsClient (url, api_key, mode, ...)."""
    client = client or RewardsClient(**client_options)

    def reward(prompts, completions, completion_ids=None, **columns):
        items = [{"row": _row(index, prompts, columns, row_column), "completion": completion}
                 for index, completion in enumerate(completions)]
        results = client.score(items)
        log_extra = columns.get("log_extra")
        if callable(log_extra):
            log_extra("codeloop_verdict", [result.get("verdict") for result in results])
            log_extra("codeloop_pass_rate", [result.get("pass_rate") for result in results])
            log_extra("codeloop_format_reward", [result.get("format_reward") for result in results])
        log_metric = columns.get("log_metric")
        if callable(log_metric) and results:
            log_metric("codeloop/infra_error_rate",
                       sum(1 for result in results if result.get("infra_error")) / len(results))
        return [result.get("reward") for result in results]

    reward.__name__ = name
    return reward


def make_async_reward_function(client=None, row_column="row", name="codeloop_execution", **client_options):
    """The same as an `async def` (TRL runs async reward functions concurrently with each other)."""
    scoring = make_reward_function(client, row_column, name, **client_options)

    async def reward(prompts, completions, completion_ids=None, **columns):
        return await asyncio.to_thread(scoring, prompts, completions, completion_ids, **columns)

    reward.__name__ = name
    return reward


class _LastBatch:
    """Scores a batch once for several reward functions: the execution and format rewards of the same call."""

    def __init__(self, client):
        self.client = client
        self.lock = threading.Lock()
        self.key = None
        self.results = None

    def score(self, items):
        key = json.dumps(items, sort_keys=True)
        with self.lock:  # a concurrent caller with the same batch waits for the first one's results
            if key != self.key:
                self.results = self.client.score(items)
                self.key = key
            return self.results


def make_reward_functions(client=None, row_column="row", **client_options):
    """(execution, format): two TRL reward functions over one scoring of each batch.

    `execution` returns the service's reward (None for an infra error), `format` its format_reward (1.0 when the
    completion held code in the expected form), so that GRPOConfig.reward_weights can weigh them apart. Whichever
    TRL calls first scores the batch; the other reuses the results when it gets the same batch.
    """
    batch = _LastBatch(client or RewardsClient(**client_options))

    def execution(prompts, completions, completion_ids=None, **columns):
        return [result.get("reward") for result in _scored(batch, prompts, completions, columns, row_column)]

    def format_reward(prompts, completions, completion_ids=None, **columns):
        return [result.get("format_reward") for result in _scored(batch, prompts, completions, columns, row_column)]

    execution.__name__ = "codeloop_execution"
    format_reward.__name__ = "codeloop_format"
    return execution, format_reward


def _scored(batch, prompts, completions, columns, row_column):
    items = [{"row": _row(index, prompts, columns, row_column), "completion": completion}
             for index, completion in enumerate(completions)]
    return batch.score(items)


codeloop_reward = make_reward_function()
codeloop_reward_async = make_async_reward_function()
