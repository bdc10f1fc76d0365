import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { detectCgroups, type CgroupSupport } from './cgroup.js';
import { which } from './paths.js';
import { buildSeccompFilter, type SeccompFilterOptions } from './seccomp.js';
import type { IsolationLevel } from './types.js';

export interface IsolationCheck {
  name: string;
  ok: boolean;
  /** What was found. */
  detail: string;
  /** What is lost when this piece is missing, and how to get it. */
  cost?: string;
}

export interface IsolationReport {
  /** The best level this machine gives, or null when nothing safe is available. */
  level: IsolationLevel | null;
  root: boolean;
  bwrapPath: string | null;
  cgroups: CgroupSupport;
  checks: IsolationCheck[];
}

export interface ProbeOptions {
  /** bubblewrap executable; default `bwrap` on PATH. */
  bwrapPath?: string;
}

/**
 * The seccomp options an executor uses with these cgroups (null: none): `setsid` only where each worker has its own CPU
 * cgroup, `memfd_create` only where each execution has its own memory cgroup.
 */
export function seccompOptionsFor(cgroups: CgroupSupport | null): SeccompFilterOptions {
  return { allowSessions: cgroups?.cpuParent != null, allowMemfd: cgroups?.version != null };
}

function readText(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/**
 * Finds out, by trying, which isolation this machine gives codeloop's sandbox. Used by `codeloop doctor` and by
 * `createExecutor`, which refuses to run untrusted code when the answer is null (unless told to run unsandboxed).
 */
export function probeIsolation(options: ProbeOptions = {}): IsolationReport {
  const checks: IsolationCheck[] = [];
  const root = process.getuid?.() === 0;
  checks.push({
    name: 'user',
    ok: true,
    detail: root
      ? 'running as root: each worker sandbox drops to a dedicated uid (61000+) before bwrap'
      : `running as uid ${process.getuid?.()}`,
    ...(root
      ? {}
      : {
          cost: 'no cgroups (unless delegated): memory is bounded by RLIMIT_AS only, which Node cannot live under, so a JS memory bomb is stopped by the address-space cap or the wall clock',
        }),
  });

  const maxNamespaces = Number(readText('/proc/sys/user/max_user_namespaces')?.trim() ?? '0');
  const bwrapPath = which(options.bwrapPath ?? 'bwrap');
  let userns = false;
  if (bwrapPath === null) {
    checks.push({
      name: 'bubblewrap',
      ok: false,
      detail: `${options.bwrapPath ?? 'bwrap'} not found on PATH`,
      cost: 'no OS isolation at all: install it with `sudo apt-get install bubblewrap` (scripts/install-system-deps.sh does this)',
    });
  } else {
    const version = spawnSync(bwrapPath, ['--version'], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
    checks.push({
      name: 'bubblewrap',
      ok: version.status === 0,
      detail: `${bwrapPath} (${(version.stdout ?? '').trim() || version.error?.message || 'no version'})`,
    });
    const trial = spawnSync(
      bwrapPath,
      [
        '--unshare-all',
        '--unshare-user',
        '--disable-userns',
        '--die-with-parent',
        '--cap-drop',
        'ALL',
        '--ro-bind',
        '/usr',
        '/usr',
        '--symlink',
        'usr/bin',
        '/bin',
        '--symlink',
        'usr/lib',
        '/lib',
        '--symlink',
        'usr/lib64',
        '/lib64',
        '--proc',
        '/proc',
        '--',
        '/usr/bin/true',
      ],
      { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' }, timeout: 10_000 },
    );
    userns = trial.status === 0;
    checks.push({
      name: 'user namespaces',
      ok: userns,
      detail: userns
        ? `bwrap created user, PID, mount and network namespaces (user.max_user_namespaces=${maxNamespaces})`
        : `bwrap could not create a sandbox: ${(trial.stderr ?? '').trim() || trial.error?.message} (user.max_user_namespaces=${maxNamespaces})`,
      ...(userns
        ? {}
        : {
            cost: 'no sandbox: enable unprivileged user namespaces (sysctl user.max_user_namespaces=15000; on Ubuntu also kernel.apparmor_restrict_unprivileged_userns=0), or run outside a container whose seccomp profile blocks them; otherwise codeloop refuses to run code unless given --unsafe-no-sandbox',
          }),
    });
  }

  const seccomp = verifySeccomp();
  checks.push({
    name: 'seccomp',
    ok: seccomp.ok,
    detail: seccomp.detail,
    ...(seccomp.ok
      ? {}
      : {
          cost: 'programs could open inet sockets (still inside an empty network namespace), ptrace their own children and use io_uring',
        }),
  });

  const cgroups = detectCgroups();
  checks.push({
    name: 'cgroups',
    ok: cgroups.version !== null,
    detail: `${cgroups.version === null ? (cgroups.reason ?? 'unavailable') : `cgroup ${cgroups.version} memory+pids under ${cgroups.parents?.[0]}`}; ${describeCgroupV2()}`,
    ...(cgroups.version === null
      ? {
          cost: 'no memory cap for Node (only RLIMIT_AS) and no pids cap beyond RLIMIT_NPROC; memory-exceeded is detected from the runtime’s own error; memfd_create is denied (RLIMIT_AS does not count its pages)',
        }
      : {}),
  });
  if (cgroups.version !== null) {
    checks.push({
      name: 'cpu cgroup',
      ok: cgroups.cpuParent !== null,
      detail:
        cgroups.cpuParent === null
          ? (cgroups.cpuReason ?? 'unavailable')
          : `cgroup ${cgroups.version} cpu under ${cgroups.cpuParent}: each worker gets an equal CPU share`,
      ...(cgroups.cpuParent === null
        ? { cost: 'setsid is denied, so that each execution stays in one scheduler autogroup (one CPU share)' }
        : {}),
    });
  }

  const setpriv = which('setpriv');
  if (root) {
    checks.push({
      name: 'setpriv',
      ok: setpriv !== null,
      detail: setpriv ?? 'setpriv not found',
      ...(setpriv ? {} : { cost: 'cannot drop root before bwrap: install util-linux' }),
    });
  }
  const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : which('python3');
  const pythonVersion = python
    ? spawnSync(python, ['-c', 'import sys; print(sys.version.split()[0])'], {
        encoding: 'utf8',
        env: { PATH: '/usr/bin:/bin' },
      }).stdout.trim()
    : '';
  checks.push({
    name: 'python3',
    ok: python !== null,
    detail: python ? `${python} ${pythonVersion} (runs the supervisor and Python programs)` : 'not found',
    ...(python ? {} : { cost: 'the sandbox cannot start: install python3' }),
  });
  checks.push({
    name: 'node',
    ok: true,
    detail: `${process.execPath} ${process.version} (runs JavaScript and TypeScript programs)`,
  });

  const safe = bwrapPath !== null && userns && seccomp.ok && python !== null && (!root || setpriv !== null);
  const level: IsolationLevel | null = !safe
    ? null
    : cgroups.version !== null
      ? 'bwrap+seccomp+cgroup'
      : 'bwrap+seccomp';
  return { level, root, bwrapPath, cgroups, checks };
}

let defaultPythonVersion: string | null | undefined;

/**
 * `Python 3.11.2`: the version of the sandbox's default interpreter (/usr/bin/python3, the executor's default
 * `pythonPath`), asked once per process with a clean environment; null when it cannot say. For run metadata.
 */
export function sandboxPythonVersion(): string | null {
  if (defaultPythonVersion === undefined) {
    const result = spawnSync('/usr/bin/python3', ['--version'], {
      encoding: 'utf8',
      env: { PATH: '/usr/bin:/bin' },
      timeout: 10_000,
    });
    defaultPythonVersion = result.status === 0 ? `${result.stdout}${result.stderr}`.trim() : null;
  }
  return defaultPythonVersion;
}

/** Installs the generated filter in a throw-away python3 and checks that the kernel enforces it. */
function verifySeccomp(): { ok: boolean; detail: string } {
  if (process.arch !== 'x64' && process.arch !== 'arm64')
    return { ok: false, detail: `no seccomp filter for ${process.arch}` };
  if (!/^Seccomp:\s/m.test(readText('/proc/self/status') ?? ''))
    return { ok: false, detail: 'the kernel has no seccomp support' };
  const program = buildSeccompFilter();
  const filter = program.toString('base64');
  const script = [
    'import base64, ctypes, socket, sys',
    'libc = ctypes.CDLL(None, use_errno=True)',
    'program = base64.b64decode(sys.argv[1])',
    'class F(ctypes.Structure): _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]',
    'assert libc.prctl(38, 1, 0, 0, 0) == 0',
    'fprog = F(len(program) // 8, program)',
    'assert libc.prctl(22, 2, ctypes.c_ulong(ctypes.addressof(fprog)), 0, 0) == 0, ctypes.get_errno()',
    'try:',
    '    socket.socket(socket.AF_INET)',
    '    print("open")',
    'except PermissionError:',
    '    print("denied")',
  ].join('\n');
  const trial = spawnSync('/usr/bin/python3', ['-c', script, filter], {
    encoding: 'utf8',
    env: { PATH: '/usr/bin:/bin' },
    timeout: 10_000,
  });
  if (trial.stdout.trim() === 'denied')
    return {
      ok: true,
      detail: `filter of ${program.length / 8} instructions for ${process.arch} installed in a test process: socket(AF_INET) was denied`,
    };
  return {
    ok: false,
    detail: `the seccomp filter could not be verified: ${(trial.stderr || trial.stdout || trial.error?.message || '').trim().split('\n').pop()}`,
  };
}

function describeCgroupV2(): string {
  for (const root of ['/sys/fs/cgroup', '/sys/fs/cgroup/unified']) {
    const controllers = readText(`${root}/cgroup.controllers`);
    if (controllers !== null) return `cgroup v2 at ${root} has controllers: ${controllers.trim() || 'none'}`;
  }
  return 'no cgroup v2 hierarchy';
}
