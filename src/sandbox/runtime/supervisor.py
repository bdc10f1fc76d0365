# codeloop sandbox supervisor: a fork server that runs inside one long-lived bubblewrap sandbox.
#
# The host (src/sandbox/worker.ts) starts this file inside bwrap and sends jobs on stdin, each as a byte count, a
# newline and that much JSON; each result comes back as one JSON line on stdout. The processes are
#
#   supervisor: reads jobs, hands each to the zygote, sends B its job, enforces the wall clock, collects output
#   zygote:     PID 1 of a PID namespace of our own. It never sees a job or an output, only file descriptors, so the
#               memory every execution starts from holds nothing of any other execution.
#     --fork--> B: PID 1 of a fresh PID namespace, with a fresh mount namespace (its own /proc, tmpfs /work, /tmp and
#               /dev/shm) and IPC namespace. It reads its job from a pipe, writes the files, then drops every
#               capability, sets rlimits, no_new_privs and seccomp, and runs the code (in process for Python, by
#               execve for Node). Steps before the last (a `tsc` type-check) run in a child C of B.
#
# So an execution cannot see or signal the supervisor, the zygote or any other execution, and shares no files, no
# IPC objects and no memory with them. When B ends, or the supervisor kills it at the wall clock, the kernel kills
# every process left in its namespace, double-forked and setsid'd descendants included. Being PID 1 has one visible
# effect: a signal the program sends to itself without a handler installed (kill(getpid(), SIGTERM)) is ignored, as
# for any init process.
#
# WARNING: become_job() runs untrusted, model-generated code. Everything the code may touch is decided here and in the bwrap
# profile built by src/sandbox/bwrap.ts; change either only together with the hostile battery in test/sandbox/.
#
# This file has no third-party imports: it runs under the system python3 (the interpreter the Python jobs use).

import base64
import ctypes
import fcntl
import gc
import io
import json
import os
import select
import signal
import socket
import sys
import time

# Modules that generated code imports all the time. Importing them once here makes every forked job start warm
# (the fork server's whole point); nothing here has process-wide side effects a job could observe.
PRELOAD = (
    "abc", "array", "bisect", "builtins", "collections", "copy", "dataclasses", "datetime", "decimal", "enum",
    "fractions", "functools", "hashlib", "heapq", "io", "itertools", "json", "math", "operator", "random", "re",
    "statistics", "string", "textwrap", "traceback", "typing", "unittest", "atexit", "threading", "cmath", "queue",
    "resource", "tempfile", "shutil",
    # the human-eval harness's guard needs these two in every execution (importing subprocess costs ~2 ms per fork)
    "subprocess", "faulthandler",
)

libc = ctypes.CDLL(None, use_errno=True)
libc.mount.argtypes = (ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p)
libc.prctl.argtypes = (ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong)

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 2, 4, 8, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP = 1, 24, 38, 22
SECCOMP_MODE_FILTER = 2
SYS_CAPSET = {"x86_64": 126, "aarch64": 91}

# Exit code of the job process when the sandbox itself broke; the status pipe then carries a `setup-error:` line, which is what
# the host goes by (a program may exit 121 itself).
SETUP_FAILED = 121


class Failure(Exception):
    """The sandbox could not set an execution up: an infra error, never the job's fault."""


def check(result, what):
    if result != 0:
        err = ctypes.get_errno()
        raise Failure("%s failed: %s" % (what, os.strerror(err)))


def write_all(fd, data):
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def send(message):
    # ensure_ascii=False: non-ASCII output stays one UTF-8 sequence instead of a 6-byte escape per character.
    write_all(1, (json.dumps(message, ensure_ascii=False) + "\n").encode())


def read_exactly(fd, size):
    chunks = []
    while size > 0:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def read_job(fd):
    """One job: a decimal byte count, a newline, then that many bytes of JSON (returned as bytes). Nothing beyond the job
    is read: the next job stays in the pipe."""
    header = b""
    while not header.endswith(b"\n"):
        byte = os.read(fd, 1)
        if not byte:
            return None
        header += byte
    return read_exactly(fd, int(header))


# --- the job: B (or C, for an earlier step) after it has dropped everything -----------------------------------------

class SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint)]


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(SockFilter))]


class CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def drop_privileges(config):
    """Irreversibly give up everything the supervisor needed to build the namespaces."""
    for cap in range(config["lastCapability"] + 1):
        if config["namespaces"]:  # needs CAP_SETPCAP, which the worker has only inside its sandbox
            check(libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), "prctl(CAPBSET_DROP, %d)" % cap)
    header = CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (CapData * 2)()
    check(libc.syscall(SYS_CAPSET[config["arch"]], ctypes.byref(header), ctypes.byref(data)), "capset")
    check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(NO_NEW_PRIVS)")
    program = config["seccomp"]
    if program:
        count = len(program) // 8
        filters = (SockFilter * count).from_buffer_copy(program)
        fprog = SockFprog(count, filters)
        check(libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(fprog), 0, 0), "seccomp")


def apply_limits(job):
    import resource
    limits = job["limits"]
    cpu = limits["cpuSeconds"]
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["fileSizeBytes"],) * 2)
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits["openFiles"],) * 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if limits.get("processes"):
        # RLIMIT_NPROC counts every process of this uid, including the supervisor and this job's init (B).
        resource.setrlimit(resource.RLIMIT_NPROC, (limits["processes"] + 8,) * 2)
    if limits.get("addressSpaceBytes"):
        resource.setrlimit(resource.RLIMIT_AS, (limits["addressSpaceBytes"],) * 2)


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


def become_job(job, config, pipes, argv=None):
    """Set up stdio, limits and privileges, then run the program (argv, or the Python job in process). Never returns.

    fds the program gets: 0 stdin, 1 and 2 the output pipes; a Python program also keeps the status pipe (the end
    marker). The control pipe (setup and compile errors) is closed before any untrusted code runs: for Python just
    before exec(), for Node at execve (close-on-exec) after node-preload.cjs, which Node runs first, has used it as fd 3.
    """
    code = 1
    control_fd = pipes["control"]
    try:
        os.setsid()
        stdin_fd = os.open(os.path.join(job["workdir"], ".stdin") if job.get("stdin") is not None else "/dev/null", os.O_RDONLY)
        # Lift every source above the target range first, so no dup2 below overwrites a source not yet placed.
        sources = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 16) for fd in (stdin_fd, pipes["out"], pipes["err"], control_fd, pipes["status"])]
        for target, source in enumerate(sources):
            os.dup2(source, target)
        os.closerange(5, 65536)
        control_fd, status_fd = 3, 4
        os.chdir(job["workdir"])
        try:
            with open("/proc/self/oom_score_adj", "w") as handle:
                handle.write("1000")  # under memory pressure the kernel kills the job, not the supervisor
        except OSError:
            pass
        apply_limits(job)
        drop_privileges(config)
        env = dict(job["env"])
        if not config["namespaces"]:
            env["HOME"] = env["TMPDIR"] = job["workdir"]  # no private /work and /tmp without namespaces
        if job["mode"] == "python":
            os.environ.clear()
            os.environ.update(env)
            sys.stdin = open(0, "r", encoding="utf-8", errors="surrogateescape", closefd=False)
            sys.stdout = open(1, "w", encoding="utf-8", errors="backslashreplace", closefd=False)
            sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False)
            try:
                code = run_python_in_process(job, control_fd, status_fd)
                control_fd = None
            finally:
                for stream in (sys.stdout, sys.stderr):
                    try:
                        stream.flush()
                    except BaseException:
                        pass
        else:
            os.close(status_fd)  # Node programs are judged by exit code; they get no marker channel
            os.set_inheritable(control_fd, True)  # fd 3 for node-preload.cjs, which closes it before the program runs
            signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # as a program started from a shell has it
            os.execve(argv[0], argv, env)
    except BaseException as error:  # noqa: BLE001
        try:
            os.write(2, ("codeloop sandbox: could not start the program: %r\n" % (error,)).encode())
            if control_fd is not None:
                os.write(control_fd, ("setup-error:%s\n" % (error,)).encode())
        except BaseException:
            pass
        code = SETUP_FAILED
    os._exit(code)


# --- B: PID 1 of the execution's namespaces ------------------------------------------------------------------------

