# codeloop's driver for tasks with functional and security tests (CWEval), run INSIDE the sandbox.
#
# src/eval/security-tests.ts appends one line calling `main(nonce, job)` and sends the whole text to the sandbox as a
# Python program. The driver:
#
# 1. deletes its own program file (which holds the nonce) and makes itself non-dumpable, so no process it starts can
#    read its memory or descriptors through /proc (ptrace is denied by the sandbox's seccomp filter anyway);
# 2. writes the task file (the candidate), the pytest file, pytest.ini and codeloop's adaptations (below) into a fresh
#    folder, never changing a dataset file;
# 3. runs pytest there in a fresh /usr/bin/python3 (its own process group), as CWEval's `run_tests.py` does:
#    `--continue-on-collection-errors -k "not _unsafe"` (the self-check selects all cases), every case under
#    `pytest.mark.timeout(3, method="signal")`; pytest writes its JUnit XML report to a pipe whose write end only pytest
#    holds (the Node processes JavaScript tests start do not inherit it);
# 4. stops pytest when the job's wall-clock budget is spent, reads the report, and prints one line
#    `<nonce> <json>` with every case: name, marker (functionality / security), status, message, seconds.
#
# Adaptations (CWEval's Docker image has these from PyPI; Debian's packages differ):
# - `Crypto`: Debian's python3-pycryptodome installs the package as `Cryptodome`; an import hook in the pytest plugin
#   makes `Crypto` and `Crypto.X` the very same modules as `Cryptodome` and `Cryptodome.X`.
# - `wrapt_timeout_decorator`: not packaged; a module with `timeout(seconds)` that, like the original's signal mode,
#   arms SIGALRM for the call and raises TimeoutError when it fires (and, like it, leaves no alarm armed afterwards).
# - `./third_party/recheck-linux-x64` (ReDoS tests): a link to the binary of the npm package recheck-linux-x64.
#
# What this guarantees: the report is pytest's own, and a test case missing from it counts as not passed. A Python
# candidate is imported by the test file INTO pytest's process (CWEval's design), so code written to do so could
# rewrite pytest's results or write its own report; JavaScript candidates run in separate Node processes and cannot
# reach the report pipe or this process. Standard library only.

import ctypes
import json
import os
import signal
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ElementTree

PLUGIN = r'''
import importlib
import importlib.abc
import importlib.util
import os
import sys

import pytest


class _CryptoAlias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """`Crypto[.X]` is `Cryptodome[.X]`: the same module objects, so classes and isinstance checks agree."""

    def find_spec(self, name, path=None, target=None):
        if name == "Crypto" or name.startswith("Crypto."):
            return importlib.util.spec_from_loader(name, self, is_package=True)
        return None

    def create_module(self, spec):
        return importlib.import_module("Cryptodome" + spec.name[len("Crypto"):])

    def exec_module(self, module):
        pass


sys.meta_path.insert(0, _CryptoAlias())


def pytest_configure(config):
    # Node processes that JavaScript tests start run under our uid: keep them out of this process (its report pipe).
    libc = ctypes_libc()
    if libc is not None:
        libc.prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0


def ctypes_libc():
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def pytest_collection_modifyitems(session, config, items):
    seconds = float(os.environ.get("CODELOOP_TEST_TIMEOUT", "3"))
    for item in items:
        # CWEval run_tests.py: every case gets pytest.mark.timeout(timeout_per_test, method="signal").
        item.add_marker(pytest.mark.timeout(seconds, method="signal"))
        kinds = [name for name in ("functionality", "security") if item.get_closest_marker(name) is not None]
        item.user_properties.append(("codeloop_kind", ",".join(kinds)))
'''

TIMEOUT_DECORATOR = r'''
"""codeloop's stand-in for wrapt_timeout_decorator (not packaged in Debian): timeout(seconds) with signals."""
import functools
import signal

__all__ = ["timeout"]


def timeout(dec_timeout=None, use_signals=True, timeout_exception=None, exception_message=None, **_ignored):
    error = timeout_exception or TimeoutError

    def decorate(function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            if not dec_timeout:
                return function(*args, **kwargs)
            message = exception_message or f"Function {function.__name__} timed out after {dec_timeout} seconds"

            def on_alarm(signum, frame):
                raise error(message)

            previous = signal.signal(signal.SIGALRM, on_alarm)
            signal.setitimer(signal.ITIMER_REAL, float(dec_timeout))
            try:
                return function(*args, **kwargs)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous)

        return wrapper

    return decorate
'''

MESSAGE_LIMIT = 600
NAME_LIMIT = 240


def _not_dumpable():
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(4, 0, 0, 0, 0) != 0:  # PR_SET_DUMPABLE
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_DUMPABLE, 0) failed")


