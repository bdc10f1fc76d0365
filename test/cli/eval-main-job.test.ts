// The main job in one command: `codeloop eval --dataset NAME` with neither --model nor --samples generates the samples
// with the embedded model (the GGUF that ships in models/), then scores them. A one-task file stands in for `examples`
// to keep the run short; the code path is the same for every dataset.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { probeIsolation } from '../../src/sandbox/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const bin = join(root, 'bin', 'codeloop.js');
const embedded = join(root, 'models', 'codeloop-embedded.gguf');
const scratch = mkdtempSync(join(tmpdir(), 'codeloop-eval-main-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const skip =
  probeIsolation().level === null
    ? 'no OS sandbox on this machine'
    : existsSync(embedded)
      ? false
      : `no embedded model at ${embedded}`;

test('eval --dataset with no --model and no --samples generates with the embedded model, then scores', { skip }, () => {
  const dataset = join(scratch, 'one-task.jsonl');
  writeFileSync(
    dataset,
    `${JSON.stringify({ task_id: 'one/add', prompt: 'def add(a, b):\n', tests: 'assert add(1, 2) == 3\n' })}\n`,
  );
  const out = join(scratch, 'run');
  const result = spawnSync(process.execPath, [bin, 'eval', '--dataset', dataset, '--out', out, '--json'], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    timeout: 300_000,
  });
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stderr, /no --samples and no --model: generating the samples with the embedded model/);
  const samples = readFileSync(join(out, 'samples.jsonl'), 'utf8').trim().split('\n');
  assert.equal(samples.length, 1);
  assert.equal((JSON.parse(samples[0] ?? '{}') as { model?: string }).model, 'embedded');
  const metrics = JSON.parse(result.stdout) as { samples: number; tasks: { counted: number } };
  assert.equal(metrics.samples, 1);
  assert.equal(metrics.tasks.counted, 1);
});

test('eval --help says that the embedded model is the default without --samples', () => {
  const result = spawnSync(process.execPath, [bin, 'eval', '--help'], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /default\s+without --samples: embedded/);
});
