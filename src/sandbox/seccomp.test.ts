import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import { promisify } from 'node:util';

import { CodeloopError } from '../core/index.js';
import { buildSeccompFilter, describeSeccompPolicy, type SeccompArch } from './seccomp.js';

const ARCHES: readonly SeccompArch[] = ['x86_64', 'aarch64'];
const AUDIT_ARCH: Record<SeccompArch, number> = { x86_64: 0xc000_003e, aarch64: 0xc000_00b7 };
const ALLOW = 0x7fff_0000;
const KILL_PROCESS = 0x8000_0000;
const errno = (value: number): number => 0x0005_0000 | value;
const EPERM = 1;
const EACCES = 13;
const ENOSYS = 38;

// A second, independent copy of the syscall numbers (asm/unistd_64.h and asm-generic/unistd.h from
// linux-libc-dev 6.1, cross-checked with libseccomp's `scmp_sys_resolver`): a typo in either copy fails a test.
const NR: Record<SeccompArch, Record<string, number>> = {
  x86_64: {
    read: 0,
    write: 1,
    openat: 257,
    execve: 59,
    ioctl: 16,
    socket: 41,
    clone: 56,
    clone3: 435,
    personality: 135,
    ptrace: 101,
    process_vm_readv: 310,
    process_vm_writev: 311,
    kcmp: 312,
    pidfd_getfd: 438,
    bpf: 321,
    perf_event_open: 298,
    userfaultfd: 323,
    fanotify_init: 300,
    lookup_dcookie: 212,
    nfsservctl: 180,
    uselib: 134,
    mount: 165,
    umount2: 166,
    pivot_root: 155,
    chroot: 161,
    move_mount: 429,
    open_tree: 428,
    fsopen: 430,
    fsconfig: 431,
    fsmount: 432,
    fspick: 433,
    mount_setattr: 442,
    open_by_handle_at: 304,
    name_to_handle_at: 303,
    unshare: 272,
    setns: 308,
    keyctl: 250,
    add_key: 248,
    request_key: 249,
    kexec_load: 246,
    kexec_file_load: 320,
    init_module: 175,
    finit_module: 313,
    delete_module: 176,
    reboot: 169,
    swapon: 167,
    swapoff: 168,
    acct: 163,
    quotactl: 179,
    quotactl_fd: 443,
    syslog: 103,
    vhangup: 153,
    settimeofday: 164,
    clock_settime: 227,
    clock_adjtime: 305,
    adjtimex: 159,
    iopl: 172,
    ioperm: 173,
    modify_ldt: 154,
    io_uring_setup: 425,
    io_uring_enter: 426,
    io_uring_register: 427,
    setsid: 112,
    memfd_create: 319,
    memfd_secret: 447,
  },
  aarch64: {
    read: 63,
    write: 64,
    openat: 56,
    execve: 221,
    ioctl: 29,
    socket: 198,
    clone: 220,
    clone3: 435,
    personality: 92,
    ptrace: 117,
    process_vm_readv: 270,
    process_vm_writev: 271,
    kcmp: 272,
    pidfd_getfd: 438,
    bpf: 280,
    perf_event_open: 241,
    userfaultfd: 282,
    fanotify_init: 262,
    lookup_dcookie: 18,
    nfsservctl: 42,
    mount: 40,
    umount2: 39,
    pivot_root: 41,
    chroot: 51,
    move_mount: 429,
    open_tree: 428,
    fsopen: 430,
    fsconfig: 431,
    fsmount: 432,
    fspick: 433,
    mount_setattr: 442,
    open_by_handle_at: 265,
    name_to_handle_at: 264,
    unshare: 97,
    setns: 268,
    keyctl: 219,
    add_key: 217,
    request_key: 218,
    kexec_load: 104,
    kexec_file_load: 294,
    init_module: 105,
    finit_module: 273,
    delete_module: 106,
    reboot: 142,
    swapon: 224,
    swapoff: 225,
    acct: 89,
    quotactl: 60,
    quotactl_fd: 443,
    syslog: 116,
    vhangup: 58,
    settimeofday: 170,
    clock_settime: 112,
    clock_adjtime: 266,
    adjtimex: 171,
    io_uring_setup: 425,
    io_uring_enter: 426,
    io_uring_register: 427,
    setsid: 157,
    memfd_create: 279,
    memfd_secret: 447,
  },
};

