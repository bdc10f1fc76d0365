// Test support, not part of the public surface: where the workspace's dataset files are, and their raw records read
// without the loaders, so tests can compare the loaders' output with the reference concatenations.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { packageRoot } from '../../src/core/index.js';
import { DATA_DIR_ENV } from '../../src/tasks/index.js';

/** The repository root: the nearest folder above the code with a package.json (core's `packageRoot`). */
export const repositoryRoot = packageRoot;

/**
 * The data directory for tests: `CODELOOP_DATA_DIR` if it is set to a directory, else `../shared/datasets` next to the
 * repository. When found, it is also put into `CODELOOP_DATA_DIR` so loaders called without `dataDir` use it.
 * `skip` is false, or the reason to skip data-dependent tests.
 */
export function sharedDatasets(): { dataDir: string; skip: string | false } {
  const fromEnv = process.env[DATA_DIR_ENV];
  const dataDir =
    fromEnv !== undefined && fromEnv !== '' && existsSync(fromEnv)
      ? resolve(fromEnv)
      : join(repositoryRoot(), '..', 'shared', 'datasets');
  if (!existsSync(dataDir) || !statSync(dataDir).isDirectory()) {
    return { dataDir, skip: `no dataset files: ${dataDir} does not exist (set ${DATA_DIR_ENV} to a folder with them)` };
  }
  process.env[DATA_DIR_ENV] = dataDir;
  return { dataDir, skip: false };
}

/** The first record of a dataset file (JSONL, optionally gzipped) for which `match` is true, parsed with JSON.parse. */
export function rawRecord(
  dataDir: string,
  relativePath: string,
  match: (record: Record<string, unknown>) => boolean,
): Record<string, unknown> {
  const bytes = readFileSync(join(dataDir, relativePath));
  const text = (relativePath.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const record = JSON.parse(line) as Record<string, unknown>;
    if (match(record)) return record;
  }
  throw new Error(`no matching record in ${relativePath}`);
}

/** A string field of a raw record (throws when it is not a string, so a test fails loudly). */
export function text(record: Record<string, unknown>, key: string): string {
  const value = record[key];
  if (typeof value !== 'string') throw new Error(`field ${key} is not a string`);
  return value;
}
