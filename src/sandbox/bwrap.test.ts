import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildWorkerCommand, workerEnvironment } from './bwrap.js';

const options = {
  bwrapPath: '/usr/bin/bwrap',
  pythonPath: '/usr/bin/python3',
  nodePath: '/usr/bin/node',
  runtimeDir: '/srv/codeloop/runtime',
  tmpMiB: 64,
  uid: null,
  cgroupProcs: [],
};

test('the profile has every layer the threat model needs', () => {
  const { command, args } = buildWorkerCommand(options);
  assert.equal(command, '/usr/bin/bwrap');
  for (const flag of [
    '--unshare-all',
    '--unshare-user',
    '--disable-userns',
    '--die-with-parent',
    '--new-session',
    '--clearenv',
  ]) {
    assert.ok(args.includes(flag), `missing ${flag}`);
  }
  const joined = args.join(' ');
  assert.match(joined, /--cap-drop ALL --cap-add CAP_SYS_ADMIN --cap-add CAP_SETPCAP --info-fd 3/);
  assert.match(joined, /--dev \/dev --remount-ro \/dev/);
  assert.match(joined, /--ro-bind \/usr \/usr/);
  assert.match(joined, /--ro-bind \/srv\/codeloop\/runtime \/opt\/codeloop\/runtime/);
  assert.match(joined, /--size 67108864 --tmpfs \/tmp/);
  // The read-only remount of / comes after every mount it must cover, and before the program.
  assert.deepEqual(args.slice(args.lastIndexOf('--remount-ro'), args.lastIndexOf('--remount-ro') + 2), [
    '--remount-ro',
    '/',
  ]);
  assert.ok(args.lastIndexOf('--remount-ro') > args.indexOf('--dir'));
  assert.ok(args.lastIndexOf('--remount-ro') < args.indexOf('--'));
  assert.deepEqual(args.slice(args.indexOf('--') + 1), [
    '/usr/bin/python3',
    '-I',
    '-u',
    '/opt/codeloop/runtime/supervisor.py',
  ]);
  assert.equal(args.includes('--bind'), false, 'nothing of the host is bound writable');
});

test('as root: join the cgroups, then drop to the worker uid, then bwrap', () => {
  const { command, args } = buildWorkerCommand({
    ...options,
    uid: 61001,
    cgroupProcs: ['/cg/memory/w1/cgroup.procs', '/cg/pids/w1/cgroup.procs'],
  });
  assert.equal(command, '/bin/sh');
  assert.equal(args[1], 'echo $$ > "$CODELOOP_CGROUP_0" && echo $$ > "$CODELOOP_CGROUP_1" && exec "$@"');
  assert.deepEqual(args.slice(3, 9), [
    'setpriv',
    '--reuid=61001',
    '--regid=61001',
    '--clear-groups',
    '--inh-caps=-all',
    '--',
  ]);
  assert.equal(args[9], '/usr/bin/bwrap');
  assert.deepEqual(workerEnvironment(['/a', '/b']), {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    CODELOOP_CGROUP_0: '/a',
    CODELOOP_CGROUP_1: '/b',
  });
  assert.equal(workerEnvironment([], 'codeloop-1-0').CODELOOP_EXECUTOR, 'codeloop-1-0');
});