const ALWAYS_DENIED_BOTH = [
  'ptrace',
  'process_vm_readv',
  'process_vm_writev',
  'kcmp',
  'pidfd_getfd',
  'bpf',
  'perf_event_open',
  'userfaultfd',
  'fanotify_init',
  'lookup_dcookie',
  'nfsservctl',
  'mount',
  'umount2',
  'pivot_root',
  'chroot',
  'move_mount',
  'open_tree',
  'fsopen',
  'fsconfig',
  'fsmount',
  'fspick',
  'mount_setattr',
  'open_by_handle_at',
  'name_to_handle_at',
  'unshare',
  'setns',
  'keyctl',
  'add_key',
  'request_key',
  'kexec_load',
  'kexec_file_load',
  'init_module',
  'finit_module',
  'delete_module',
  'reboot',
  'swapon',
  'swapoff',
  'acct',
  'quotactl',
  'quotactl_fd',
  'syslog',
  'vhangup',
  'settimeofday',
  'clock_settime',
  'clock_adjtime',
  'adjtimex',
  'io_uring_setup',
  'io_uring_enter',
  'io_uring_register',
  'clone3',
  'memfd_secret',
];
/** Denied unless the executor has a CPU cgroup per worker (setsid) and a memory cgroup per execution (memfd_create). */
const DENIED_WITHOUT_CGROUPS = ['setsid', 'memfd_create'];
const ALWAYS_DENIED: Record<SeccompArch, string[]> = {
  x86_64: [...ALWAYS_DENIED_BOTH, 'uselib', 'iopl', 'ioperm', 'modify_ldt'],
  aarch64: ALWAYS_DENIED_BOTH,
};

function nr(arch: SeccompArch, syscall: string): number {
  const value = NR[arch][syscall];
  assert.ok(value !== undefined, `the test's syscall table has no ${arch} number for ${syscall}: add it`);
  return value;
}

// --- A classic BPF interpreter, just the subset seccomp programs use -----------------------------------------------

interface SeccompData {
  nr: number;
  arch: number;
  /** Up to six u64 arguments. */
  args?: readonly (number | bigint)[];
}

