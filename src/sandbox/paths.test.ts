import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readableByOthers, stageForSandbox } from './paths.js';

test('a folder other users cannot read is staged into a readable copy, once', () => {
  const privateRoot = mkdtempSync(join(tmpdir(), 'codeloop-private-'));
  try {
    chmodSync(privateRoot, 0o700);
    const runtime = join(privateRoot, 'runtime');
    mkdirSync(runtime);
    writeFileSync(join(runtime, 'supervisor.py'), 'print("hi")\n');
    assert.equal(readableByOthers(runtime), false);
    const staged = stageForSandbox(runtime);
    assert.notEqual(staged, runtime);
    assert.equal(readableByOthers(join(staged, 'supervisor.py')), true);
    assert.equal(readFileSync(join(staged, 'supervisor.py'), 'utf8'), 'print("hi")\n');
    assert.equal(stageForSandbox(runtime), staged, 'the second call reuses the copy');
    assert.equal(stageForSandbox(staged), staged, 'a readable folder is used where it is');
  } finally {
    rmSync(privateRoot, { recursive: true, force: true });
  }
});
