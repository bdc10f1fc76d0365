import { CodeloopError } from '../core/index.js';

// A classic seccomp BPF program, generated in TypeScript so the sandbox needs no native dependency. The supervisor
// (runtime/supervisor.py) installs it with prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &sock_fprog) after
// PR_SET_NO_NEW_PRIVS, in the process that then runs untrusted, model-generated code.
//
// WARNING: this is a deny-list: anything not named below is allowed. A wrong syscall number silently turns a rule
// into a no-op. The numbers were checked against linux-libc-dev 6.1 (asm/unistd_64.h, asm-generic/unistd.h) and
// libseccomp 2.5.4 (`scmp_sys_resolver -a <arch> <name>`), and seccomp.test.ts pins them with its own copy.
//
// Layout (see `buildSeccompFilter`): check the ABI, load the syscall number, then one short block per rule, each
// ending in its own return, so every jump offset is a handful of instructions (classic BPF offsets are 8-bit). Blocks
// never touch the arguments of a syscall they do not match, so the kernel's action cache (Linux 5.11+) can prove at
// install time that the other syscalls are always allowed, and then skips the filter for them.

export type SeccompArch = 'x86_64' | 'aarch64';

export interface SeccompFilterOptions {
  /**
   * Architecture of the process the filter is installed in. Default: detected from `process.arch` (`x64` → `x86_64`,
   * `arm64` → `aarch64`); any other architecture throws a `CodeloopError` with code `seccomp-unsupported-arch`.
   */
  arch?: SeccompArch;
  /** Allow AF_INET/AF_INET6 (and every other) socket domain. Default: false, which allows only AF_UNIX sockets. */
  allowNetwork?: boolean;
  /**
   * Allow `setsid`. Default: false. Each new session gets its own scheduler autogroup, so without a CPU cgroup per
   * worker a program that spreads over many sessions takes CPU from the executions running beside it; give true only
   * where each worker has its own CPU cgroup (where autogroups do not apply).
   */
  allowSessions?: boolean;
  /**
   * Allow `memfd_create`. Default: false. A memfd's pages count against no rlimit (not RLIMIT_AS unless mapped), only
   * against a memory cgroup: give true only where each execution has one.
   */
  allowMemfd?: boolean;
}

/** One rule of the policy, as data for `codeloop doctor` and the docs. */
export interface SeccompRule {
  /** Syscall name as in the kernel's unistd headers, or `*` for a check that applies to every syscall. */
  syscall: string;
  /** `errno`: the call fails with `errno` and the process goes on. `kill`: the whole process is killed. */
  action: 'errno' | 'kill';
  /** Set when `action` is `errno`. */
  errno?: number;
  /** When the rule applies; absent means on every call. Arguments are compared on their low 32 bits. */
  condition?: string;
}

// --- Constants (linux/seccomp.h, linux/audit.h, linux/filter.h, asm-generic/errno-base.h) ----------------------------

const SECCOMP_RET_KILL_PROCESS = 0x8000_0000;
const SECCOMP_RET_ERRNO = 0x0005_0000;
const SECCOMP_RET_ALLOW = 0x7fff_0000;

const AUDIT_ARCH: Record<SeccompArch, number> = { x86_64: 0xc000_003e, aarch64: 0xc000_00b7 };
/** x86_64 marks x32-ABI syscalls with this bit. They report AUDIT_ARCH_X86_64 too: only the number tells them apart. */
const X32_SYSCALL_BIT = 0x4000_0000;

/**
 * The highest syscall number in the kernel headers these tables were checked against (Linux 6.1: 450,
 * set_mempolicy_home_node, on both arches). Anything newer is a syscall this deny-list has never reviewed (e.g.
 * open_tree_attr, listmount), so it gets ENOSYS, which every libc and runtime already handles as "old kernel".
 */
const LAST_REVIEWED_SYSCALL = 450;

const EPERM = 1;
const EACCES = 13;
const ENOSYS = 38;

// struct seccomp_data { int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6]; }
const OFFSET_NR = 0;
const OFFSET_ARCH = 4;
/** Low 32-bit word of args[index]. Both arches are little-endian (big-endian aarch64 has another AUDIT_ARCH value). */
const argumentLowOffset = (index: number): number => 16 + 8 * index;

