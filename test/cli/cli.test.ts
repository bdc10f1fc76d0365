import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { probeIsolation } from '../../src/sandbox/index.js';

const bin = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bin', 'codeloop.js');
const scratch = mkdtempSync(join(tmpdir(), 'codeloop-cli-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function codeloop(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    timeout: 120_000,
  });
}

function file(name: string, content: string): string {
  const path = join(scratch, name);
  writeFileSync(path, content);
  return path;
}

const skip = probeIsolation().level === null ? 'no OS sandbox on this machine' : false;

test('--help lists the commands', () => {
  const result = codeloop(['--help']);
  assert.equal(result.status, 0);
  assert.match(result.stdout, /Usage: codeloop <command>/);
  assert.match(result.stdout, /^  run +run one program in the sandbox/m);
  assert.match(result.stdout, /^  doctor +report which sandbox isolation/m);
});

test('an unknown command is a usage error', () => {
  const result = codeloop(['frobnicate']);
  assert.equal(result.status, 2);
  assert.match(result.stderr, /unknown command "frobnicate"/);
});

test('run: a passing program exits 0 and prints its output and verdict', { skip }, () => {
  const result = codeloop(['run', file('ok.py', 'print("hi")\n')]);
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout, 'hi\n');
  assert.match(result.stderr, /^passed: exited with code 0 \(\d+ ms, peak [\d.]+ MiB; isolation bwrap\+seccomp/m);
});

test('run --json: one JSON object; a failing program exits 1', { skip }, () => {
  const result = codeloop(['run', file('bad.js', 'throw new Error("nope")\n'), '--json']);
  assert.equal(result.status, 1);
  const parsed = JSON.parse(result.stdout) as { verdict: string; exitCode: number; stderr: string };
  assert.equal(parsed.verdict, 'failed');
  assert.equal(parsed.exitCode, 1);
  assert.match(parsed.stderr, /Error: nope/);
});

test('run --timeout: an endless loop is timed-out', { skip }, () => {
  const result = codeloop(['run', file('loop.ts', 'while (true) {}\n'), '--timeout', '0.5', '--json']);
  assert.equal(result.status, 1);
  assert.equal((JSON.parse(result.stdout) as { verdict: string }).verdict, 'timed-out');
});

test('run: bad input names the value and the fix', () => {
  const missing = codeloop(['run', join(scratch, 'missing.py')]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /Cannot read .*missing\.py/);
  const unknown = codeloop(['run', file('prog.rb', 'puts 1')]);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /Cannot tell the language of .*prog\.rb: pass --lang python\|javascript\|typescript/);
  const timeout = codeloop(['run', file('t.py', ''), '--timeout', 'soon']);
  assert.equal(timeout.status, 2);
  assert.match(timeout.stderr, /--timeout "soon" must be a positive number/);
});

test('run refuses without a sandbox, and --unsafe-no-sandbox runs loudly', () => {
  // With no bwrap on PATH there is no sandbox.
  const program = file('plain.py', 'print(1 + 1)\n');
  const refused = codeloop(['run', program], { PATH: '/nonexistent' });
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /No OS sandbox is available on this machine, so codeloop will not run untrusted code/);
  assert.match(refused.stderr, /--unsafe-no-sandbox/);
  const unsafe = codeloop(['run', program, '--unsafe-no-sandbox'], { PATH: '/nonexistent' });
  assert.equal(unsafe.status, 0, unsafe.stderr);
  assert.equal(unsafe.stdout, '2\n');
  assert.match(unsafe.stderr, /WARNING: --unsafe-no-sandbox/);
  assert.match(unsafe.stderr, /isolation none/);
});

test(
  'run refuses where user namespaces cannot be created',
  { skip: skip || (spawnSync('bwrap', ['--version']).status !== 0 ? 'no bwrap' : false) },
  () => {
    // Inside a bwrap sandbox made with --disable-userns, creating a user namespace fails: the real failure mode of
    // containers that block them. codeloop must detect it and refuse, naming the fix.
    const program = file('inner.py', 'print(1)\n');
    const result = spawnSync(
      'bwrap',
      [
        '--unshare-user',
        '--disable-userns',
        '--bind',
        '/',
        '/',
        '--dev',
        '/dev',
        '--proc',
        '/proc',
        '--',
        process.execPath,
        bin,
        'run',
        program,
      ],
      { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' }, timeout: 60_000 },
    );
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, /user namespaces: bwrap could not create a sandbox/);
    assert.match(result.stderr, /enable unprivileged user namespaces/);
  },
);

test('doctor reports every layer and the isolation level', () => {
  const result = codeloop(['doctor']);
  const level = probeIsolation().level;
  assert.equal(result.status, level === null ? 1 : 0);
  for (const name of ['user', 'bubblewrap', 'user namespaces', 'seccomp', 'cgroups', 'python3', 'node']) {
    assert.match(result.stdout, new RegExp(`^ {2}(ok {2}|MISS) {2}${name}`, 'm'));
  }
  assert.match(
    result.stdout,
    level === null ? /Isolation: NONE/ : new RegExp(`Isolation: ${level.replaceAll('+', '\\+')}`),
  );
  const json = JSON.parse(codeloop(['doctor', '--json']).stdout) as { level: string | null; seccompPolicy: unknown[] };
  assert.equal(json.level, level);
  assert.ok(json.seccompPolicy.length > 40);
});
