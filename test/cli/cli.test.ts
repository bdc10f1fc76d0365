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
  assert.match(missing.stderr, /FILE .*missing\.py: cannot read it \(no such file\)/);
  const unknown = codeloop(['run', file('prog.rb', 'puts 1')]);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /Cannot tell the language of .*prog\.rb: pass --lang python\|javascript\|typescript/);
  const timeout = codeloop(['run', file('t.py', ''), '--timeout', 'soon']);
  assert.equal(timeout.status, 2);
  assert.match(timeout.stderr, /--timeout "soon" must be a number from 0\.01 to 3600/);
});

test('a usage error is the message and one line pointing to --help, not the whole help', () => {
  const result = codeloop(['eval', '--k', 'x', '--dataset', 'examples', '--samples', 'x.jsonl']);
  assert.equal(result.status, 2);
  assert.equal(
    result.stderr,
    'codeloop eval: --k "x" must be integers from 1 to 100000 separated by commas, e.g. 1,10,100.\nRun `codeloop eval --help` for its options.\n',
  );
});

test('input paths, negative numbers and units: errors name the flag, its value and its unit', () => {
  const program = file('stdin-user.py', 'print(input())\n');
  const stdin = codeloop(['run', program, '--stdin', join(scratch, 'no-such-input.txt')]);
  assert.equal(stdin.status, 2, stdin.stderr);
  assert.match(
    stdin.stderr,
    /^codeloop run: --stdin .*no-such-input\.txt: cannot read it \(no such file\); check the path\.$/m,
  );
  assert.doesNotMatch(stdin.stderr, /internal error|    at /);
  const extra = codeloop(['run', program, '--file', join(scratch, 'no-such-module.py')]);
  assert.equal(extra.status, 2);
  assert.match(extra.stderr, /--file .*no-such-module\.py: cannot read it/);
  const negative = codeloop(['run', program, '--timeout', '-1']);
  assert.equal(negative.status, 2);
  assert.match(negative.stderr, /^codeloop run: --timeout "-1" must be a number from 0\.01 to 3600\.$/m);
  const large = codeloop(['run', program, '--timeout', '99999']);
  assert.equal(large.status, 2);
  assert.match(large.stderr, /--timeout "99999" must be a number from 0\.01 to 3600/);
  assert.doesNotMatch(large.stderr, /wallMs/);
  const shortEquals = codeloop(['generate', '--dataset', 'examples', '-n=-1']);
  assert.equal(shortEquals.status, 2);
  assert.match(shortEquals.stderr, /^codeloop generate: -n "-1" must be an integer from 1 to 100000\.$/m);
  const unknown = codeloop(['run', program, '--bogus']);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /^codeloop run: unknown option --bogus\.$/m);
});

test('run --file brings a module the program imports; without it the error hints at --file', { skip }, () => {
  const main = file('uses-helper.py', 'import helper_module\nprint(helper_module.X)\n');
  const helper = file('helper_module.py', 'X = 42\n');
  const alone = codeloop(['run', main]);
  assert.equal(alone.status, 1);
  assert.match(
    alone.stderr,
    /^hint: only FILE is in the sandbox: if "helper_module" is a file of yours, bring it with --file PATH/m,
  );
  const together = codeloop(['run', main, '--file', helper]);
  assert.equal(together.status, 0, together.stderr);
  assert.equal(together.stdout, '42\n');
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