def become_namespace_init(job, config, pipes):
    """B: fresh /proc, /work, /tmp, /dev/shm and IPC namespace, write the files, then become the job. Never returns."""
    control = pipes["control"]
    try:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if config["namespaces"]:
            # A private IPC namespace too: SysV shared memory and message queues die with the execution.
            check(libc.unshare(CLONE_NEWNS | CLONE_NEWIPC), "unshare(NS|IPC)")
            check(libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "make mounts private")
            check(libc.mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None), "mount /proc")
            scratch = job["limits"]["scratchBytes"]
            size = ("size=%d,mode=0755" % scratch).encode()
            check(libc.mount(b"tmpfs", b"/work", b"tmpfs", MS_NOSUID | MS_NODEV, size), "mount /work")
            check(libc.mount(b"tmpfs", b"/tmp", b"tmpfs", MS_NOSUID | MS_NODEV, size), "mount /tmp")
            # /dev itself is read-only (bwrap profile); POSIX shared memory gets its own small tmpfs per execution.
            shm = ("size=%d,mode=1777" % scratch).encode()
            check(libc.mount(b"tmpfs", b"/dev/shm", b"tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, shm), "mount /dev/shm")
        for name, content in job["files"].items():
            path = os.path.join(job["workdir"], name)
            if "/" in name:
                os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as handle:
                handle.write(base64.b64decode(content))
        if job.get("stdin") is not None:
            with open(os.path.join(job["workdir"], ".stdin"), "wb") as handle:
                handle.write(base64.b64decode(job["stdin"]))
    except BaseException as error:  # noqa: BLE001
        os.write(control, ("setup-error:%s\n" % (error,)).encode())
        os._exit(SETUP_FAILED)
    # The job runs in this process (B): one fork of the zygote per execution (fork and exit of a warm interpreter
    # dominate the cost of an execution). A Node job is exec'd here; a Python job runs in this interpreter.
    become_job(job, config, pipes, job.get("argv"))


# --- the job monitor (runs in the supervisor) ------------------------------------------------------------------------

class Capture:
    """Keeps the head and the tail of a stream: a flood is drained, not killed, so verdicts match the references."""

    def __init__(self, limit):
        self.head = bytearray()
        self.tail = bytearray()
        self.limit = limit
        self.total = 0

    def add(self, chunk):
        self.total += len(chunk)
        room = self.limit - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        if chunk:
            self.tail += chunk
            keep = max(self.limit // 4, 1024)
            if len(self.tail) > 2 * keep:
                del self.tail[:-keep]

    def text(self):
        keep = max(self.limit // 4, 1024)
        tail = bytes(self.tail[-keep:])
        omitted = self.total - len(self.head) - len(tail)
        data = bytes(self.head)
        if omitted > 0:
            data += ("\n[codeloop: %d bytes omitted]\n" % omitted).encode()
        data += tail
        return data.decode("utf-8", "replace")


def drain(fd, captured):
    try:
        while select.select([fd], [], [], 0)[0]:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            captured.add(chunk)
    except OSError:
        pass
    os.close(fd)


def monitor(job, config, zygote):
    """Have the zygote start B, send B its job, enforce the wall clock, collect output; returns the raw result."""
    nonce = job["nonce"] = os.urandom(16).hex()
    readers, pipes = {}, {}
    for name in ("out", "err", "control", "status"):
        readers[name], pipes[name] = os.pipe2(os.O_CLOEXEC)
    job_r, job_w = os.pipe2(os.O_CLOEXEC)
    started = time.monotonic()
    socket.send_fds(zygote, [b"fork"], [pipes["out"], pipes["err"], pipes["control"], pipes["status"], job_r])
    for fd in list(pipes.values()) + [job_r]:
        os.close(fd)
    # Fill the job pipe while the zygote forks; what does not fit in the pipe goes after B has started reading.
    body = json.dumps(job).encode()
    pending = memoryview(b"%d\n" % len(body) + body)
    os.set_blocking(job_w, False)
    try:
        pending = pending[os.write(job_w, pending):]
    except BlockingIOError:
        pass
    message, fds, _, _ = socket.recv_fds(zygote, 64, 1)
    if not fds:
        for fd in list(readers.values()) + [job_w]:
            os.close(fd)
        return {"setupError": "zygote: %s" % message.decode(errors="replace")}
    exit_fd = fds[0]  # pidfd of B: readable when it exits; also how it is killed
    os.set_blocking(job_w, True)
    try:
        write_all(job_w, pending)
    except OSError:
        pass  # B died before reading its job; its exit status says why
    os.close(job_w)
    limits = job["limits"]
    deadline = started + limits["wallMs"] / 1000.0
    out_capture, err_capture = Capture(limits["outputBytes"]), Capture(limits["outputBytes"])
    control_capture, status_capture = Capture(4096), Capture(65536)
    streams = {readers["out"]: out_capture, readers["err"]: err_capture, readers["control"]: control_capture,
               readers["status"]: status_capture}
    timed_out = False
    # Wait for B's exit (pidfd) and for the pipes to close (every writer gone), whichever order they come in, without
    # polling. The program cannot keep us waiting past the deadline either way.
    waiting = dict(streams)
    waiting[exit_fd] = None
    while waiting:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            if exit_fd in waiting:
                timed_out = True
                # B is PID 1 of the job's namespace: this kills every process in it.
                signal.pidfd_send_signal(exit_fd, signal.SIGKILL)
            break
        ready, _, _ = select.select(list(waiting), [], [], remaining)
        for fd in ready:
            if fd == exit_fd:
                del waiting[fd]
                continue
            chunk = os.read(fd, 65536)
            if chunk:
                streams[fd].add(chunk)
            else:
                del streams[fd]
                del waiting[fd]
                os.close(fd)
        if exit_fd not in waiting and waiting:
            # B has exited; whatever still holds a pipe is a descendant the kernel is killing right now.
            deadline = min(deadline, time.monotonic() + 1.0)
    # The zygote reaps B and reports how it ended.
    report = json.loads(socket.recv_fds(zygote, 4096, 0)[0])
    os.close(exit_fd)
    duration_ms = (time.monotonic() - started) * 1000.0
    for fd, captured in streams.items():
        drain(fd, captured)  # the writers are dead now: take what is left without blocking
    raw = report["status"]
    return {
        "exitCode": os.WEXITSTATUS(raw) if os.WIFEXITED(raw) else None,
        "signal": os.WTERMSIG(raw) if os.WIFSIGNALED(raw) else None,
        "timedOut": timed_out,
        "durationMs": round(duration_ms, 3),
        "cpuMs": report["cpuMs"],
        "peakMemoryKiB": report["peakMemoryKiB"],
        "stdout": out_capture.text(),
        "stderr": err_capture.text(),
        "stdoutBytes": out_capture.total,
        "stderrBytes": err_capture.total,
        # Lines only codeloop's own code writes, before the program runs: setup-error, compile-error, signal.
        "control": [line for line in control_capture.text().split("\n") if line],
        # Lines written while the program runs (it can write them too): the end marker counts only with this job's nonce.
        "status": [("completed" if line == "completed:" + nonce else "forged-marker") if line.startswith("completed") else line
                   for line in status_capture.text().split("\n") if line],
    }


# --- the zygote: where executions are forked from -------------------------------------------------------------------

def join_job_cgroup(config, control):
    """Move this new execution into the worker's job cgroup, before it touches any memory of its own. The host opened
    that cgroup.procs file and handed it down as an fd; the job cgroup holds the execution's memory limit, so an OOM
    kill there can only choose among the execution's own processes, never the supervisor or the zygote."""
    fd = config.get("jobCgroupFd")
    if fd is None:
        return
    try:
        os.write(fd, b"0")
        os.close(fd)
    except BaseException as error:  # noqa: BLE001
        os.write(control, ("setup-error:join the job cgroup: %s\n" % (error,)).encode())
        os._exit(SETUP_FAILED)


def zygote_loop(config, channel):
    """Forks each execution. This process never reads a job or an output: B gets its job through a pipe after the
    fork, so nothing of any other execution is in the memory B starts from (not even freed remnants). Never returns."""
    while True:
        message, fds, _, _ = socket.recv_fds(channel, 64, 5)
        if not message:
            os._exit(0)
        try:
            if config["namespaces"]:
                # The next child becomes PID 1 of a new namespace. pid_for_children must first point back at our own
                # namespace, or a second unshare(CLONE_NEWPID) fails with EINVAL.
                check(libc.setns(config["pidNamespaceFd"], CLONE_NEWPID), "setns(PID)")
                check(libc.unshare(CLONE_NEWPID), "unshare(PID)")
            pid = os.fork()
        except BaseException as error:  # noqa: BLE001
            for fd in fds:
                os.close(fd)
            channel.sendall(("could not fork the execution: %s" % (error,)).encode())
            continue
        if pid == 0:
            try:
                channel.close()
                out, err, control, status, job_r = fds
                join_job_cgroup(config, control)
                job = json.loads(read_job(job_r))
                os.close(job_r)
                become_namespace_init(job, config, {"out": out, "err": err, "control": control, "status": status})
            finally:
                os._exit(SETUP_FAILED)
        for fd in fds:
            os.close(fd)
        exit_fd = os.pidfd_open(pid)
        socket.send_fds(channel, [b"started"], [exit_fd])
        os.close(exit_fd)
        _, raw, usage = os.wait4(pid, 0)
        channel.sendall(json.dumps({
            "status": raw,
            "cpuMs": round((usage.ru_utime + usage.ru_stime) * 1000.0, 3),
            "peakMemoryKiB": usage.ru_maxrss,
        }).encode())


# --- the supervisor loop --------------------------------------------------------------------------------------------

def run_job(job, config, zygote):
    scratch = None
    if config["namespaces"]:
        job["workdir"] = "/work"  # a fresh tmpfs in the job's own mount namespace
    else:
        import tempfile
        scratch = job["workdir"] = tempfile.mkdtemp(prefix="codeloop-job-")
    try:
        return monitor(job, config, zygote)
    finally:
        if scratch:
            import shutil
            shutil.rmtree(scratch, ignore_errors=True)


def main():
    config = json.loads(sys.argv[1])
    config["seccomp"] = base64.b64decode(config.get("seccomp") or "")
    try:
        with open("/proc/sys/kernel/cap_last_cap") as handle:
            config["lastCapability"] = int(handle.read())
    except OSError:
        config["lastCapability"] = 63
    for name in PRELOAD:
        try:
            __import__(name)
        except ImportError:
            pass
    # A write to a pipe whose reader is gone (a job that died early) must be an error here, not a fatal signal. This is
    # also what a fresh `python3` has; exec'd programs get the default back (become_job).
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    # Move every object allocated so far out of the collector's reach: a collection in a forked job would otherwise
    # write to (and so copy) every page of the preloaded heap. This is what gc.freeze() exists for.
    gc.collect()
    gc.freeze()
    # SOCK_SEQPACKET keeps message boundaries: one recv, one message.
    supervisor_end, zygote_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    if config["namespaces"]:
        # The zygote is PID 1 of a PID namespace of our own: it is owned by the user namespace in which we hold
        # CAP_SYS_ADMIN, so setns() back into it before each execution is allowed (bwrap's namespace is not ours).
        check(libc.unshare(CLONE_NEWPID), "unshare(PID)")
    job_cgroup_fd = config.get("jobCgroupFd")
    if job_cgroup_fd is not None:
        os.set_inheritable(job_cgroup_fd, False)  # the zygote's alone; never passed to a program
    zygote = os.fork()
    if zygote == 0:
        supervisor_end.close()
        null = os.open("/dev/null", os.O_RDWR)
        os.dup2(null, 0)  # the host's pipes are the supervisor's alone
        os.dup2(null, 1)
        os.close(null)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if config["namespaces"]:
            config["pidNamespaceFd"] = os.open("/proc/self/ns/pid", os.O_RDONLY)
        zygote_loop(config, zygote_end)
    zygote_end.close()
    if job_cgroup_fd is not None:
        os.close(job_cgroup_fd)
    send({"type": "ready", "pid": os.getpid(), "python": sys.version.split()[0]})
    while True:
        job = read_job(0)
        if job is None:
            return
        job = json.loads(job)
        try:
            result = run_job(job, config, supervisor_end)
        except Exception as error:  # noqa: BLE001 - report, keep serving
            result = {"setupError": "supervisor: %r" % (error,)}
        result["id"] = job["id"]
        result["type"] = "result"
        send(result)


if __name__ == "__main__":
    main()
