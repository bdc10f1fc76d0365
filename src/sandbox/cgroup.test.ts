import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { detectCgroups, removeCgroupDirectory } from './cgroup.js';

const support = detectCgroups();
const skip = support.parents === null ? `no writable cgroups here: ${support.reason}` : false;

test('removeCgroupDirectory warns instead of throwing when a cgroup stays busy', { skip }, async () => {
  const directory = join(support.parents![1], `codeloop-busy-test-${process.pid}`);
  mkdirSync(directory);
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  await once(child, 'spawn');
  const warnings: Error[] = [];
  const onWarning = (warning: Error): number => warnings.push(warning);
  process.on('warning', onWarning);
  try {
    writeFileSync(join(directory, 'cgroup.procs'), String(child.pid));
    await removeCgroupDirectory(directory);
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(existsSync(directory), 'the busy cgroup is still there');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!.message, /still busy/);
  } finally {
    process.off('warning', onWarning);
    child.kill('SIGKILL');
    await once(child, 'exit');
    await removeCgroupDirectory(directory);
  }
  assert.equal(existsSync(directory), false);
});
