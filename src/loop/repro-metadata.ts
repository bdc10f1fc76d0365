import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseModelName } from '../models/index.js';
import { sandboxPythonVersion } from '../sandbox/index.js';
import { codeloopVersion, packageRoot } from '../core/index.js';
import type { SolveTask } from './solve-task.js';

/**
 * What it takes to tell two runs apart, cheaply: codeloop's version and commit, the Node and sandbox Python versions
 * (read once per process), a digest of the model file, and a hash of the task. Nothing here reads more than 1 MiB.
 */

/** The commit checked out at `root`, read from .git without running git; null outside a repository. */
export function gitCommit(root: string): string | null {
  try {
    let gitDir = join(root, '.git');
    if (!existsSync(gitDir)) return null;
    // A worktree: .git is a file `gitdir: PATH`.
    if (statSync(gitDir).isFile())
      gitDir = readFileSync(gitDir, 'utf8')
        .replace(/^gitdir:\s*/, '')
        .trim();
    const head = readFileSync(join(gitDir, 'HEAD'), 'utf8').trim();
    if (!head.startsWith('ref: ')) return /^[0-9a-f]{40}$/.test(head) ? head : null;
    const ref = head.slice(5);
    const common = existsSync(join(gitDir, 'commondir'))
      ? join(gitDir, readFileSync(join(gitDir, 'commondir'), 'utf8').trim())
      : gitDir;
    for (const dir of [gitDir, common])
      if (existsSync(join(dir, ref))) return readFileSync(join(dir, ref), 'utf8').trim();
    const packed = existsSync(join(common, 'packed-refs')) ? readFileSync(join(common, 'packed-refs'), 'utf8') : '';
    return (
      packed
        .split('\n')
        .find((line) => line.endsWith(` ${ref}`))
        ?.split(' ')[0] ?? null
    );
  } catch {
    return null;
  }
}

export interface ProcessMetadata {
  codeloop: string;
  codeloop_commit: string | null;
  node: string;
  python: string | null;
}

let processMetadata: ProcessMetadata | null = null;

/** Versions that do not change within a process (computed on first use). */
export function processReproMetadata(): ProcessMetadata {
  if (processMetadata === null) {
    const root = packageRoot();
    processMetadata = {
      codeloop: codeloopVersion(),
      codeloop_commit: gitCommit(root),
      node: process.version,
      python: sandboxPythonVersion(),
    };
  }
  return processMetadata;
}

/** A model file's identity: size, modification time and sha256 of its first MiB (a GGUF's header and metadata). */
export interface ModelDigest {
  path: string;
  bytes: number;
  mtime: string;
  sha256_first_mib: string;
}

const DIGEST_BYTES = 1024 * 1024;
const digests = new Map<string, ModelDigest | null>();

/**
 * The digest of the file behind a model: the file the backend loaded (`modelFile`: a GGUF, whatever name led to it,
 * `hf:` downloads and `embedded` included), else a replay model's samples file; null for server models. Cached per
 * path for the process.
 */
export function modelDigest(model: { modelId: string; modelFile?: string }): ModelDigest | null {
  let path = model.modelFile;
  if (path === undefined) {
    try {
      const parsed = parseModelName(model.modelId);
      if (parsed.kind === 'replay') path = parsed.path;
    } catch {
      return null;
    }
  }
  if (path === undefined) return null;
  if (!digests.has(path)) digests.set(path, fileDigest(path));
  return digests.get(path) ?? null;
}

function fileDigest(path: string): ModelDigest | null {
  try {
    const stat = statSync(path);
    const fd = openSync(path, 'r');
    try {
      const buffer = Buffer.alloc(Math.min(DIGEST_BYTES, stat.size));
      const read = readSync(fd, buffer, 0, buffer.length, 0);
      return {
        path,
        bytes: stat.size,
        mtime: stat.mtime.toISOString(),
        sha256_first_mib: createHash('sha256').update(buffer.subarray(0, read)).digest('hex'),
      };
    } finally {
      closeSync(fd);
    }
  } catch {
    return null;
  }
}

/** sha256 of what defines the task: prompt, starter, entry point, tests, stop sequences and judge (not its id). */
export function taskHash(task: SolveTask): string {
  const judge =
    task.judge.kind === 'reference'
      ? {
          kind: 'reference',
          tests: task.judge.task.tests,
          layout: task.judge.task.layout,
          harness: task.judge.task.harness,
        }
      : task.judge;
  const defining = {
    language: task.language,
    prompt: task.prompt,
    starter: task.starter,
    entryPoint: task.entryPoint ?? null,
    publicTests: task.publicTests,
    hiddenTests: task.hiddenTests,
    stopSequences: task.stopSequences,
    perTestMs: task.perTestMs ?? null,
    judge,
  };
  return createHash('sha256').update(JSON.stringify(defining)).digest('hex');
}
