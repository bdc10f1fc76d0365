import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Memory, process-count and CPU limits through cgroups, one cgroup per worker sandbox (creating one per execution costs
 * 30–40 ms; joining a pooled one costs nothing). cgroup v1 (separate memory, pids and cpu hierarchies) is what these
 * machines have; v2 (`memory.max`, `pids.max`, `cpu.weight` in one hierarchy) is used where its controllers are
 * enabled. Needs root (or a delegated subtree); without it the sandbox runs without cgroups and says so.
 *
 * Each worker's executions run in a `job` cgroup below the worker's own, with the execution's memory limit: an OOM
 * kill there can only choose among the execution's own processes, never the supervisor or the zygote (which stay in
 * the worker's cgroup, or in its `supervisor` leaf on v2), whatever the program does to its `oom_score_adj`.
 */
export type CgroupVersion = 'v1' | 'v2';

export interface CgroupSupport {
  version: CgroupVersion | null;
  /** Why cgroups cannot be used, when `version` is null. */
  reason?: string;
  /** Parent directories under which worker cgroups are made: [memory, pids] (the same directory on v2). */
  parents: [memory: string, pids: string] | null;
  /**
   * Parent directory for the workers' CPU cgroups (v1 `cpu` hierarchy, or the v2 directory when it has the cpu
   * controller), so every worker gets the same CPU share however many processes or sessions its program makes; null
   * when the CPU cannot be shared out this way (`cpuReason` says why).
   */
  cpuParent: string | null;
  cpuReason?: string;
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
    if (writable(memory) && writable(pids)) return { version: 'v1', parents: [memory, pids], ...detectCpuV1() };
    return {
      version: null,
      parents: null,
      cpuParent: null,
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
        cpuParent: null,
        reason: `the cgroup v2 hierarchy at ${v2Root} has no memory/pids controllers (has: ${controllers.filter(Boolean).join(', ') || 'none'}) and there is no cgroup v1 memory+pids hierarchy`,
      };
    }
    const own = join(v2Root, ownCgroupPath(null));
    if (writable(own)) {
      const cpu = controllers.includes('cpu')
        ? { cpuParent: own }
        : { cpuParent: null, cpuReason: `the cgroup v2 hierarchy at ${v2Root} has no cpu controller` };
      return { version: 'v2', parents: [own, own], ...cpu };
    }
    return {
      version: null,
      parents: null,
      cpuParent: null,
      reason: `cgroup v2 at ${own} is not writable (run as root, or start codeloop under a delegated cgroup, e.g. systemd-run --user --scope -p Delegate=yes)`,
    };
  }
  return {
    version: null,
    parents: null,
    cpuParent: null,
    reason: `no cgroup hierarchy with memory and pids controllers under ${ROOT}`,
  };
}

function detectCpuV1(): { cpuParent: string | null; cpuReason?: string } {
  const cpuV1 = join(ROOT, 'cpu');
  if (!existsSync(join(cpuV1, 'cpu.shares')))
    return { cpuParent: null, cpuReason: `there is no cgroup v1 cpu hierarchy at ${cpuV1}` };
  const own = join(cpuV1, ownCgroupPath('cpu'));
  return writable(own) ? { cpuParent: own } : { cpuParent: null, cpuReason: `${own} is not writable` };
}

/** CPU weight of one worker: the default of both versions (v1 `cpu.shares` 1024, v2 `cpu.weight` 100). */
const CPU_WEIGHT = { v1: 1024, v2: 100 } as const;

/**
 * Makes an executor's group directories, under which its workers' cgroups go. On v2 it enables the controllers for
 * the workers; in the CPU hierarchy it gives the group the weight of `workers` workers, so that the executor's
 * programs together get the share of CPU they had as separate processes, and no more.
 */
export function createExecutorCgroup(support: CgroupSupport, group: string, workers: number): void {
  if (!support.version || !support.parents) return;
  const version = support.version;
  for (const parent of new Set([...support.parents, ...(support.cpuParent ? [support.cpuParent] : [])])) {
    const directory = join(parent, group);
    mkdirSync(directory, { recursive: true });
    if (version === 'v2') writeFileSync(join(directory, 'cgroup.subtree_control'), controllersV2(support));
    if (parent === support.cpuParent) {
      const [file, cap] = version === 'v1' ? ['cpu.shares', 262_144] : ['cpu.weight', 10_000];
      writeFileSync(join(directory, file), String(Math.min(cap, CPU_WEIGHT[version] * workers)));
    }
  }
}

function controllersV2(support: CgroupSupport): string {
  return support.cpuParent ? '+memory +pids +cpu' : '+memory +pids';
}

/**
 * The cgroups of one worker. The worker (bwrap, the supervisor, the zygote) joins `procsFiles` when it starts; each
 * execution moves itself into `jobProcsFile` right after it is forked, before it touches any memory of its own (see
 * supervisor.py). Memory: the job's limit on the job cgroup, and the job's plus the supervisor's on the worker's.
 */
export class WorkerCgroup {
  /** The worker's memory directory (v2: the worker's directory). */
  readonly memoryDir: string;
  readonly jobDir: string;
  readonly pidsDir: string;
  readonly cpuDir: string | null;
  /** v2 only: the leaf the supervisor lives in (v2 allows no processes in a cgroup that has child cgroups). */
  private readonly supervisorDir: string | null;
  private memoryLimit = -1;