// --- Syscall numbers ------------------------------------------------------------------------------------------------

/** arch/x86/entry/syscalls/syscall_64.tbl, as installed in /usr/include/x86_64-linux-gnu/asm/unistd_64.h. */
const X86_64_SYSCALLS = {
  ptrace: 101,
  process_vm_readv: 310,
  process_vm_writev: 311,
  kcmp: 312,
  pidfd_getfd: 438,
  bpf: 321,
  perf_event_open: 298,
  userfaultfd: 323,
  lookup_dcookie: 212,
  nfsservctl: 180,
  uselib: 134,
  fanotify_init: 300,
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
  clone3: 435,
  clone: 56,
  ioctl: 16,
  socket: 41,
  personality: 135,
  setsid: 112,
  memfd_create: 319,
  memfd_secret: 447,
} as const;

type SyscallName = keyof typeof X86_64_SYSCALLS;
/** x86-only syscalls; aarch64 never had them (asm-generic/unistd.h has no number for them). */
type X86OnlySyscall = 'iopl' | 'ioperm' | 'modify_ldt' | 'uselib';

/** include/uapi/asm-generic/unistd.h, the table arm64 uses. */
const AARCH64_SYSCALLS: Record<Exclude<SyscallName, X86OnlySyscall>, number> = {
  ptrace: 117,
  process_vm_readv: 270,
  process_vm_writev: 271,
  kcmp: 272,
  pidfd_getfd: 438,
  bpf: 280,
  perf_event_open: 241,
  userfaultfd: 282,
  lookup_dcookie: 18,
  nfsservctl: 42,
  fanotify_init: 262,
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
  clone3: 435,
  clone: 220,
  ioctl: 29,
  socket: 198,
  personality: 92,
  setsid: 157,
  memfd_create: 279,
  memfd_secret: 447,
};

const SYSCALLS: Record<SeccompArch, Partial<Record<SyscallName, number>>> = {
  x86_64: X86_64_SYSCALLS,
  aarch64: AARCH64_SYSCALLS,
};

// --- The policy -----------------------------------------------------------------------------------------------------

interface NamedValue {
  name: string;
  value: number;
}

/** A test on the low 32 bits of one argument; the rule denies when it holds. */
interface ArgumentCondition {
  index: number;
  /** The argument's name in the man page, for the description. */
  name: string;
  test:
    | { kind: 'has-any-bit'; mask: NamedValue }
    | { kind: 'is-one-of'; values: readonly NamedValue[] }
    | { kind: 'is-none-of'; values: readonly NamedValue[] };
}

interface DenyRule {
  syscall: SyscallName;
  errno: number;
  when?: ArgumentCondition;
}

const deny = (errno: number, syscalls: readonly SyscallName[]): DenyRule[] =>
  syscalls.map((syscall) => ({ syscall, errno }));

// CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET
// | CLONE_NEWTIME (linux/sched.h); all in the low word, which is all the kernel reads of clone's flags.
const CLONE_NEW_ANY =
  0x0002_0000 | 0x0200_0000 | 0x0400_0000 | 0x0800_0000 | 0x1000_0000 | 0x2000_0000 | 0x4000_0000 | 0x0000_0080;

