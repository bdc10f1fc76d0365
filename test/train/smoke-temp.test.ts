// `codeloop train STEP --smoke` without --run works in a temp folder: it must not be left behind silently. The cheapest
// step (prepare) stands for all: the folder handling does not depend on the step.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { repositoryRoot } from '../eval/helpers.js';

const scratch = mkdtempSync(join(tmpdir(), 'codeloop-smoke-temp-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

test('train --smoke without --run removes its temp folder, and --keep names it', { timeout: 600_000 }, () => {
  const run = (extra: string[]) =>
    spawnSync(
      process.execPath,
      [join(repositoryRoot(), 'bin', 'codeloop.js'), 'train', 'prepare', '--smoke', ...extra],
      { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TMPDIR: scratch }, timeout: 600_000 },
    );
  const removed = run([]);
  assert.equal(removed.status, 0, removed.stderr);
  assert.match(removed.stderr, /removed the smoke run's temp folder .*codeloop-train-smoke-\w+ \(--keep keeps it\)/);
  assert.deepEqual(
    readdirSync(scratch).filter((name) => name.startsWith('codeloop-train-smoke-')),
    [],
  );
  const kept = run(['--keep']);
  assert.equal(kept.status, 0, kept.stderr);
  const folder = /the smoke run's files are in (\S+); delete the folder when done/.exec(kept.stderr)?.[1];
  assert.ok(folder !== undefined, kept.stderr);
  assert.deepEqual(
    readdirSync(scratch).filter((name) => name.startsWith('codeloop-train-smoke-')),
    [folder.split('/').at(-1)],
  );
});