  constructor(
    readonly version: CgroupVersion,
    parents: [string, string],
    cpuParent: string | null,
    name: string,
  ) {
    this.memoryDir = join(parents[0], name);
    this.jobDir = join(this.memoryDir, 'job');
    this.pidsDir = version === 'v2' ? this.memoryDir : join(parents[1], name);
    this.cpuDir = cpuParent === null ? null : version === 'v2' ? this.memoryDir : join(cpuParent, name);
    this.supervisorDir = version === 'v2' ? join(this.memoryDir, 'supervisor') : null;
    mkdirSync(this.memoryDir, { recursive: true });
    if (version === 'v2') {
      // Memory only: the job's pids and CPU count in the worker's cgroup, with the supervisor's.
      writeFileSync(join(this.memoryDir, 'cgroup.subtree_control'), '+memory');
      mkdirSync(this.supervisorDir!, { recursive: true });
    } else {
      mkdirSync(this.pidsDir, { recursive: true });
      if (this.cpuDir) mkdirSync(this.cpuDir, { recursive: true });
    }
    mkdirSync(this.jobDir, { recursive: true });
  }

  /** Paths a process writes its pid into to join this worker's cgroups. */
  get procsFiles(): string[] {
    if (this.version === 'v2') return [join(this.supervisorDir!, 'cgroup.procs')];
    return [this.memoryDir, this.pidsDir, ...(this.cpuDir ? [this.cpuDir] : [])].map((dir) =>
      join(dir, 'cgroup.procs'),
    );
  }

  /** The file an execution writes "0" into to move itself into the job cgroup. */
  get jobProcsFile(): string {
    return join(this.jobDir, 'cgroup.procs');
  }

  /** `jobMemoryBytes` for the execution; the worker's cgroup gets that plus `supervisorBytes`. */
  setLimits(jobMemoryBytes: number, supervisorBytes: number, pids: number): void {
    if (jobMemoryBytes !== this.memoryLimit) {
      // Raise the outer limit before the inner one, lower the inner one before the outer one.
      const order: [string, number][] = [
        [this.memoryDir, jobMemoryBytes + supervisorBytes],
        [this.jobDir, jobMemoryBytes],
      ];
      if (jobMemoryBytes < this.memoryLimit) order.reverse();
      for (const [directory, bytes] of order) this.setMemory(directory, bytes);
      this.memoryLimit = jobMemoryBytes;
    }
    writeFileSync(join(this.pidsDir, 'pids.max'), String(pids));
  }

  private setMemory(directory: string, bytes: number): void {
    if (this.version === 'v2') {
      writeFileSync(join(directory, 'memory.max'), String(bytes));
      tryWrite(join(directory, 'memory.swap.max'), '0');
      return;
    }
    // memsw (memory+swap) must never be below the memory limit: lift it, set the limit, then match it.
    const memsw = join(directory, 'memory.memsw.limit_in_bytes');
    const hasMemsw = existsSync(memsw);
    if (hasMemsw) tryWrite(memsw, '-1');
    writeFileSync(join(directory, 'memory.limit_in_bytes'), String(bytes));
    if (hasMemsw) tryWrite(memsw, String(bytes));
  }

  /**
   * A count that grows with every OOM kill in the job cgroup or the worker's (compare before and after an execution):
   * v1 counts a kill only in its own cgroup, and executions that could not move into the job cgroup (see
   * `jobCgroupProblem` in worker.ts) are killed in the worker's. (v2 also counts the job's kills in the worker's.)
   */
  oomKills(): number {
    const file = this.version === 'v2' ? 'memory.events' : 'memory.oom_control';
    let count = 0;
    for (const directory of [this.jobDir, this.memoryDir]) {
      try {
        const match = /oom_kill (\d+)/.exec(readFileSync(join(directory, file), 'utf8'));
        count += match ? Number(match[1]) : 0;
      } catch {
        // gone with the worker
      }
    }
    return count;
  }

  /** Removes the cgroups; their processes must be gone. Retries briefly while the kernel finishes tearing them down. */
  async remove(): Promise<void> {
    const directories = [this.jobDir, this.supervisorDir, this.memoryDir, this.pidsDir, this.cpuDir];
    for (const directory of new Set(directories)) if (directory) await removeCgroupDirectory(directory);
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
  try {
    rmdirSync(directory);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code !== 'EBUSY') throw error;
    // Still busy after a second: a process of the last run is not torn down yet. Leaving the directory is harmless
    // (removeStaleCgroups removes it once this process is gone); failing close() over it is not.
    process.emitWarning(
      `codeloop: cgroup ${directory} is still busy after 1 s; left for removal when this process has exited`,
      { code: 'CODELOOP_CGROUP_BUSY' },
    );
  }
}

/** Removes `codeloop-<pid>-*` cgroups left behind by executors whose process no longer exists. */
export async function removeStaleCgroups(parents: string[]): Promise<void> {
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
      await removeCgroupTree(join(parent, entry));
    }
  }
}

/** Removes a cgroup and the cgroups below it, deepest first; a directory that stays busy is left. */
async function removeCgroupTree(directory: string): Promise<void> {
  let children: string[] = [];
  try {
    children = readdirSync(directory, { withFileTypes: true })
      .filter((child) => child.isDirectory())
      .map((child) => child.name);
  } catch {
    return;
  }
  for (const child of children) await removeCgroupTree(join(directory, child));
  await removeCgroupDirectory(directory).catch(() => undefined);
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