const UNCONDITIONAL: readonly DenyRule[] = [
  // Reading or steering other processes (memory, file descriptors, kernel object identity).
  ...deny(EPERM, ['ptrace', 'process_vm_readv', 'process_vm_writev', 'kcmp', 'pidfd_getfd']),
  // Large kernel attack surface with a long CVE history that test code never needs: eBPF, perf, userfaultfd (a classic
  // race-widening primitive for exploits), fanotify, and dead syscalls kept only for old binaries.
  ...deny(EPERM, ['bpf', 'perf_event_open', 'userfaultfd', 'fanotify_init', 'lookup_dcookie', 'nfsservctl', 'uselib']),
  // The filesystem view is fixed by the supervisor; open_by_handle_at is the "shocker" container escape.
  ...deny(EPERM, ['mount', 'umount2', 'pivot_root', 'chroot', 'move_mount', 'open_tree', 'fsopen', 'fsconfig']),
  ...deny(EPERM, ['fsmount', 'fspick', 'mount_setattr', 'open_by_handle_at', 'name_to_handle_at']),
  // New namespaces (user namespaces above all) unlock kernel code paths normally reserved for root.
  ...deny(EPERM, ['unshare', 'setns']),
  // The kernel keyring is not namespaced: keys could leak between jobs or from the host.
  ...deny(EPERM, ['keyctl', 'add_key', 'request_key']),
  // Host administration: kernel images and modules, power, swap, accounting, quotas, the kernel log, the terminal.
  ...deny(EPERM, ['kexec_load', 'kexec_file_load', 'init_module', 'finit_module', 'delete_module', 'reboot']),
  ...deny(EPERM, ['swapon', 'swapoff', 'acct', 'quotactl', 'quotactl_fd', 'syslog', 'vhangup']),
  // The clock is shared with the host and every other job.
  ...deny(EPERM, ['settimeofday', 'clock_settime', 'clock_adjtime', 'adjtimex']),
  // x86 I/O ports and the local descriptor table (x86 only).
  ...deny(EPERM, ['iopl', 'ioperm', 'modify_ldt']),
  // io_uring runs its operations in kernel workers the filter never sees. ENOSYS, not EPERM, so that libuv (Node)
  // silently falls back to its thread pool.
  ...deny(ENOSYS, ['io_uring_setup', 'io_uring_enter', 'io_uring_register']),
  // clone3 takes its flags in a struct that a seccomp filter cannot read. On ENOSYS glibc falls back to clone, whose
  // flags the rule below can check.
  ...deny(ENOSYS, ['clone3']),
  // Secret memory is taken out of the kernel's direct map and counts against no memory cgroup limit the same way;
  // ENOSYS, as on kernels built without it.
  ...deny(ENOSYS, ['memfd_secret']),
];

/** Without a CPU cgroup per worker: see `allowSessions`. */
const NO_SESSIONS: readonly DenyRule[] = deny(EPERM, ['setsid']);
/** Without a memory cgroup per execution: see `allowMemfd`. */
const NO_MEMFD: readonly DenyRule[] = deny(EPERM, ['memfd_create']);

const CONDITIONAL: readonly DenyRule[] = [
  // clone(flags, …) on both arches: creating namespaces, see unshare above. Threads and fork stay allowed.
  {
    syscall: 'clone',
    errno: EPERM,
    when: {
      index: 0,
      name: 'flags',
      test: { kind: 'has-any-bit', mask: { name: 'CLONE_NEW*', value: CLONE_NEW_ANY } },
    },
  },
  // Pushing characters into the controlling terminal's input (the classic sandbox escape through a shared tty), and
  // line disciplines.
  {
    syscall: 'ioctl',
    errno: EPERM,
    when: {
      index: 1,
      name: 'request',
      test: {
        kind: 'is-one-of',
        values: [
          { name: 'TIOCSTI', value: 0x5412 },
          { name: 'TIOCLINUX', value: 0x541c },
          // Changing the line discipline loads tty code (N_GSM, N_HDLC…) with a long CVE history.
          { name: 'TIOCSETD', value: 0x5423 },
        ],
      },
    },
  },
  // Execution domains can turn off ASLR (ADDR_NO_RANDOMIZE) or change mmap semantics; querying and PER_LINUX are fine.
  {
    syscall: 'personality',
    errno: EPERM,
    when: {
      index: 0,
      name: 'persona',
      test: {
        kind: 'is-none-of',
        values: [
          { name: 'PER_LINUX', value: 0 },
          { name: 'query', value: 0xffff_ffff },
        ],
      },
    },
  },
];

/** No network unless asked for: EACCES, which Python and Node both report as a permission error. */
const SOCKET_UNIX_ONLY: DenyRule = {
  syscall: 'socket',
  errno: EACCES,
  when: { index: 0, name: 'domain', test: { kind: 'is-none-of', values: [{ name: 'AF_UNIX', value: 1 }] } },
};

