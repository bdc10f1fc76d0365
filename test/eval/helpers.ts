// Test support for test/eval: where the workspace's dataset files are, whether a sandbox exists, and an executor wrapper
// that counts calls.
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { probeIsolation, type ExecutionRequest, type Executor } from '../../src/sandbox/index.js';
import { DATA_DIR_ENV } from '../../src/tasks/index.js';

/** The repository root: the nearest folder above this file with a package.json (test/eval or dist/test/eval). */
export function repositoryRoot(): string {
  let folder = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(folder, 'package.json')) && dirname(folder) !== folder) folder = dirname(folder);
  return folder;
}

/**
 * `CODELOOP_DATA_DIR` if set to a folder, else `../shared/datasets` next to the repository (as src/tasks/shared-datasets.ts
 * resolves it). `skip` is false, or the reason to skip.
 */
export function sharedDatasets(): { dataDir: string; skip: string | false } {
  const fromEnv = process.env[DATA_DIR_ENV];
  const dataDir = fromEnv !== undefined && fromEnv !== '' && existsSync(fromEnv) ? resolve(fromEnv) : join(repositoryRoot(), '..', 'shared', 'datasets');
  if (!existsSync(dataDir) || !statSync(dataDir).isDirectory()) return { dataDir, skip: `no dataset files: ${dataDir} does not exist (set ${DATA_DIR_ENV})` };
  return { dataDir, skip: false };
}

/** Why sandbox-dependent tests are skipped, or false. */
export const noSandbox: string | false = probeIsolation().level === null ? 'no OS sandbox on this machine (see codeloop doctor)' : false;

/** Wraps an executor and records every request it was asked to run. */
export function countingExecutor(executor: Executor): Executor & { requests: ExecutionRequest[] } {
  const requests: ExecutionRequest[] = [];
  return {
    get isolation() {
      return executor.isolation;
    },
    get concurrency() {
      return executor.concurrency;
    },
    requests,
    run(request, options) {
      requests.push(request);
      return executor.run(request, options);
    },
    close: () => executor.close(),
  };
}
