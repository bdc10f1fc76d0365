"""HTTP client for `codeloop rewards serve` (POST /v1/rewards), Python standard library only.

Every trainer adapter in this package goes through `RewardsClient.score`. The wire format is the one in
docs/rewards.md: a batch of {"row", "completion"} items in, one RewardResult per item out, in the same order.
A result's `reward` is None when the sandbox failed (an infra error): never 0, so a trainer can leave it out.

Configuration, for every adapter (arguments win over the environment):
  CODELOOP_REWARDS_URL      base URL of the service (default http://127.0.0.1:8177)
  CODELOOP_REWARDS_API_KEY  the service's --api-key, sent as "Authorization: Bearer KEY"
  CODELOOP_REWARDS_MODE     binary | fraction | weighted (default: the service's)
"""

import json
import os
import time
import urllib.error
import urllib.request

DEFAULT_URL = "http://127.0.0.1:8177"


class RewardsError(Exception):
    """The reward service could not score a batch: unreachable, refused the key, or kept failing."""


class RewardsRequestError(RewardsError, ValueError):
    """The service rejected the request as malformed (HTTP 400): a row or completion it cannot read."""


class RewardsAuthError(RewardsError, PermissionError):
    """The service wants an API key (HTTP 401): set CODELOOP_REWARDS_API_KEY or pass api_key."""


def _retry_after(error, default):
    value = error.headers.get("Retry-After") if error.headers is not None else None
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return default


class RewardsClient:
    """Scores (row, completion) pairs with a running `codeloop rewards serve`.

    url: base URL (default $CODELOOP_REWARDS_URL, else http://127.0.0.1:8177).
    api_key: the service's --api-key (default $CODELOOP_REWARDS_API_KEY).
    mode: "binary", "fraction" or "weighted" (default $CODELOOP_REWARDS_MODE, else the service's default).
    timeout: seconds to wait for one HTTP reply (default 600: a batch runs programs).
    batch_size: items per request; larger batches are split (default 64).
    retries: attempts after a connection failure or a 5xx reply, with 1, 2, 4 ... s between them (default 3).
    max_queue_wait: seconds to keep retrying while the service answers 429 (queue full), honouring Retry-After
      (default 600).
    """

    def __init__(self, url=None, api_key=None, mode=None, timeout=600.0, batch_size=64, retries=3,
                 max_queue_wait=600.0):
        self.url = (url or os.environ.get("CODELOOP_REWARDS_URL") or DEFAULT_URL).rstrip("/")
        self.api_key = api_key if api_key is not None else os.environ.get("CODELOOP_REWARDS_API_KEY")
        self.mode = mode if mode is not None else os.environ.get("CODELOOP_REWARDS_MODE")
        if self.mode not in (None, "", "binary", "fraction", "weighted"):
            raise ValueError(f"mode {self.mode!r}: use binary, fraction or weighted")
        self.timeout = timeout
        self.batch_size = max(1, int(batch_size))
        self.retries = retries
        self.max_queue_wait = max_queue_wait

    def score(self, items):
        """Results for `items` (dicts with "row" and "completion"), in order, one RewardResult dict per item."""
        items = list(items)
        results = []
        for start in range(0, len(items), self.batch_size):
            results.extend(self._post(items[start:start + self.batch_size]))
        return results

    def _post(self, items):
        body = {"items": items}
        if self.mode:
            body["options"] = {"mode": self.mode}
        data = json.dumps(body).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        endpoint = f"{self.url}/v1/rewards"
        failures = 0
        queue_deadline = time.monotonic() + self.max_queue_wait
        while True:
            request = urllib.request.Request(endpoint, data=data, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    results = json.loads(response.read().decode("utf-8")).get("results")
                if not isinstance(results, list) or len(results) != len(items):
                    raise RewardsError(
                        f"{endpoint} answered {len(results) if isinstance(results, list) else 'no'} results "
                        f"for {len(items)} items; is it a codeloop rewards service?")
                return results
            except urllib.error.HTTPError as error:
                text = error.read().decode("utf-8", "replace")
                if error.code == 429:
                    wait = _retry_after(error, 1.0)
                    if time.monotonic() + wait > queue_deadline:
                        raise RewardsError(
                            f"{endpoint} kept its queue full for {self.max_queue_wait:.0f} s (429); "
                            "send smaller batches or raise max_queue_wait") from error
                    time.sleep(wait)
                    continue
                if error.code == 401:
                    raise RewardsAuthError(
                        f"{endpoint} refused the request (401): set CODELOOP_REWARDS_API_KEY to the service's "
                        "--api-key") from error
                if error.code == 400:
                    try:
                        detail = json.loads(text)["error"]["message"]
                    except (ValueError, KeyError, TypeError):
                        detail = text.strip()
                    raise RewardsRequestError(f"{endpoint} rejected the batch: {detail}") from error
                if error.code < 500 or failures >= self.retries:
                    raise RewardsError(f"{endpoint} answered HTTP {error.code}: {text.strip()[:500]}") from error
            except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
                if failures >= self.retries:
                    reason = getattr(error, "reason", error)
                    raise RewardsError(
                        f"cannot reach the reward service at {self.url} ({reason}); start it with "
                        "`codeloop rewards serve`, or set CODELOOP_REWARDS_URL") from error
            time.sleep(2 ** failures)
            failures += 1


def parse_row(value, what):
    """A row given as a dict or as JSON text (how exported datasets keep it), as a dict."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as error:
            raise ValueError(f"{what}: not JSON text of a row ({error})") from error
    if not isinstance(value, dict):
        raise ValueError(f"{what}: a row must be a JSON object, not {type(value).__name__}")
    return value