def _forget_program_files():
    here = globals().get("__file__")
    if not here:
        raise RuntimeError("the security-tests driver must run from a file it can delete (harness exit-code)")
    folder = os.path.dirname(os.path.abspath(here))
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        if not os.path.isdir(path) or os.path.islink(path):
            os.unlink(path)
    if os.path.exists(here):
        raise RuntimeError("the security-tests driver could not delete its own file")


def _write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", errors="surrogatepass") as handle:
        handle.write(text)


def _short(text, limit):
    text = text or ""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _read_all(descriptor, chunks):
    while True:
        chunk = os.read(descriptor, 1 << 16)
        if not chunk:
            return
        chunks.append(chunk)


def _kill_group(process):
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _status(case):
    """A <testcase>'s outcome: passed, failed, error, skipped or timed-out (pytest-timeout's failure)."""
    for tag in ("failure", "error", "skipped"):
        element = case.find(tag)
        if element is None:
            continue
        message = (element.get("message") or "") + "\n" + (element.text or "")
        if tag != "skipped" and "Timeout" in message and ("Timeout >" in message or "Failed: Timeout" in message):
            return "timed-out", message
        return {"failure": "failed", "error": "error", "skipped": "skipped"}[tag], message
    return "passed", ""


def _parse_report(data):
    root = ElementTree.fromstring(data.decode("utf-8"))
    cases = []
    for case in root.iter("testcase"):
        kind = ""
        for prop in case.iter("property"):
            if prop.get("name") == "codeloop_kind":
                kind = prop.get("value") or ""
        status, message = _status(case)
        cases.append({
            "name": _short(case.get("name") or "", NAME_LIMIT),
            "kind": kind,
            "status": status,
            "message": _short(message.strip(), MESSAGE_LIMIT),
            "seconds": float(case.get("time") or 0),
        })
    return cases


def main(nonce, job):
    _forget_program_files()
    _not_dumpable()
    started = time.monotonic()
    root = os.path.abspath("cweval")
    shims = os.path.join(root, "codeloop-shims")
    tests = os.path.join(root, "tests")
    for name, text in job["files"].items():
        _write(os.path.join(tests, name), text)
    _write(os.path.join(shims, "codeloop_security_plugin.py"), PLUGIN)
    _write(os.path.join(shims, "wrapt_timeout_decorator.py"), TIMEOUT_DECORATOR)
    if job.get("recheck"):
        os.makedirs(os.path.join(tests, "third_party"), exist_ok=True)
        os.symlink(job["recheck"], os.path.join(tests, "third_party", "recheck-linux-x64"))
    read_end, write_end = os.pipe()
    python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
    command = [
        python, "-m", "pytest", "-p", "codeloop_security_plugin", "-p", "no:cacheprovider", "-q", "--tb=short",
        "--continue-on-collection-errors", "-o", "junit_family=xunit1", "--junitxml=/proc/self/fd/%d" % write_end,
    ]
    if job.get("select"):
        command += ["-k", job["select"]]
    command.append(job["test_file"])
    environment = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": tests,
        "TMPDIR": os.environ.get("TMPDIR", "/tmp"),
        "LANG": "C.UTF-8",
        "PYTHONPATH": shims,
        "PYTHONDONTWRITEBYTECODE": "1",
        "CODELOOP_TEST_TIMEOUT": str(job["timeout"]),
    }
    if job.get("node_path"):
        environment["NODE_PATH"] = job["node_path"]
    process = subprocess.Popen(
        command, cwd=tests, env=environment, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, pass_fds=(write_end,), start_new_session=True,
    )
    os.close(write_end)
    report, output = [], []
    readers = [threading.Thread(target=_read_all, args=(read_end, report), daemon=True),
               threading.Thread(target=_read_all, args=(process.stdout.fileno(), output), daemon=True)]
    for reader in readers:
        reader.start()
    budget = max(1.0, job["wall_seconds"] - (time.monotonic() - started))
    killed = False
    try:
        exit_code = process.wait(timeout=budget)
    except subprocess.TimeoutExpired:
        killed = True
        _kill_group(process)
        exit_code = process.wait()
    _kill_group(process)  # Node processes or threads a test left behind hold the pipes open
    for reader in readers:
        reader.join(timeout=5)
    data = b"".join(report)
    result = {
        "exit": exit_code,
        "killed": killed,
        "seconds": round(time.monotonic() - started, 3),
        "output": _short(b"".join(output).decode("utf-8", "replace")[-4000:], 4000),
    }
    if not data:
        result.update(report="missing", tests=[])
    else:
        try:
            result.update(report="ok", tests=_parse_report(data))
        except (ElementTree.ParseError, UnicodeDecodeError) as error:
            result.update(report="unreadable", tests=[], reportError=_short(str(error), MESSAGE_LIMIT))
    sys.stdout.write(nonce + " " + json.dumps(result) + "\n")
    sys.stdout.flush()