interface ResolvedRule extends DenyRule {
  nr: number;
}

type PolicyOptions = Required<Omit<SeccompFilterOptions, 'arch'>>;

function resolvePolicy(arch: SeccompArch, options: PolicyOptions): ResolvedRule[] {
  const rules = [
    ...UNCONDITIONAL,
    ...(options.allowSessions ? [] : NO_SESSIONS),
    ...(options.allowMemfd ? [] : NO_MEMFD),
    ...CONDITIONAL,
    ...(options.allowNetwork ? [] : [SOCKET_UNIX_ONLY]),
  ];
  const resolved: ResolvedRule[] = [];
  for (const rule of rules) {
    const nr = SYSCALLS[arch][rule.syscall];
    if (nr !== undefined) resolved.push({ ...rule, nr }); // a syscall the arch does not have needs no rule
  }
  return resolved;
}

function detectArch(): SeccompArch {
  if (process.arch === 'x64') return 'x86_64';
  if (process.arch === 'arm64') return 'aarch64';
  throw new CodeloopError(
    'seccomp-unsupported-arch',
    `Cannot build a seccomp filter for process.arch "${process.arch}": only x64 (x86_64) and arm64 (aarch64) are ` +
      'supported. Run the sandbox on an x86_64 or aarch64 Linux host, or pass `arch` explicitly.',
  );
}

// --- The assembler --------------------------------------------------------------------------------------------------

// linux/bpf_common.h: BPF_LD | BPF_W | BPF_ABS, BPF_JMP | BPF_Jxx | BPF_K, BPF_RET | BPF_K.
const LD_W_ABS = 0x20;
const JEQ = 0x15;
const JGE = 0x35;
const JSET = 0x45;
const RET = 0x06;
const BPF_JMP = 0x05;
/** BPF_MAXINSNS, the kernel's limit on a classic program. */
const MAX_INSTRUCTIONS = 4096;

