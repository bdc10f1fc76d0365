"""Calls codeloop's OpenRLHF reward_func the way OpenRLHF calls a Python reward file.

Convention from OpenRLHF/OpenRLHF, openrlhf/utils/agent.py (read at commit 3c3be6234e0c): SingleTurnAgentExecutor
loads the file given as --reward.remote_url with importlib.util.spec_from_file_location("reward_func", path) and
takes its `reward_func`; after generation it decodes prompt + response tokens with skip_special_tokens=False as the
query and calls reward_func([query], [prompt], [label]) through asyncio.to_thread, one query per call, all gathered;
from the returned dict it reads "rewards", "scores" and "extra_logs".

Usage: python3 openrlhf_call.py PATH < {"samples": [{"prompt", "query", "label"}]}. Prints {"results": [...]} or
{"error": type, "message": ...}.
"""

import asyncio
import importlib.util
import json
import sys


def main():
    path = sys.argv[1]
    spec = importlib.util.spec_from_file_location("reward_func", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    reward_func = module.reward_func
    samples = json.load(sys.stdin)["samples"]

    async def fetch():
        tasks = [asyncio.to_thread(reward_func, [sample["query"]], [sample["prompt"]], [sample["label"]])
                 for sample in samples]
        return await asyncio.gather(*tasks)

    try:
        results = asyncio.run(fetch())
        for result in results:
            assert set(result) >= {"rewards", "scores", "extra_logs"}, result
        print(json.dumps({"results": results}))
    except Exception as error:
        print(json.dumps({"error": type(error).__name__, "message": str(error)}))


main()
