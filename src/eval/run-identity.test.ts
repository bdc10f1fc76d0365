import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { claimRunFolder, samplesDigest, type RunIdentity } from './run-identity.js';
import type { Sample } from './samples.js';

const scratch = mkdtempSync(join(tmpdir(), 'codeloop-run-identity-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function sample(taskId: string, completion: string): Sample {
  return { taskId, completion } as Sample;
}

function identity(samples: readonly Sample[]): RunIdentity {
  return {
    dataset: 'examples',
    datasetFiles: [],
    samples: samplesDigest(samples),
    sampleCount: samples.length,
    samplesFile: '/x/samples.jsonl',
    sanitize: false,
    tasks: 'all',
  };
}

test('claimRunFolder: the same samples and a top-up (recorded samples first, more appended) are the same run', () => {
  const folder = mkdtempSync(join(scratch, 'run-'));
  const first = [sample('a', '1'), sample('b', '2')];
  claimRunFolder(folder, identity(first), first);
  claimRunFolder(folder, identity(first), first);
  const toppedUp = [...first, sample('a', '3'), sample('b', '4')];
  claimRunFolder(folder, identity(toppedUp), toppedUp);
  const recorded = JSON.parse(readFileSync(join(folder, 'run.json'), 'utf8')) as RunIdentity;
  assert.equal(recorded.sampleCount, 4);
  assert.equal(recorded.samples, samplesDigest(toppedUp));
});

test('claimRunFolder: other samples, fewer samples or reordered ones belong to another run', () => {
  const folder = mkdtempSync(join(scratch, 'run-'));
  const first = [sample('a', '1'), sample('b', '2')];
  claimRunFolder(folder, identity(first), first);
  for (const other of [
    [sample('a', '1'), sample('b', 'other')],
    [sample('a', '1')],
    [sample('b', '2'), sample('a', '1'), sample('a', '3')],
  ]) {
    assert.throws(() => claimRunFolder(folder, identity(other), other), /belongs to another run: the samples differ/);
  }
});
