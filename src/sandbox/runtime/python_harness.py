# codeloop sandbox: how a Python program runs in the execution's own process (B, see supervisor.py), and what counts
# as its end: the `completion` harness (as `python3 main.py`) and the emulation of openai/human-eval's
# `check_correctness` (its `reliability_guard()`, WriteOnlyStringIO, exec depth and `result` text). Isolation (namespaces,
# rlimits, capabilities, seccomp) is supervisor.py's; everything here runs after it, in the sandboxed process.
#
# WARNING: run_python_in_process() runs untrusted, model-generated code; change it only together with the hostile
# battery in test/sandbox/ and the human-eval semantics tests in test/eval/.
#
# No third-party imports: it runs under the system python3, imported by supervisor.py before the fork server starts.

import io
import json
import os
import sys


class WriteOnlyStringIO(io.StringIO):
    """human-eval's WriteOnlyStringIO (execution.py): a StringIO that keeps what is written (`getvalue()` works, bytes
    raise TypeError) and cannot be read. The first 64 KiB written are also copied to the real fd, for the output tails
    (one write per call would make a print loop far slower than under human-eval)."""

    _COPY_LIMIT = 64 * 1024

    def __init__(self, fd):
        super().__init__()
        self._fd = fd
        self._copied = 0

    def write(self, text):
        written = super().write(text)
        if self._copied < self._COPY_LIMIT:
            data = text[: self._COPY_LIMIT - self._copied].encode("utf-8", "backslashreplace")
            self._copied += len(data)
            try:
                os.write(self._fd, data)
            except BaseException:
                pass
        return written

    def read(self, *args, **kwargs):
        raise IOError

    def readline(self, *args, **kwargs):
        raise IOError

    def readlines(self, *args, **kwargs):
        raise IOError

    def readable(self, *args, **kwargs):
        return False


# Top-level modules a human-eval worker process has imported before `reliability_guard()` runs (listed from
# `sys.modules` inside openai/human-eval @6d43fb98's `unsafe_execute` with Debian's Python 3.11 and numpy 1.24, less
# human_eval, tqdm and fire, and the five the guard sets to None). Their import-time code ran before the guard there,
# so `import numpy` (numpy sets os.environ at import, and putenv is None) or `import multiprocessing` (os.getcwd) works
# under human-eval; codeloop imports them on demand, with the guard lifted for the length of that import.
HUMAN_EVAL_PRELOADED = frozenset((
    "abc", "array", "ast", "atexit", "base64", "binascii", "bisect", "builtins", "bz2", "codecs", "collections",
    "concurrent", "contextlib", "contextvars", "copyreg", "ctypes", "datetime", "dis", "encodings", "enum", "errno",
    "faulthandler", "fcntl", "fnmatch", "functools", "genericpath", "gzip", "hashlib", "heapq", "hmac", "importlib",
    "inspect", "io", "ipaddress", "itertools", "json", "keyword", "linecache", "locale", "logging", "lzma", "marshal",
    "math", "mmap", "multiprocessing", "ntpath", "numbers", "numpy", "opcode", "operator", "os", "pathlib", "pickle",
    "platform", "posix", "posixpath", "queue", "random", "re", "reprlib", "runpy", "secrets", "select", "selectors",
    "shutil", "signal", "socket", "stat", "string", "struct", "subprocess", "sys", "tempfile", "termios", "textwrap",
    "threading", "time", "token", "tokenize", "traceback", "types", "typing", "unicodedata", "urllib", "warnings",
    "weakref", "zipimport", "zlib", "__future__",
))


