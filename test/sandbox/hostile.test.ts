import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  chmodSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { createSocket, type Socket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readableByOthers } from '../../src/sandbox/paths.js';
import { probeIsolation } from '../../src/sandbox/index.js';
import { FORBIDDEN_HOST_PATHS, HOSTILE_PROGRAMS, LEFTOVER_MARKER, type BatteryContext } from './hostile-programs.js';
import { runBattery, type BatteryOutcome, type CpuShare } from './hostile-runner.js';

const UNPRIVILEGED_UID = 62000;
const here = dirname(fileURLToPath(import.meta.url));

interface Listeners {
  tcp: Server;
  udp: Socket;
  tcpConnections: number;
  udpDatagrams: number;
  close(): Promise<void>;
}

async function listen(): Promise<Listeners> {
  const state = { tcpConnections: 0, udpDatagrams: 0 } as Listeners;
  state.tcp = createServer((socket) => {
    state.tcpConnections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => state.tcp.listen(0, '127.0.0.1', resolve));
  state.udp = createSocket('udp4');
  state.udp.on('message', () => state.udpDatagrams++);
  await new Promise<void>((resolve) => state.udp.bind(0, '127.0.0.1', resolve));
  state.close = async () => {
    await new Promise((resolve) => state.tcp.close(resolve));
    await new Promise((resolve) => state.udp.close(() => resolve(undefined)));
  };
  return state;
}

function makeContext(listeners: Listeners, owner: number | null): BatteryContext & { cleanup(): void } {
  const canaryDir = mkdtempSync(join(tmpdir(), 'codeloop-battery-'));
  chmodSync(canaryDir, 0o755);
  const canary = join(canaryDir, 'canary.txt');
  writeFileSync(canary, 'original\n');
  if (owner !== null) {
    // Owned by the unprivileged uid, so only the sandbox (not file permissions) stands between a program and the file.
    chownSync(canaryDir, owner, owner);
    chownSync(canary, owner, owner);
  }
  const tcp = listeners.tcp.address();
  const udp = listeners.udp.address();
  return {
    tcpPort: typeof tcp === 'object' && tcp ? tcp.port : 0,
    udpPort: udp.port,
    canary,
    canaryDir,
    secret: `codeloop-secret-${process.pid}-${Date.now()}`,
    harnessPid: process.pid,
    cleanup: () => rmSync(canaryDir, { recursive: true, force: true }),
  };
}

function leftoverProcesses(): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      // Our executors' workers (bwrap and the sandbox's init) carry CODELOOP_EXECUTOR=codeloop-<our pid>-… in their
      // environment; other test files run their own.
      const environment = readFileSync(`/proc/${pid}/environ`, 'latin1');
      if (commandLine.includes(LEFTOVER_MARKER) || environment.includes(`CODELOOP_EXECUTOR=codeloop-${process.pid}-`))
        found.push(`${pid}: ${commandLine.slice(0, 160)}`);
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

/**
 * One execution must not take another's CPU by spreading over processes and sessions: side by side, the plain spinner
 * gets at least a quarter of what the 60-session spinner gets (about the same with a CPU cgroup per worker, or with
 * setsid denied; about 1/60 before either, when each session was a scheduler autogroup of its own).
 */
function assertFairCpuShare({ victimCpuMs, attackerCpuMs }: CpuShare): void {
  assert.ok(
    victimCpuMs >= 0.25 * attackerCpuMs,
    `a spinning program got ${victimCpuMs} ms of CPU beside one in 60 sessions that got ${attackerCpuMs} ms`,
  );
}

function ownCgroups(): string[] {
  const found: string[] = [];
  const roots = ['/sys/fs/cgroup/memory', '/sys/fs/cgroup/pids', '/sys/fs/cgroup/cpu', '/sys/fs/cgroup/unified'];
  for (const root of [...roots, '/sys/fs/cgroup']) {
    try {
      const listing = execFileSync(
        'find',
        [root, '-maxdepth', '4', '-type', 'd', '-name', `codeloop-${process.pid}-*`],
        { encoding: 'utf8' },
      );
      found.push(...listing.split('\n').filter(Boolean));
    } catch {
      // hierarchy absent
    }
  }
  return found;
}

/** Every file under the host folders a program would most like to change, with size and modification time. */
function hostSnapshot(): string {
  // /root only at its top level: caches below it (npm, node-gyp) may change for reasons of their own during the run.
  const find = (args: string[]) =>
    spawnSync('find', [...args, '-printf', '%p %s %T@\n'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }).stdout;
  return find(['/etc', '/usr/bin', '/usr/lib/python3', '-xdev', '-maxdepth', '3']) + find(['/root', '-maxdepth', '1']);
}

function assertNothingEscaped(
  context: BatteryContext,
  listeners: Listeners,
  outcomes: BatteryOutcome[],
  before: string,
): void {
  const after = hostSnapshot();
  if (after !== before) {
    const changed = after
      .split('\n')
      .filter((line) => !before.includes(`${line}\n`))
      .slice(0, 10);
    assert.fail(`host files changed during the battery:\n${changed.join('\n')}`);
  }
  const problems = outcomes
    .filter((outcome) => outcome.problem)
    .map((outcome) => `${outcome.name}: ${outcome.problem}`);
  assert.deepEqual(problems, [], `hostile programs got the wrong verdict:\n${problems.join('\n')}`);
  assert.equal(readFileSync(context.canary, 'utf8'), 'original\n', 'the canary file was changed');
  assert.deepEqual(readdirSync(context.canaryDir), ['canary.txt'], 'a file appeared next to the canary');
  for (const path of FORBIDDEN_HOST_PATHS) assert.equal(existsSync(path), false, `${path} was created on the host`);
  assert.equal(listeners.tcpConnections, 0, 'a TCP connection reached the harness');
  assert.equal(listeners.udpDatagrams, 0, 'a UDP datagram reached the harness');
  assert.deepEqual(leftoverProcesses(), [], 'processes outlived the executor');
}

const report = probeIsolation();
const root = process.getuid?.() === 0;

test(
  `hostile battery (${HOSTILE_PROGRAMS.length} programs) in this process${root ? ', as root' : ''}`,
  { skip: report.level === null ? 'no sandbox on this machine (see codeloop doctor)' : false },
  async () => {
    assert.ok(HOSTILE_PROGRAMS.length >= 40);
    const listeners = await listen();
    const context = makeContext(listeners, null);
    process.env.CODELOOP_TEST_SECRET = context.secret; // in the harness's environment: must not reach any program
    const before = hostSnapshot();
    try {
      const { isolation, outcomes, after, cpuShare } = await runBattery(context);
      assert.equal(isolation, report.level);
      assert.equal(after.verdict, 'passed');
      assert.equal(after.stdout, '45\n');
      assertFairCpuShare(cpuShare);
      assertNothingEscaped(context, listeners, outcomes, before);
      assert.deepEqual(ownCgroups(), [], 'cgroups were left behind');
      assert.deepEqual(
        readdirSync(tmpdir()).filter((name) => name.startsWith('codeloop-job-')),
        [],
        'job directories were left behind',
      );
    } finally {
      delete process.env.CODELOOP_TEST_SECRET;
      context.cleanup();
      await listeners.close();
    }
  },
);

const dist = join(here, '..', '..');
const unprivilegedSkip = !root
  ? 'needs root to switch to an unprivileged uid'
  : report.level === null
    ? 'no sandbox on this machine'
    : !readableByOthers(join(dist, 'test', 'sandbox', 'hostile-runner.js'))
      ? `the build at ${dist} is not readable by other users`
      : false;

test(
  `hostile battery as unprivileged uid ${UNPRIVILEGED_UID} (no cgroups, RLIMIT_NPROC)`,
  { skip: unprivilegedSkip },
  async () => {
    const listeners = await listen();
    const context = makeContext(listeners, UNPRIVILEGED_UID);
    const before = hostSnapshot();
    try {
      const child = spawnSync(
        'setpriv',
        [
          `--reuid=${UNPRIVILEGED_UID}`,
          `--regid=${UNPRIVILEGED_UID}`,
          '--clear-groups',
          process.execPath,
          join(here, 'hostile-runner.js'),
          JSON.stringify(context),
        ],
        {
          encoding: 'utf8',
          env: { PATH: '/usr/bin:/bin', HOME: '/nonexistent', CODELOOP_TEST_SECRET: context.secret },
          timeout: 600_000,
          cwd: '/',
        },
      );
      assert.equal(child.status, 0, `the unprivileged battery runner failed: ${child.stderr}`);
      const { isolation, outcomes, after, cpuShare } = JSON.parse(child.stdout) as {
        isolation: string;
        outcomes: BatteryOutcome[];
        after: { verdict: string; stdout: string };
        cpuShare: CpuShare;
      };
      assert.equal(isolation, 'bwrap+seccomp');
      assert.equal(after.verdict, 'passed');
      assertFairCpuShare(cpuShare);
      assertNothingEscaped(context, listeners, outcomes, before);
      // Zombies are dead processes whose parent (bwrap, already gone) cannot reap them; the host's init does, later.
      const stillRunning = spawnSync('ps', ['-u', String(UNPRIVILEGED_UID), '-o', 'pid=,stat=,args='], {
        encoding: 'utf8',
      })
        .stdout.split('\n')
        .filter((line) => line.trim() && !/^\s*\d+\s+Z/.test(line));
      assert.deepEqual(stillRunning, [], `processes of uid ${UNPRIVILEGED_UID} outlived the runner`);
    } finally {
      context.cleanup();
      await listeners.close();
    }
  },
);
