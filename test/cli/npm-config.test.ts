// npm 11 reads the project's install-script policy from package.json (allowScripts): every dependency with an install
// script is approved or denied there, and no project config key npm does not know is left (it warned on every npx).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { repositoryRoot } from '../eval/helpers.js';

const root = repositoryRoot();
const npm = spawnSync('npm', ['--version'], { encoding: 'utf8' });
const [major = 0, minor = 0] = (npm.stdout ?? '').trim().split('.').map(Number);
const noPolicy = npm.status !== 0 || major < 11 || (major === 11 && minor < 16) ? 'needs npm ≥ 11.16' : false;

test(
  'install scripts: every one is reviewed in package.json, and npm warns of no unknown project config',
  { skip: noPolicy },
  () => {
    const result = spawnSync('npm', ['install-scripts', 'ls'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /No packages with unreviewed install scripts/);
    assert.doesNotMatch(result.stderr, /Unknown project config/);
    const allowScripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { allowScripts?: object })
      .allowScripts;
    // onnxruntime-node's postinstall only downloads CUDA files from outside the registry: denied.
    assert.equal((allowScripts as Record<string, boolean> | undefined)?.['onnxruntime-node'], false);
    assert.equal(
      existsSync(join(root, '.npmrc')) && /onnxruntime-node-install/.test(readFileSync(join(root, '.npmrc'), 'utf8')),
      false,
    );
  },
);