def human_eval_guard():
    """openai/human-eval execution.py `reliability_guard()` as `check_correctness` calls it (no memory cap): what it
    sets to None fails when a program calls it, exactly as under human-eval. Not a security layer (the sandbox is)."""
    import builtins
    import faulthandler
    import importlib
    import shutil
    import subprocess
    import tempfile

    # human-eval runs the program in a fresh empty temporary folder (`create_tempdir`), which is not on sys.path (its
    # sys.path[0] is its own script's folder): `os.listdir(".")` is empty and a numpy.py the program writes there is not
    # what `import numpy` finds. The temporary folder default is known before the guard, as there.
    if sys.path and sys.path[0] == os.getcwd():
        del sys.path[0]
    os.chdir(tempfile.mkdtemp())
    faulthandler.disable()
    builtins.exit = None
    builtins.quit = None
    os.environ["OMP_NUM_THREADS"] = "1"
    nulled = [(os, name) for name in (
        "kill", "system", "putenv", "remove", "removedirs", "rmdir", "fchdir", "setuid", "fork", "forkpty", "killpg",
        "rename", "renames", "truncate", "replace", "unlink", "fchmod", "fchown", "chmod", "chown", "chroot",
        "lchflags", "lchmod", "lchown", "getcwd", "chdir")]
    nulled += [(shutil, "rmtree"), (shutil, "move"), (shutil, "chown"), (subprocess, "Popen"), (builtins, "help")]
    saved = [(owner, name, getattr(owner, name, None)) for owner, name in nulled]

    def apply():
        for owner, name in nulled:
            setattr(owner, name, None)

    def lift():
        for owner, name, value in saved:
            setattr(owner, name, value)

    real_import = builtins.__import__
    depth = [0]  # imports nest (numpy's imports more of the list): the guard returns when the outermost one ends

    def import_as_if_preloaded(name, globals=None, locals=None, fromlist=(), level=0):
        if depth[0] == 0 and level == 0 and name not in sys.modules and name.partition(".")[0] in HUMAN_EVAL_PRELOADED:
            depth[0] += 1
            lift()
            try:
                return real_import(name, globals, locals, fromlist, level)
            finally:
                apply()
                depth[0] -= 1
        return real_import(name, globals, locals, fromlist, level)

    real_import_module = importlib.import_module

    def import_module_as_if_preloaded(name, package=None):
        # importlib.import_module does not go through builtins.__import__.
        if depth[0] == 0 and not name.startswith(".") and name not in sys.modules and name.partition(".")[0] in HUMAN_EVAL_PRELOADED:
            depth[0] += 1
            lift()
            try:
                return real_import_module(name, package)
            finally:
                apply()
                depth[0] -= 1
        return real_import_module(name, package)

    builtins.__import__ = import_as_if_preloaded
    importlib.import_module = import_module_as_if_preloaded
    apply()
    for name in ("ipdb", "joblib", "resource", "psutil", "tkinter"):
        sys.modules[name] = None


# openai/human-eval runs the program this many Python frames deeper than codeloop's runner does: under its CLI
# (`evaluate_functional_correctness`: a ThreadPoolExecutor thread calls check_correctness, whose multiprocessing child
# runs unsafe_execute), a function the program defines reaches recursion depth 980 of the default limit of 1000 before
# RecursionError (measured with Python 3.11, openai/human-eval @6d43fb98). A program that recurses ~980 deep passes or
# fails there by these frames, so the runner calls exec() as deep (test/eval/human-eval-semantics.test.ts).
HUMAN_EVAL_PADDING_FRAMES = 9


# The longest `result` text sent back (the status pipe's capture keeps 64 KiB); human-eval keeps it whole.
HUMAN_EVAL_RESULT_CHARS = 32768


def _human_eval_result(status_fd, error):
    """The `result` openai/human-eval's check_correctness records for a program that raised `error`:
    "failed: {error}". Where str() of the exception itself raises, human-eval's worker dies without a result, which it
    reports as "timed out"; so does the host when no result line arrives."""
    try:
        text = "failed: %s" % (error,)
    except BaseException:  # noqa: BLE001
        return
    try:
        os.write(status_fd, b"result:" + json.dumps(text[:HUMAN_EVAL_RESULT_CHARS]).encode() + b"\n")
    except BaseException:  # noqa: BLE001
        pass


def _close_quietly(fd):
    try:
        os.close(fd)
    except OSError:
        pass


def _at_human_eval_depth(frames, code, namespace):
    if frames > 0:
        return _at_human_eval_depth(frames - 1, code, namespace)
    exec(code, namespace)


