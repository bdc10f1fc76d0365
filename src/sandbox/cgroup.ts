import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Memory and process-count limits through cgroups, one cgroup per worker sandbox (creating one per execution costs
 * 30–40 ms; joining a pooled one costs nothing). cgroup v1 (separate memory and pids hierarchies) is what these
 * machines have; v2 (`memory.max`, `pids.max` in one hierarchy) is used where its controllers are enabled.
 * Needs root (or a delegated subtree); without it the sandbox runs without cgroups and says so.
 */
export type CgroupVersion = 'v1' | 'v2';

export interface CgroupSupport {
  version: CgroupVersion | null;
  /** Why cgroups cannot be used, when `version` is null. */
  reason?: string;
  /** Parent directories under which worker cgroups are made: [memory, pids] (the same directory on v2). */
  parents: [memory: string, pids: string] | null;
}

const ROOT = '/sys/fs/cgroup';

function ownCgroupPath(controller: string | null): string {
  // /proc/self/cgroup lines: "4:memory:/a/b" (v1) or "0::/a/b" (v2).
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const [, controllers, path] = line.split(':', 3) as [string, string | undefined, string | undefined];
    if (path === undefined || controllers === undefined) continue;
    if (controller === null ? controllers === '' : controllers.split(',').includes(controller)) return path;
  }
  return '/';
}

function writable(directory: string): boolean {
  const probe = join(directory, `codeloop-probe-${process.pid}`);
  try {
    mkdirSync(probe);
    rmdirSync(probe);
    return true;
  } catch {
    return false;
  }
}

/** Finds which cgroup version can limit memory and pids here, without changing anything that stays. */
export function detectCgroups(): CgroupSupport {
  const v2Root = existsSync(join(ROOT, 'cgroup.controllers')) ? ROOT : join(ROOT, 'unified');
  const memoryV1 = join(ROOT, 'memory');
  const pidsV1 = join(ROOT, 'pids');
  if (existsSync(join(memoryV1, 'memory.limit_in_bytes')) && existsSync(join(pidsV1, 'cgroup.procs'))) {
    const memory = join(memoryV1, ownCgroupPath('memory'));
    const pids = join(pidsV1, ownCgroupPath('pids'));
    if (writable(memory) && writable(pids)) return { version: 'v1', parents: [memory, pids] };
    return {
      version: null,
      parents: null,
      reason: `cgroup v1 memory/pids hierarchies exist but ${memory} is not writable (run as root or delegate the subtree)`,
    };
  }
  const controllersFile = join(v2Root, 'cgroup.controllers');
  if (existsSync(controllersFile)) {
    const controllers = readFileSync(controllersFile, 'utf8').split(/\s+/);
    if (!controllers.includes('memory') || !controllers.includes('pids')) {
      return {
        version: null,
        parents: null,
        reason: `the cgroup v2 hierarchy at ${v2Root} has no memory/pids controllers (has: ${controllers.filter(Boolean).join(', ') || 'none'}) and there is no cgroup v1 memory+pids hierarchy`,
      };
    }
    const own = join(v2Root, ownCgroupPath(null));
    if (writable(own)) return { version: 'v2', parents: [own, own] };
    return {
      version: null,
      parents: null,
      reason: `cgroup v2 at ${own} is not writable (run as root, or start codeloop under a delegated cgroup, e.g. systemd-run --user --scope -p Delegate=yes)`,
    };
  }
  return { version: null, parents: null, reason: `no cgroup hierarchy with memory and pids controllers under ${ROOT}` };
}

/** One cgroup (per worker) with a memory and a pids limit. */
export class WorkerCgroup {
  readonly memoryDir: string;
  readonly pidsDir: string;
  private memoryLimit = -1;

  constructor(
    readonly version: CgroupVersion,
    parents: [string, string],
    name: string,
  ) {
    this.memoryDir = join(parents[0], name);
    this.pidsDir = version === 'v2' ? this.memoryDir : join(parents[1], name);
    mkdirSync(this.memoryDir, { recursive: true });
    if (version === 'v1') mkdirSync(this.pidsDir, { recursive: true });
  }

  /** Paths a process writes its pid into to join this cgroup. */
  get procsFiles(): string[] {
    return this.version === 'v2'
      ? [join(this.memoryDir, 'cgroup.procs')]
      : [join(this.memoryDir, 'cgroup.procs'), join(this.pidsDir, 'cgroup.procs')];
  }

  setLimits(memoryBytes: number, pids: number): void {
    if (memoryBytes !== this.memoryLimit) {
      if (this.version === 'v2') {
        writeFileSync(join(this.memoryDir, 'memory.max'), String(memoryBytes));
        tryWrite(join(this.memoryDir, 'memory.swap.max'), '0');
      } else {
        // memsw (memory+swap) must never be below the memory limit: lift it, set the limit, then match it.
        const memsw = join(this.memoryDir, 'memory.memsw.limit_in_bytes');
        const hasMemsw = existsSync(memsw);
        if (hasMemsw) tryWrite(memsw, '-1');
        writeFileSync(join(this.memoryDir, 'memory.limit_in_bytes'), String(memoryBytes));
        if (hasMemsw) tryWrite(memsw, String(memoryBytes));
      }
      this.memoryLimit = memoryBytes;
    }
    writeFileSync(join(this.pidsDir, 'pids.max'), String(pids));
  }

  /** Count of OOM kills in this cgroup so far (compare before and after an execution). */
  oomKills(): number {
    const file = this.version === 'v2' ? 'memory.events' : 'memory.oom_control';
    try {
      const match = /oom_kill (\d+)/.exec(readFileSync(join(this.memoryDir, file), 'utf8'));
      return match ? Number(match[1]) : 0;
    } catch {
      return 0;
    }
  }

  /** Removes the cgroup; its processes must be gone. Retries briefly while the kernel finishes tearing them down. */
  async remove(): Promise<void> {
    for (const directory of new Set([this.memoryDir, this.pidsDir])) await removeCgroupDirectory(directory);
  }
}

/** rmdir of a cgroup, retried while the kernel finishes tearing its last processes down; absent is fine. */
export async function removeCgroupDirectory(directory: string): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      rmdirSync(directory);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY') throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  rmdirSync(directory);
}

/** Removes `codeloop-<pid>-*` cgroups left behind by executors whose process no longer exists. */
export async function removeStaleCgroups(parents: [string, string]): Promise<void> {
  for (const parent of new Set(parents)) {
    let entries: string[];
    try {
      entries = readdirSync(parent);
    } catch {
      continue;
    }
    for (const entry of entries) {
      const match = /^codeloop-(\d+)-/.exec(entry);
      if (!match || processExists(Number(match[1]))) continue;
      const group = join(parent, entry);
      for (const child of readdirSync(group, { withFileTypes: true })) {
        if (child.isDirectory()) await removeCgroupDirectory(join(group, child.name)).catch(() => undefined);
      }
      await removeCgroupDirectory(group).catch(() => undefined);
    }
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function tryWrite(file: string, value: string): void {
  try {
    writeFileSync(file, value);
  } catch {
    // optional knob (swap accounting may be off)
  }
}
