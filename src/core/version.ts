import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** This package's root: the nearest folder above this file with a package.json (src/core or dist/src/core). */
export function packageRoot(): string {
  let folder = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(folder, 'package.json')) && dirname(folder) !== folder) folder = dirname(folder);
  return folder;
}

let version: string | undefined;

/** codeloop's version, from package.json: the one place it is written, so no copy in the code falls behind. */
export function codeloopVersion(): string {
  if (version === undefined) {
    try {
      version =
        (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version?: string }).version ??
        'unknown';
    } catch {
      version = 'unknown';
    }
  }
  return version;
}
