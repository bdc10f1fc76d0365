import { createHash } from 'node:crypto';
import {
  chmodSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { CodeloopError } from '../core/index.js';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Folder with the files that run inside the sandbox (supervisor.py, node-preload.cjs). Same in src/ and dist/. */
export function runtimeDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // From dist/src/sandbox the sources are three levels up; from src/sandbox (tsx, tests) they are here.
  for (const candidate of [join(here, 'runtime'), join(here, '..', '..', '..', 'src', 'sandbox', 'runtime')]) {
    if (existsSync(join(candidate, 'supervisor.py'))) return candidate;
  }
  throw new Error(`codeloop is installed incompletely: src/sandbox/runtime/supervisor.py was not found near ${here}`);
}

/** Finds an executable on PATH, or returns null. */
export function which(name: string, path = process.env.PATH ?? '/usr/bin:/bin'): string | null {
  if (name.includes('/')) return existsSync(name) ? name : null;
  for (const directory of path.split(':')) {
    if (directory && existsSync(join(directory, name))) return join(directory, name);
  }
  return null;
}

/** The install prefix of an executable (e.g. /usr for /usr/bin/node), after resolving symlinks. */
export function installPrefix(executable: string): string {
  return dirname(dirname(realpathSync(executable)));
}

/** True when a process of another, unprivileged uid can read `path` (every ancestor searchable, the path readable). */
export function readableByOthers(path: string): boolean {
  let current = realpathSync(path);
  const stat = statSync(current);
  if ((stat.mode & 0o004) === 0 || (stat.isDirectory() && (stat.mode & 0o001) === 0)) return false;
  while (current !== '/') {
    current = dirname(current);
    if ((statSync(current).mode & 0o001) === 0) return false;
  }
  return true;
}

/**
 * The sandbox runs under an unprivileged uid, which must be able to read what it binds. A checkout under a private
 * home directory (mode 700) is not readable, so such a folder is copied once into a world-readable cache under the
 * system temp dir (keyed by path and modification time) and bound from there. The cache folder must be ours and not
 * writable by anyone else, or another local user could swap in their own supervisor.
 */
export function stageForSandbox(directory: string): string {
  if (readableByOthers(directory)) return directory;
  const stat = statSync(directory);
  const key = createHash('sha256')
    .update(`${realpathSync(directory)}\0${stat.mtimeMs}\0${stat.ino}`)
    .digest('hex')
    .slice(0, 16);
  const root = join(tmpdir(), `codeloop-sandbox-stage-${process.getuid?.() ?? 'user'}`);
  mkdirSync(root, { recursive: true, mode: 0o755 });
  const rootStat = lstatSync(root);
  if (!rootStat.isDirectory() || rootStat.uid !== process.getuid?.() || (rootStat.mode & 0o022) !== 0) {
    throw new CodeloopError(
      'sandbox-stage-unsafe',
      `${root} is not a directory owned by uid ${process.getuid?.()} and writable only by it, so codeloop will not ` +
        `stage its sandbox runtime there. Remove it, or make the checkout at ${directory} readable by other users ` +
        `(chmod o+rx on it and its parents).`,
    );
  }
  const target = join(root, `${basename(directory)}-${key}`);
  if (!existsSync(join(target, '.complete'))) {
    const temporary = mkdtempSync(join(root, 'staging-'));
    cpSync(directory, temporary, { recursive: true, dereference: true });
    makeReadable(temporary);
    writeFileSync(join(temporary, '.complete'), '');
    chmodSync(temporary, 0o755);
    try {
      renameSync(temporary, target);
    } catch {
      rmSync(temporary, { recursive: true, force: true }); // another process staged it first
    }
  }
  return target;
}

function makeReadable(path: string): void {
  const stat = lstatSync(path); // never follow a link
  if (stat.isSymbolicLink()) return;
  chmodSync(path, stat.isDirectory() ? 0o755 : stat.mode & 0o111 ? 0o755 : 0o644);
  if (stat.isDirectory()) for (const entry of readdirSync(path)) makeReadable(join(path, entry));
}
