# codeloop rewards: the UNTRUSTED side of a function-test row (src/rewards/function-tests.ts). Runs inside the sandbox
# with the candidate's code and nothing of the tests: it loads the solution, makes the calls it is given (function
# name and arguments, as listed by trusted-tests.py) and writes what each call returned. The candidate can write
# anything here, including lines in this format: they are only its claims about its own return values, which are
# then judged by the tests in another execution that it never sees.
#
# Input: calls.json {"nonce", "solution", "perTestMs", "loadMs", "groups": [{"id", "calls": [{"fn", "args",
#   "kwargs"}]}]}. Output: `nonce + JSON` lines: {"type": "load", "status", "exception"?}, then per call
#   {"type": "call", "test", "k", "outcome": {"ok", "argsAfter"} | {"error": {type, message}} | {"timeout": true}},
#   then {"type": "done"}.
import json
import os
import signal
import sys
import time

import codeloop_values as values

# Helpers used after the solution loads, captured first (a solution that patches json.dumps changes nothing here). Its
# process can still find the channel and nonce (a frame walk reaches these globals): what it writes there is only its
# claim about its own return values, which the host checks (src/rewards/tagged.ts) and the trusted process judges.
_write_all, _dumps, _encode, _decode = values.write_all, json.dumps, values.encode, values.decode
_exit, _monotonic, _setitimer = os._exit, time.monotonic, signal.setitimer
_OUT = os.dup(1)
_NULL = os.open(os.devnull, os.O_WRONLY)
os.dup2(_NULL, 1)
sys.stdout = open(os.devnull, "w")
with open("calls.json", encoding="utf-8") as _file:
    _JOB = json.load(_file)
os.remove("calls.json")
_NONCE = _JOB["nonce"]
_PER_TEST_S = _JOB["perTestMs"] / 1000.0
_LOAD_S = _JOB["loadMs"] / 1000.0


def _emit(record):
    _write_all(_OUT, (_NONCE + _dumps(record) + "\n").encode("utf-8", "replace"))


class _Timeout(BaseException):
    pass


def _on_alarm(signum, frame):
    raise _Timeout()


signal.signal(signal.SIGALRM, _on_alarm)


def _short(text):
    return text if len(text) <= 300 else text[:300] + "…"


def _describe(error):
    try:
        message = _short(str(error))
    except BaseException:
        message = ""
    return {"type": type(error).__name__ if isinstance(type(error).__name__, str) else "Exception", "message": message}


def _main():
    namespace = {"__name__": "solution", "__builtins__": __builtins__}
    try:
        code = compile(_JOB["solution"], "solution.py", "exec")
    except (SyntaxError, ValueError) as error:
        _emit({"type": "load", "status": "compile-error", "exception": _describe(error)})
        return
    deadline = _monotonic() + _LOAD_S
    # After the first alarm it repeats, so a solution that catches the time-out is interrupted again.
    _setitimer(signal.ITIMER_REAL, _LOAD_S, 0.05)
    try:
        exec(code, namespace)
        status, exception = "passed", None
    except _Timeout:
        status, exception = "timed-out", {"type": "TimeoutError", "message": "loading the solution took too long"}
    except MemoryError:
        status, exception = "memory-exceeded", {"type": "MemoryError", "message": ""}
    except BaseException as error:
        status, exception = "error", _describe(error)
    finally:
        _setitimer(signal.ITIMER_REAL, 0)
    if status == "passed" and _monotonic() > deadline + 0.5:
        status, exception = "timed-out", {"type": "TimeoutError", "message": "loading the solution took too long"}
    _emit({"type": "load", "status": status, **({"exception": exception} if exception else {})})
    if status != "passed":
        return
    for group in _JOB["groups"]:
        deadline = _monotonic() + _PER_TEST_S
        for index, call in enumerate(group["calls"]):
            left = deadline - _monotonic()
            if left <= 0:
                _emit({"type": "call", "test": group["id"], "k": index, "outcome": {"timeout": True}})
                break
            _setitimer(signal.ITIMER_REAL, left, 0.05)
            try:
                function = namespace.get(call["fn"])
                if function is None:
                    raise NameError("name %r is not defined by the solution" % call["fn"])
                args = _decode(call["args"])
                kwargs = _decode(call["kwargs"])
                result = function(*args, **kwargs)
                outcome = {"ok": _encode(result), "argsAfter": [_encode(argument) for argument in args]}
            except _Timeout:
                outcome = {"timeout": True}
            except MemoryError:
                outcome = {"error": {"type": "MemoryError", "message": ""}}
            except BaseException as error:
                outcome = {"error": _describe(error)}
            finally:
                _setitimer(signal.ITIMER_REAL, 0)
            if _monotonic() > deadline + 0.05:
                outcome = {"timeout": True}
            _emit({"type": "call", "test": group["id"], "k": index, "outcome": outcome})
            if "timeout" in outcome:
                break


try:
    _main()
    _emit({"type": "done"})
except BaseException:
    pass
_exit(0)
