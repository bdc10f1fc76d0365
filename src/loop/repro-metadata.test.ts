import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gitCommit, modelDigest, processReproMetadata, taskHash } from './repro-metadata.js';
import { parseSolveTaskFile } from './solve-task.js';

test('processReproMetadata: the package.json version, Node, the sandbox Python', () => {
  const metadata = processReproMetadata();
  const root = join(import.meta.dirname, '..', '..', '..');
  assert.equal(
    metadata.codeloop,
    (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version,
  );
  assert.equal(metadata.node, process.version);
  assert.match(metadata.python ?? '', /^Python 3\.\d+\.\d+/);
});

test('gitCommit reads HEAD, a loose ref and packed-refs without running git; null outside a repository', () => {
  const root = mkdtempSync(join(tmpdir(), 'codeloop-git-'));
  assert.equal(gitCommit(root), null);
  const sha = 'a'.repeat(40);
  mkdirSync(join(root, '.git', 'refs', 'heads'), { recursive: true });
  writeFileSync(join(root, '.git', 'HEAD'), 'ref: refs/heads/main\n');
  writeFileSync(join(root, '.git', 'refs', 'heads', 'main'), `${sha}\n`);
  assert.equal(gitCommit(root), sha);
  writeFileSync(join(root, '.git', 'HEAD'), 'ref: refs/heads/packed\n');
  writeFileSync(join(root, '.git', 'packed-refs'), `# pack-refs with: peeled\n${'b'.repeat(40)} refs/heads/packed\n`);
  assert.equal(gitCommit(root), 'b'.repeat(40));
  writeFileSync(join(root, '.git', 'HEAD'), `${'c'.repeat(40)}\n`);
  assert.equal(gitCommit(root), 'c'.repeat(40), 'a detached HEAD');
});

test('modelDigest: size, mtime and sha256 of the first MiB of a model file; null for server models and missing files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'codeloop-digest-'));
  const path = join(dir, 'm.gguf');
  writeFileSync(path, Buffer.concat([Buffer.from('GGUF'), Buffer.alloc(2 * 1024 * 1024, 7)]));
  const digest = modelDigest({ modelId: 'gguf:some-name.gguf', modelFile: path });
  assert.equal(digest?.path, path);
  assert.equal(digest?.bytes, 4 + 2 * 1024 * 1024);
  assert.match(digest?.sha256_first_mib ?? '', /^[0-9a-f]{64}$/);
  writeFileSync(
    join(dir, 'n.gguf'),
    Buffer.concat([Buffer.from('GGUF'), Buffer.alloc(1024 * 1024 - 4, 7), Buffer.from('different tail')]),
  );
  assert.equal(
    modelDigest({ modelId: 'x', modelFile: join(dir, 'n.gguf') })?.sha256_first_mib,
    digest?.sha256_first_mib,
    'only the first MiB is read',
  );
  assert.equal(modelDigest({ modelId: 'openai:gpt-4o-mini@https://api.openai.com/v1' }), null);
  assert.equal(modelDigest({ modelId: 'x', modelFile: join(dir, 'missing.gguf') }), null);
});

test('taskHash: the same task gives the same hash, whatever its id; a changed test changes it', () => {
  const file = { language: 'python', prompt: 'Write f.', entryPoint: 'f', hiddenTests: ['assert f() == 1'] };
  const hash = taskHash(parseSolveTaskFile(JSON.stringify(file), 'a.json'));
  assert.match(hash, /^[0-9a-f]{64}$/);
  assert.equal(taskHash(parseSolveTaskFile(JSON.stringify(file), 'b.json')), hash);
  assert.notEqual(
    taskHash(parseSolveTaskFile(JSON.stringify({ ...file, hiddenTests: ['assert f() == 2'] }), 'a.json')),
    hash,
  );
});