interface Instruction {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

function decode(program: Buffer): Instruction[] {
  assert.equal(program.length % 8, 0, `program length ${program.length} is not a multiple of 8`);
  return Array.from({ length: program.length / 8 }, (_, i) => ({
    code: program.readUInt16LE(i * 8),
    jt: program.readUInt8(i * 8 + 2),
    jf: program.readUInt8(i * 8 + 3),
    k: program.readUInt32LE(i * 8 + 4),
  }));
}

/** Runs the program on one struct seccomp_data (64 bytes) and returns the filter's u32 return value. */
function run(program: Buffer, data: SeccompData): number {
  const input = Buffer.alloc(64);
  input.writeUInt32LE(data.nr >>> 0, 0);
  input.writeUInt32LE(data.arch, 4);
  (data.args ?? []).forEach((arg, i) => input.writeBigUInt64LE(BigInt(arg), 16 + 8 * i));
  const instructions = decode(program);
  let accumulator = 0;
  let pc = 0;
  for (;;) {
    const instruction = instructions[pc];
    assert.ok(instruction !== undefined, `execution fell off the end of the program at ${pc}`);
    const { code, jt, jf, k } = instruction;
    const branch = (taken: boolean): void => void (pc += 1 + (taken ? jt : jf));
    switch (code) {
      case 0x20: // BPF_LD | BPF_W | BPF_ABS
        assert.ok(k % 4 === 0 && k + 4 <= 64, `misaligned or out-of-range load at offset ${k}`);
        accumulator = input.readUInt32LE(k);
        pc += 1;
        break;
      case 0x15: // BPF_JMP | BPF_JEQ | BPF_K
        branch(accumulator === k);
        break;
      case 0x35: // BPF_JMP | BPF_JGE | BPF_K
        branch(accumulator >= k);
        break;
      case 0x45: // BPF_JMP | BPF_JSET | BPF_K
        branch((accumulator & k) !== 0);
        break;
      case 0x06: // BPF_RET | BPF_K
        return k;
      default:
        assert.fail(`unsupported opcode 0x${code.toString(16)} at ${pc}`);
    }
  }
}

// --- Structure ------------------------------------------------------------------------------------------------------

test('every program is well formed and starts with the architecture check', () => {
  for (const arch of ARCHES) {
    for (const allowNetwork of [false, true]) {
      const program = buildSeccompFilter({ arch, allowNetwork });
      const instructions = decode(program);
      const label = `${arch} allowNetwork=${allowNetwork}`;
      assert.ok(instructions.length <= 4096, `${label}: ${instructions.length} instructions`);
      assert.deepEqual(
        instructions.slice(0, 4),
        [
          { code: 0x20, jt: 0, jf: 0, k: 4 },
          { code: 0x15, jt: 1, jf: 0, k: AUDIT_ARCH[arch] },
          { code: 0x06, jt: 0, jf: 0, k: KILL_PROCESS },
          { code: 0x20, jt: 0, jf: 0, k: 0 },
        ],
        label,
      );
      assert.deepEqual(instructions.at(-1), { code: 0x06, jt: 0, jf: 0, k: ALLOW }, `${label}: default is not ALLOW`);
      instructions.forEach(({ code, jt, jf }, i) => {
        assert.ok([0x20, 0x15, 0x35, 0x45, 0x06].includes(code), `${label}: opcode 0x${code.toString(16)} at ${i}`);
        if ((code & 0x07) === 0x05) {
          assert.ok(i + 1 + Math.max(jt, jf) < instructions.length, `${label}: jump at ${i} leaves the program`);
        }
      });
    }
  }
});

test('the default architecture follows process.arch, and others are refused with a typed error', () => {
  const host = process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'aarch64' : undefined;
  if (host) assert.deepEqual(buildSeccompFilter(), buildSeccompFilter({ arch: host }));
  const descriptor = Object.getOwnPropertyDescriptor(process, 'arch');
  assert.ok(descriptor);
  Object.defineProperty(process, 'arch', { ...descriptor, value: 'riscv64' });
  try {
    assert.throws(
      () => buildSeccompFilter(),
      (error: unknown) => {
        assert.ok(error instanceof CodeloopError);
        assert.equal(error.code, 'seccomp-unsupported-arch');
        assert.match(error.message, /process\.arch "riscv64".*only x64 \(x86_64\) and arm64 \(aarch64\)/);
        return true;
      },
    );
    assert.throws(() => describeSeccompPolicy(), { code: 'seccomp-unsupported-arch' });
    assert.doesNotThrow(() => buildSeccompFilter({ arch: 'aarch64' }));
  } finally {
    Object.defineProperty(process, 'arch', descriptor);
  }
});

// --- Behaviour, on the interpreter ----------------------------------------------------------------------------------

for (const arch of ARCHES) {
  const program = buildSeccompFilter({ arch });
  const networked = buildSeccompFilter({ arch, allowNetwork: true });
  const call = (syscall: string, ...args: (number | bigint)[]): number =>
    run(program, { nr: nr(arch, syscall), arch: AUDIT_ARCH[arch], args });

  test(`${arch}: the policy description lists exactly the expected unconditional denials`, () => {
    const rules = describeSeccompPolicy({ arch });
    const unconditional = (options: Parameters<typeof describeSeccompPolicy>[0]) =>
      describeSeccompPolicy(options)
        .filter((rule) => rule.syscall !== '*' && rule.condition === undefined)
        .map((rule) => rule.syscall)
        .sort();
    assert.deepEqual(unconditional({ arch }), [...ALWAYS_DENIED[arch], ...DENIED_WITHOUT_CGROUPS].sort());
    assert.deepEqual(unconditional({ arch, allowSessions: true, allowMemfd: true }), [...ALWAYS_DENIED[arch]].sort());
    const archCondition = `arch is not ${arch} (0x${AUDIT_ARCH[arch].toString(16)})`;
    assert.deepEqual(rules[0], { syscall: '*', action: 'kill', condition: archCondition });
    assert.deepEqual(
      rules
        .filter((rule) => rule.condition !== undefined && rule.syscall !== '*')
        .map((rule) => [rule.syscall, rule.condition]),
      [
        ['clone', 'arg0 (flags) has any CLONE_NEW* bit (0x7e020080)'],
        ['ioctl', 'arg1 (request) is one of TIOCSTI 0x5412, TIOCLINUX 0x541c, TIOCSETD 0x5423'],
        ['personality', 'arg0 (persona) is none of PER_LINUX 0x0, query 0xffffffff'],
        ['socket', 'arg0 (domain) is none of AF_UNIX 0x1'],
      ],
    );
    const networkRules = describeSeccompPolicy({ arch, allowNetwork: true });
    assert.ok(!networkRules.some((rule) => rule.syscall === 'socket'), 'allowNetwork still has a socket rule');
  });

  test(`${arch}: every unconditional denial returns its errno at the test's own syscall number`, () => {
    for (const rule of describeSeccompPolicy({ arch })) {
      if (rule.syscall === '*' || rule.condition !== undefined) continue;
      assert.equal(rule.action, 'errno');
      const expected =
        rule.syscall.startsWith('io_uring_') || rule.syscall === 'clone3' || rule.syscall === 'memfd_secret'
          ? ENOSYS
          : EPERM;
      assert.equal(rule.errno, expected, `${rule.syscall} errno`);
      assert.equal(call(rule.syscall), errno(expected), `${arch} ${rule.syscall} (nr ${nr(arch, rule.syscall)})`);
    }
  });

  test(`${arch}: ordinary syscalls are allowed`, () => {
    for (const syscall of ['read', 'write', 'openat', 'execve']) assert.equal(call(syscall), ALLOW, syscall);
    // A number no rule names, up to the last reviewed one.
    assert.equal(run(program, { nr: 400, arch: AUDIT_ARCH[arch] }), ALLOW);
    assert.equal(run(program, { nr: 450, arch: AUDIT_ARCH[arch] }), ALLOW);
  });

  test(`${arch}: syscalls newer than the reviewed tables get ENOSYS`, () => {
    for (const number of [451, 457, 458, 467, 1000])
      assert.equal(run(program, { nr: number, arch: AUDIT_ARCH[arch] }), errno(38), String(number));
  });

  test(`${arch}: ABI checks`, () => {
    const otherArch = arch === 'x86_64' ? AUDIT_ARCH.aarch64 : AUDIT_ARCH.x86_64;
    assert.equal(run(program, { nr: nr(arch, 'write'), arch: otherArch }), KILL_PROCESS);
    assert.equal(run(program, { nr: nr(arch, 'write'), arch: 0x4000_0003 }), KILL_PROCESS, 'i386');
    assert.equal(run(program, { nr: nr(arch, 'write'), arch: 0x4000_0028 }), KILL_PROCESS, 'AArch32');
    // x32: ptrace's x32 number is 0x40000000 + 521; every x32 number is refused on x86_64.
    const x32 = run(program, { nr: 0x4000_0000 + 521, arch: AUDIT_ARCH[arch] });
    assert.equal(x32, arch === 'x86_64' ? errno(EPERM) : errno(38));
    if (arch === 'x86_64') assert.equal(run(program, { nr: 0x4000_0001, arch: AUDIT_ARCH[arch] }), errno(EPERM));
  });

  test(`${arch}: clone is denied only with namespace flags, on the low word`, () => {
    assert.equal(call('clone', 0x3d0f00), ALLOW, 'pthread_create flags');
    assert.equal(call('clone', 0x01200011), ALLOW, 'fork flags (CLONE_CHILD_SETTID|CLONE_CHILD_CLEARTID|SIGCHLD)');
    assert.equal(call('clone', 0x10000000), errno(EPERM), 'CLONE_NEWUSER');
    for (const flag of [0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x20000000, 0x40000000, 0x80]) {
      assert.equal(call('clone', 0x3d0f00 | flag), errno(EPERM), `flag 0x${flag.toString(16)}`);
    }
    assert.equal(call('clone', 0x1_0000_0000n), ALLOW, 'high word is ignored, as the kernel does for clone');
    assert.equal(call('clone3'), errno(ENOSYS));
  });

  test(`${arch}: ioctl, personality and socket`, () => {
    assert.equal(call('ioctl', 0, 0x5412), errno(EPERM), 'TIOCSTI');
    assert.equal(call('ioctl', 0, 0x541c), errno(EPERM), 'TIOCLINUX');
    assert.equal(call('ioctl', 0, 0x5423), errno(EPERM), 'TIOCSETD');
    assert.equal(call('ioctl', 0, 0x1_0000_5412n), errno(EPERM), 'TIOCSTI with junk in the high word');
    assert.equal(call('ioctl', 0, 0x5401), ALLOW, 'TCGETS');
    assert.equal(call('personality', 0), ALLOW);
    assert.equal(call('personality', 0xffffffff), ALLOW);
    assert.equal(call('personality', 0xffff_ffff_ffff_ffffn), ALLOW);
    assert.equal(call('personality', 0x0040000), errno(EPERM), 'ADDR_NO_RANDOMIZE');
    // The kernel takes an unsigned int, so 0x100000000 is PER_LINUX.
    assert.equal(call('personality', 0x1_0000_0000n), ALLOW, 'high word is ignored');
    assert.equal(call('socket', 2), errno(EACCES), 'AF_INET');
    assert.equal(call('socket', 10), errno(EACCES), 'AF_INET6');
    assert.equal(call('socket', 16), errno(EACCES), 'AF_NETLINK');
    assert.equal(call('socket', 1), ALLOW, 'AF_UNIX');
    assert.equal(call('socket', 0x1_0000_0002n), errno(EACCES), 'AF_INET with junk in the high word');
    const socket = nr(arch, 'socket');
    assert.equal(run(networked, { nr: socket, arch: AUDIT_ARCH[arch], args: [2] }), ALLOW, 'AF_INET with allowNetwork');
    assert.equal(run(networked, { nr: nr(arch, 'ptrace'), arch: AUDIT_ARCH[arch] }), errno(EPERM));
  });

  test(`${arch}: setsid and memfd_create are allowed only where cgroups bound them`, () => {
    const withCgroups = buildSeccompFilter({ arch, allowSessions: true, allowMemfd: true });
    for (const syscall of ['setsid', 'memfd_create']) {
      assert.equal(call(syscall), errno(EPERM), `${syscall} by default`);
      assert.equal(run(withCgroups, { nr: nr(arch, syscall), arch: AUDIT_ARCH[arch] }), ALLOW, `${syscall} allowed`);
    }
    assert.equal(run(withCgroups, { nr: nr(arch, 'memfd_secret'), arch: AUDIT_ARCH[arch] }), errno(ENOSYS));
  });
}

// --- Behaviour, in the real kernel ----------------------------------------------------------------------------------

const PYTHON = '/usr/bin/python3';
const hostSupported = process.platform === 'linux' && (process.arch === 'x64' || process.arch === 'arm64');
const skip = hostSupported ? false : `needs x64/arm64 Linux (this is ${process.platform}/${process.arch})`;

// Installs the program from argv[1] the way runtime/supervisor.py does, then either runs the checks below and prints
// them as JSON, or (with "exec" and a command) execs the command under the filter.
const INSTALL_AND_CHECK = String.raw`
import ctypes, errno, json, os, socket, sys, tempfile, threading

libc = ctypes.CDLL(None, use_errno=True)
libc.prctl.argtypes = (ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong)
libc.personality.argtypes = (ctypes.c_ulong,)
libc.syscall.restype = ctypes.c_long

class SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint)]

class SockFprog(ctypes.Structure):  # unsigned short len; (6 bytes of padding, added by ctypes); sock_filter *filter
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(SockFilter))]

def call(function, *args):
    ctypes.set_errno(0)
    result = function(*args)
    return errno.errorcode.get(ctypes.get_errno(), "?") if result == -1 else "ok"

def in_child(function, *args):  # for calls that would disturb this process if the filter let them through
    pid = os.fork()
    if pid == 0:
        ctypes.set_errno(0)
        os._exit(ctypes.get_errno() if function(*args) == -1 else 0)
    code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    return errno.errorcode.get(code, "?") if code else "ok"

def python_error(action):
    try:
        action()
        return "ok"
    except OSError as error:
        return "%s:%s" % (type(error).__name__, errno.errorcode.get(error.errno, "?"))

program = open(sys.argv[1], "rb").read()
count = len(program) // 8
filters = (SockFilter * count).from_buffer_copy(program)
fprog = SockFprog(count, filters)
out = {"noNewPrivs": call(libc.prctl, 38, 1, 0, 0, 0)}
out["install"] = call(libc.prctl, 22, 2, ctypes.addressof(fprog), 0, 0)
if out["install"] != "ok":
    print(json.dumps(out))
    sys.exit(0)
if sys.argv[2:3] == ["exec"]:
    os.execv(sys.argv[3], sys.argv[3:])

out["socketInet"] = python_error(lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM).close())
def socketpair():
    left, right = socket.socketpair()
    left.sendall(b"x")
    assert right.recv(1) == b"x"
out["socketpair"] = python_error(socketpair)
out["unshareUser"] = in_child(libc.unshare, 0x10000000)
out["ptraceTraceme"] = in_child(libc.ptrace, 0, 0, None, None)
out["clone3"] = call(libc.syscall, 435, None, 0)
read_end, write_end = os.pipe()  # a pipe, not a tty: without the filter TIOCSTI would just fail with ENOTTY
out["tiocsti"] = call(libc.ioctl, read_end, 0x5412, ctypes.c_char_p(b"x"))
out["personalityQuery"] = call(libc.personality, 0xffffffff)
out["personalityNoAslr"] = call(libc.personality, 0x0040000)
pid = os.fork()
if pid == 0:
    os._exit(7)
out["forkExit"] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
seen = []
thread = threading.Thread(target=lambda: seen.append(1))
thread.start()
thread.join()
out["thread"] = "ok" if seen == [1] else "not run"
with tempfile.TemporaryDirectory() as directory:
    path = os.path.join(directory, "file")
    with open(path, "w") as handle:
        handle.write("hello")
    with open(path) as handle:
        out["fileWrite"] = "ok" if handle.read() == "hello" else "mismatch"
print(json.dumps(out))
`;

// Node under the filter: libuv's io_uring and clone3 must fall back quietly, workers and child processes must work,
// TCP must be refused and Unix sockets must not.
const NODE_CHECK = String.raw`
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { Worker } = require('node:worker_threads');
(async () => {
  const out = {};
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'seccomp-node-'));
  await fs.promises.writeFile(path.join(directory, 'file'), 'hello');
  out.fileWrite = (await fs.promises.readFile(path.join(directory, 'file'), 'utf8')) === 'hello' ? 'ok' : 'mismatch';
  out.childStatus = spawnSync(process.execPath, ['-e', 'process.exit(3)']).status;
  out.worker = await new Promise((resolve) => {
    const worker = new Worker('require("node:worker_threads").parentPort.postMessage(6 * 7)', { eval: true });
    worker.once('message', resolve);
    worker.once('error', (error) => resolve(String(error)));
  });
  const listen = (server, ...args) => new Promise((resolve) => {
    server.once('error', (error) => resolve(error.code));
    server.listen(...args, () => server.close(() => resolve('ok')));
  });
  out.tcpListen = await listen(net.createServer(), 0, '127.0.0.1');
  out.unixListen = await listen(net.createServer(), path.join(directory, 'socket'));
  fs.rmSync(directory, { recursive: true });
  console.log(JSON.stringify(out));
})();
`;

async function runUnderFilter(program: Buffer, extraArgs: readonly string[] = []): Promise<Record<string, unknown>> {
  assert.ok(existsSync(PYTHON), `${PYTHON} is missing: the sandbox runs jobs with the system python3`);
  const directory = await mkdtemp(join(tmpdir(), 'codeloop-seccomp-'));
  try {
    const programPath = join(directory, 'filter.bpf');
    await writeFile(programPath, program);
    const { stdout } = await promisify(execFile)(PYTHON, ['-I', '-c', INSTALL_AND_CHECK, programPath, ...extraArgs], {
      timeout: 30_000,
    });
    return JSON.parse(stdout) as Record<string, unknown>;
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

test('the real kernel enforces the filter on python3', { skip }, async () => {
  const result = await runUnderFilter(buildSeccompFilter());
  assert.deepEqual(result, {
    noNewPrivs: 'ok',
    install: 'ok',
    socketInet: 'PermissionError:EACCES',
    socketpair: 'ok',
    unshareUser: 'EPERM',
    ptraceTraceme: 'EPERM',
    clone3: 'ENOSYS',
    tiocsti: 'EPERM',
    personalityQuery: 'ok',
    personalityNoAslr: 'EPERM',
    forkExit: 7,
    thread: 'ok',
    fileWrite: 'ok',
  });
});

test('the real kernel runs node normally under the filter', { skip }, async () => {
  const result = await runUnderFilter(buildSeccompFilter(), ['exec', process.execPath, '-e', NODE_CHECK]);
  assert.deepEqual(result, { fileWrite: 'ok', childStatus: 3, worker: 42, tcpListen: 'EACCES', unixListen: 'ok' });
});

test('the real kernel allows TCP sockets with allowNetwork', { skip }, async () => {
  const result = await runUnderFilter(buildSeccompFilter({ allowNetwork: true }));
  assert.equal(result.install, 'ok');
  assert.equal(result.socketInet, 'ok');
  assert.equal(result.ptraceTraceme, 'EPERM');
});