def run_python_in_process(job, control_fd, status_fd):
    """Run the program in this forked interpreter, with human-eval's meaning of `completed`.

    `harness` `completion`: the program runs as `python3 main.py` would (`__name__ == "__main__"`, atexit handlers,
    non-daemon threads awaited). `human-eval`: as openai/human-eval's `check_correctness` runs it: `exec` of the text in
    an empty globals dict (so `__name__` is "builtins" and `if __name__ == "__main__":` blocks do not run), after its
    `reliability_guard()`, with stdin, stdout and stderr swapped for a write-only string buffer; the program has passed
    once `exec` returns, whatever threads it left behind (human-eval records "passed" before the process ends).
    """
    import atexit
    import random
    import traceback

    random.seed()  # a fresh interpreter seeds from urandom; a forked one would repeat the supervisor's state
    human_eval = job.get("harness") == "human-eval"
    nonce = job.pop("nonce").encode()
    path = os.path.join(job["workdir"], job["main"])
    with open(path, "rb") as handle:
        source = handle.read()
    try:
        code = compile(source, "<string>" if human_eval else path, "exec", dont_inherit=True)
    except BaseException as error:  # noqa: BLE001 - RecursionError, MemoryError too: the program's fault, not ours
        try:
            traceback.print_exc(limit=0)
        except BaseException:  # noqa: BLE001
            os.write(2, ("%s\n" % type(error).__name__).encode())
        if human_eval:
            _human_eval_result(status_fd, error)  # human-eval's exec raises the same error inside its try
        os.write(control_fd, b"compile-error\n")
        return 1
    sys.argv = [path] + list(job.get("args", []))
    sys.path[0] = job["workdir"]
    if human_eval:
        namespace = {}
    else:
        namespace = {"__name__": "__main__", "__file__": path, "__builtins__": __builtins__, "__doc__": None,
                     "__package__": None, "__spec__": None, "__loader__": None, "__cached__": None}
    exit_code = 0
    # From here on untrusted code runs: the control channel (setup and compile errors) is closed first, so the
    # program cannot write on it. The status channel stays open for the end marker, which carries a per-job nonce.
    os.close(control_fd)
    del job
    write, exit_now = os.write, os._exit  # the human-eval guard sets many os functions to None; not these two
    # Only this process may write on the status channel: a program that forks and lets one child run on to the end (a
    # fork search over its answers) must not get the end marker from that child. Forked children lose the channel
    # (os.fork and posix.fork run this hook; a raw fork through ctypes does not, so `status` also checks the pid).
    owner, getpid = os.getpid(), os.getpid
    os.register_at_fork(after_in_child=lambda: _close_quietly(status_fd))

    def status(line):
        if getpid() == owner:
            write(status_fd, line)
    if human_eval:
        human_eval_guard()
        sink_out, sink_err = WriteOnlyStringIO(1), WriteOnlyStringIO(2)
        sys.stdout, sys.stderr, sys.stdin = sink_out, sink_err, sink_out
    try:
        if human_eval:
            _at_human_eval_depth(HUMAN_EVAL_PADDING_FRAMES, code, namespace)
        else:
            exec(code, namespace)
        status(b"completed:" + nonce + b"\n")
        if human_eval:
            exit_now(0)
    except SystemExit as stop:
        if human_eval and getpid() == owner:
            _human_eval_result(status_fd, stop)
        # As a fresh interpreter would: None/0 → 0, int → that code, anything else is printed and gives 1.
        value = stop.code
        if value is None:
            exit_code = 0
        elif isinstance(value, int):
            exit_code = value & 0xFF
        else:
            print(value, file=sys.stderr)
            exit_code = 1
        status(b"exited\n")
    except BaseException as error:  # noqa: BLE001 - report every uncaught exception like the interpreter does
        status(("exception:%s\n" % type(error).__name__).encode())
        if human_eval and getpid() == owner:
            _human_eval_result(status_fd, error)
        try:
            # Skip this runner's own frames: the traceback starts in the program, as `python3 main.py` prints it.
            tb = error.__traceback__
            while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
                tb = tb.tb_next
            traceback.print_exception(type(error), error, tb)
        except BaseException:  # MemoryError while formatting, say
            try:
                write(2, ("%s\n" % type(error).__name__).encode())
            except BaseException:
                pass
        exit_code = 1
    if human_eval:
        exit_now(exit_code)
    try:
        import threading
        threading._shutdown()  # wait for non-daemon threads, as interpreter exit does
    except BaseException:
        pass
    try:
        atexit._run_exitfuncs()
    except BaseException:
        pass
    return exit_code