interface Instruction {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** The generator itself is wrong; no input can cause this. */
const internalError = (message: string): CodeloopError =>
  new CodeloopError('seccomp-internal', `seccomp filter generator bug: ${message}. Please file an issue.`);

const stmt = (code: number, k: number): Instruction => ({ code, jt: 0, jf: 0, k });

/** A conditional jump; `jt`/`jf` count instructions to skip after this one, and must fit in 8 bits. */
function jump(code: number, k: number, jt: number, jf: number): Instruction {
  for (const offset of [jt, jf]) {
    if (!Number.isInteger(offset) || offset < 0 || offset > 255) {
      throw internalError(`jump offset ${offset} does not fit in 8 bits`);
    }
  }
  return { code, jt, jf, k };
}

const allow = (): Instruction => stmt(RET, SECCOMP_RET_ALLOW);
const fail = (errno: number): Instruction => stmt(RET, SECCOMP_RET_ERRNO | errno);

/** Instructions after the syscall number matched: every path ends in a return, so no later block runs. */
function assembleCondition(condition: ArgumentCondition, denied: Instruction): Instruction[] {
  const load = stmt(LD_W_ABS, argumentLowOffset(condition.index));
  const { test } = condition;
  if (test.kind === 'has-any-bit') return [load, jump(JSET, test.mask.value, 1, 0), allow(), denied];
  // Each JEQ jumps to the return just past the other JEQs and the fall-through return.
  const count = test.values.length;
  const checks = test.values.map((value, i) => jump(JEQ, value.value, count - i, 0));
  return test.kind === 'is-one-of' ? [load, ...checks, allow(), denied] : [load, ...checks, denied, allow()];
}

function assembleRule(rule: ResolvedRule): Instruction[] {
  const denied = fail(rule.errno);
  const body = rule.when ? assembleCondition(rule.when, denied) : [denied];
  return [jump(JEQ, rule.nr, 0, body.length), ...body];
}

function assemble(arch: SeccompArch, rules: readonly ResolvedRule[]): Instruction[] {
  return [
    // A syscall made through another ABI (i386 int 0x80, AArch32) has other numbers: nothing below would apply.
    stmt(LD_W_ABS, OFFSET_ARCH),
    jump(JEQ, AUDIT_ARCH[arch], 1, 0),
    stmt(RET, SECCOMP_RET_KILL_PROCESS),
    stmt(LD_W_ABS, OFFSET_NR),
    ...(arch === 'x86_64' ? [jump(JGE, X32_SYSCALL_BIT, 0, 1), fail(EPERM)] : []),
    jump(JGE, LAST_REVIEWED_SYSCALL + 1, 0, 1),
    fail(ENOSYS),
    ...rules.flatMap(assembleRule),
    allow(),
  ];
}

function encode(program: readonly Instruction[]): Buffer {
  if (program.length > MAX_INSTRUCTIONS) {
    throw internalError(`the program has ${program.length} instructions, over the kernel's ${MAX_INSTRUCTIONS}`);
  }
  const buffer = Buffer.alloc(program.length * 8);
  program.forEach((instruction, i) => {
    // Every jump must land inside the program; the kernel would refuse the filter otherwise.
    const isJump = (instruction.code & 0x07) === BPF_JMP;
    if (isJump && i + 1 + Math.max(instruction.jt, instruction.jf) >= program.length) {
      throw internalError(`instruction ${i} jumps past the end of the program`);
    }
    buffer.writeUInt16LE(instruction.code, i * 8);
    buffer.writeUInt8(instruction.jt, i * 8 + 2);
    buffer.writeUInt8(instruction.jf, i * 8 + 3);
    buffer.writeUInt32LE(instruction.k >>> 0, i * 8 + 4);
  });
  return buffer;
}

// --- Public API -----------------------------------------------------------------------------------------------------

/**
 * Returns the raw seccomp program: N × `struct sock_filter { u16 code; u8 jt; u8 jf; u32 k }`, little-endian, 8 bytes
 * each, ready for `struct sock_fprog { len: N, filter }`. Default action: allow; see the module comment for the policy.
 */
export function buildSeccompFilter({
  arch = detectArch(),
  allowNetwork = false,
  allowSessions = false,
  allowMemfd = false,
}: SeccompFilterOptions = {}): Buffer {
  return encode(assemble(arch, resolvePolicy(arch, { allowNetwork, allowSessions, allowMemfd })));
}

const hex = (value: number): string => `0x${value.toString(16)}`;

function describeCondition({ index, name, test }: ArgumentCondition): string {
  const argument = `arg${index} (${name})`;
  const list = (values: readonly NamedValue[]): string =>
    values.map((value) => `${value.name} ${hex(value.value)}`).join(', ');
  if (test.kind === 'has-any-bit') return `${argument} has any ${test.mask.name} bit (${hex(test.mask.value)})`;
  if (test.kind === 'is-one-of') return `${argument} is one of ${list(test.values)}`;
  return `${argument} is none of ${list(test.values)}`;
}

/** The rules `buildSeccompFilter` compiles for these options, in program order, as data. */
export function describeSeccompPolicy({
  arch = detectArch(),
  allowNetwork = false,
  allowSessions = false,
  allowMemfd = false,
}: SeccompFilterOptions = {}): SeccompRule[] {
  const abi: SeccompRule[] = [
    { syscall: '*', action: 'kill', condition: `arch is not ${arch} (${hex(AUDIT_ARCH[arch])})` },
  ];
  if (arch === 'x86_64') {
    abi.push({ syscall: '*', action: 'errno', errno: EPERM, condition: `nr >= ${hex(X32_SYSCALL_BIT)} (x32 ABI)` });
  }
  abi.push({
    syscall: '*',
    action: 'errno',
    errno: ENOSYS,
    condition: `nr > ${LAST_REVIEWED_SYSCALL} (newer than the reviewed tables)`,
  });
  const rules = resolvePolicy(arch, { allowNetwork, allowSessions, allowMemfd }).map(
    ({ syscall, errno, when }): SeccompRule => ({
      syscall,
      action: 'errno',
      errno,
      ...(when ? { condition: describeCondition(when) } : {}),
    }),
  );
  return [...abi, ...rules];
}
