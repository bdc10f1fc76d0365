import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import { installPrefix } from './paths.js';

/** Where things appear inside the sandbox. */
export const SANDBOX_RUNTIME = '/opt/codeloop/runtime';

export interface WorkerCommandOptions {
  bwrapPath: string;
  pythonPath: string;
  nodePath: string;
  runtimeDir: string;
  /** Size of the sandbox's own /tmp (the supervisor's; each execution gets a fresh one), MiB. */
  tmpMiB: number;
  /** Running as root: drop to this uid (and gid) before bwrap, so nothing in the sandbox is root on the host. */
  uid: number | null;
  /** cgroup.procs files the worker joins before anything else starts (root with cgroups). */
  cgroupProcs: string[];
}

/**
 * The bubblewrap profile of one worker sandbox. Layers: user, PID, mount, network, IPC, UTS and cgroup namespaces
 * (`--unshare-all --unshare-user`); no further user namespaces (`--disable-userns`); every capability dropped except
 * CAP_SYS_ADMIN and CAP_SETPCAP *inside the sandbox's user namespace*, which the supervisor needs to give each
 * execution its own PID, mount and IPC namespace and to empty its bounding set, and which the execution's process
 * drops before the program starts; read-only system binds, a read-only /dev and a read-only root; a clean
 * environment; die with the host. As root, bwrap itself runs under an unprivileged uid
 * (bwrap run as root keeps every host capability unless told otherwise: measured here, a root child without
 * `--cap-drop ALL` kept CapEff=000001fffeffffff and could remount a read-only bind read-write).
 */
export function buildWorkerCommand(options: WorkerCommandOptions): { command: string; args: string[] } {
  const bwrap = [
    '--unshare-all',
    '--unshare-user',
    '--disable-userns',
    '--die-with-parent',
    '--new-session',
    '--cap-drop',
    'ALL',
    '--cap-add',
    'CAP_SYS_ADMIN',
    '--cap-add',
    'CAP_SETPCAP',
    '--info-fd',
    '3',
    '--hostname',
    'sandbox',
    ...systemBinds(),
    ...bindPrefixOutsideUsr(options.pythonPath),
    ...bindPrefixOutsideUsr(options.nodePath),
    '--ro-bind',
    options.runtimeDir,
    SANDBOX_RUNTIME,
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    // Read-only: device nodes still work, but nothing can be created, renamed or removed there; each execution gets
    // its own tmpfs on /dev/shm.
    '--remount-ro',
    '/dev',
    '--size',
    String(options.tmpMiB * 1024 * 1024),
    '--tmpfs',
    '/tmp',
    '--dir',
    '/work',
    '--remount-ro',
    '/',
    '--clearenv',
    '--setenv',
    'PATH',
    '/usr/local/bin:/usr/bin:/bin',
    '--setenv',
    'HOME',
    '/work',
    '--setenv',
    'TMPDIR',
    '/tmp',
    '--setenv',
    'LANG',
    'C.UTF-8',
    '--setenv',
    'PYTHONDONTWRITEBYTECODE',
    '1',
    '--chdir',
    '/work',
    '--',
    options.pythonPath,
    '-I',
    '-u',
    // Nothing else: the command line is what a Python program reads as its own /proc/self/cmdline (it runs in the
    // supervisor's forked interpreter), so the configuration comes on stdin (see worker.ts).
    `${SANDBOX_RUNTIME}/supervisor.py`,
  ];
  let command = options.bwrapPath;
  let args = bwrap;
  if (options.uid !== null) {
    args = [
      `--reuid=${options.uid}`,
      `--regid=${options.uid}`,
      '--clear-groups',
      '--inh-caps=-all',
      '--',
      command,
      ...args,
    ];
    command = 'setpriv';
  }
  if (options.cgroupProcs.length > 0) {
    // Join the worker's cgroups first, in the process that then becomes bwrap, so every sandboxed process is inside.
    const join = options.cgroupProcs.map((_, index) => `echo $$ > "$CODELOOP_CGROUP_${index}"`).join(' && ');
    args = ['-c', `${join} && exec "$@"`, 'codeloop-worker', command, ...args];
    command = '/bin/sh';
  }
  return { command, args };
}

/**
 * Environment for the spawned worker chain (bwrap clears it again inside). Never ours: no secrets, no NODE_* vars.
 * `executor` names the executor (`codeloop-<host pid>-<n>`) in the environment of bwrap and of the sandbox's init, where
 * the host can tell its workers from other executors' (/proc/PID/environ) and no program can read it.
 */
export function workerEnvironment(cgroupProcs: string[], executor?: string): Record<string, string> {
  const environment: Record<string, string> = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' };
  if (executor !== undefined) environment.CODELOOP_EXECUTOR = executor;
  cgroupProcs.forEach((file, index) => (environment[`CODELOOP_CGROUP_${index}`] = file));
  return environment;
}

/** /usr read-only, the merged-/usr symlinks (or binds where a distribution still has real directories), and the few
 * files of /etc that dynamic linking and locale need. Nothing else of the host is visible. */
function systemBinds(): string[] {
  const args = ['--ro-bind', '/usr', '/usr'];
  for (const top of ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32']) {
    if (!existsSync(top)) continue;
    const stat = lstatSync(top);
    if (stat.isSymbolicLink()) args.push('--symlink', readlinkSync(top), top);
    else args.push('--ro-bind', top, top);
  }
  for (const file of [
    '/etc/ld.so.cache',
    '/etc/ld.so.conf',
    '/etc/alternatives',
    '/etc/localtime',
    '/etc/mime.types',
  ]) {
    if (existsSync(file)) args.push('--ro-bind', file, file);
  }
  return args;
}

function bindPrefixOutsideUsr(executable: string): string[] {
  const prefix = installPrefix(executable);
  return prefix === '/usr' || prefix.startsWith('/usr/') ? [] : ['--ro-bind', prefix, prefix];
}
