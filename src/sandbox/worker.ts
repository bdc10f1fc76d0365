import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { CodeloopError } from '../core/index.js';
import type { RawExecution } from './verdict.js';

/** A job as supervisor.py reads it. */
export interface SupervisorJob {
  id: number;
  mode: 'python' | 'exec';
  /** Python jobs: how the program is run and what counts as its end (see `Harness`). */
  harness?: 'completion' | 'human-eval';
  main: string;
  /** Base64 file contents by relative path. */
  files: Record<string, string>;
  stdin?: string;
  args?: string[];
  /** `exec` jobs: the command B execs (Python jobs run in B's own interpreter). */
  argv?: string[];
  env?: Record<string, string>;
  limits: {
    wallMs: number;
    cpuSeconds: number;
    fileSizeBytes: number;
    openFiles: number;
    processes: number;
    addressSpaceBytes: number;
    scratchBytes: number;
    outputBytes: number;
  };
}

/** The sandbox (not the program) broke: the worker died, hung or said something it should not. */
export class SandboxInfraError extends CodeloopError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('sandbox-infra', message, options);
    this.name = 'SandboxInfraError';
  }
}

export interface WorkerSpawn {
  command: string;
  args: string[];
  env: Record<string, string>;
  /** The supervisor's JSON configuration, sent on stdin before any job (never on a command line). */
  config: string;
  /** Open file descriptors the worker inherits as fd 4, 5, … */
  fds?: number[];
}

interface Pending {
  id: number;
  deadlineMs: number;
  resolve: (raw: RawExecution) => void;
  reject: (error: Error) => void;
  timer?: NodeJS.Timeout;
}

/**
 * One long-lived sandbox process running supervisor.py. Jobs are written as JSON lines and answered in order; the
 * supervisor runs one at a time, so a second job written while the first runs is simply waiting in the pipe (this
 * keeps the worker busy between results). Each job's deadline starts when it reaches the head of the line. A worker that
 * dies, hangs past a deadline or breaks the protocol is killed with its whole process group and must be replaced.
 */
export class SandboxWorker {
  private child: ChildProcessWithoutNullStreams | null = null;
  private buffer: string[] = [];
  private stderrTail = '';
  private readonly pending: Pending[] = [];
  private ready: { resolve: () => void; reject: (error: Error) => void } | null = null;
  private exitError: Error | null = null;
  /** Set when the worker started but its executions cannot move into their job cgroup: why (supervisor.py). */
  jobCgroupProblem: string | null = null;
  /** Host pid of the sandbox's PID 1 (bwrap's --info-fd), whose exit means every process of the sandbox is gone. */
  private sandboxPid: number | null = null;

  constructor(private readonly spawnOptions: WorkerSpawn) {}

  get alive(): boolean {
    return this.child !== null && this.exitError === null;
  }

  /** Jobs written and not yet answered. */
  get inFlight(): number {
    return this.pending.length;
  }

  async start(timeoutMs = 20_000): Promise<void> {
    const { command, args, env, fds = [] } = this.spawnOptions;
    // fd 3 carries bwrap's --info-fd JSON (the sandbox's PID 1 as the host sees it).
    const child = spawn(command, args, {
      env,
      stdio: ['pipe', 'pipe', 'pipe', 'pipe', ...fds],
      detached: true,
    }) as unknown as ChildProcessWithoutNullStreams;
    this.child = child;
    let info = '';
    const infoStream = child.stdio[3] as NodeJS.ReadableStream | null;
    infoStream?.setEncoding('utf8');
    infoStream?.on('data', (chunk: string) => {
      info += chunk;
      const match = /"child-pid"\s*:\s*(\d+)/.exec(info);
      if (match) this.sandboxPid = Number(match[1]);
    });
    infoStream?.on('error', () => undefined);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => this.onData(chunk));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-4000);
    });
    child.stdin.on('error', () => undefined); // EPIPE when the worker died; reported through 'exit'
    this.writeMessage(this.spawnOptions.config);
    child.on('error', (error) =>
      this.fail(new SandboxInfraError(`could not start the sandbox (${command}): ${error.message}`, { cause: error })),
    );
    child.on('exit', (code, signal) => {
      this.fail(
        new SandboxInfraError(
          `the sandbox worker exited (${signal ?? `code ${code}`})${this.stderrTail ? `: ${this.stderrTail.trim()}` : ''}`,
        ),
      );
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.kill();
        reject(
          new SandboxInfraError(
            `the sandbox worker did not start within ${timeoutMs} ms${this.stderrTail ? `: ${this.stderrTail.trim()}` : ''}`,
          ),
        );
      }, timeoutMs);
      this.ready = {
        resolve: () => (clearTimeout(timer), resolve()),
        reject: (error) => (clearTimeout(timer), reject(error)),
      };
      if (this.exitError) this.ready.reject(this.exitError);
    });
  }

  /** Runs one job; rejects with SandboxInfraError when the worker fails (the job's program failing is a result). */
  run(job: SupervisorJob, deadlineMs: number): Promise<RawExecution> {
    if (!this.child || this.exitError)
      return Promise.reject(this.exitError ?? new SandboxInfraError('the sandbox worker is not running'));
    return new Promise<RawExecution>((resolve, reject) => {
      this.pending.push({ id: job.id, deadlineMs, resolve, reject });
      if (this.pending.length === 1) this.armHead();
      this.writeMessage(JSON.stringify(job));
    });
  }

  /** Length-prefixed, so the supervisor reads exactly one message and never holds the next job in memory. */
  private writeMessage(text: string): void {
    const body = Buffer.from(text, 'utf8');
    this.child!.stdin.write(`${body.length}\n`);
    this.child!.stdin.write(body);
  }

  /** Kills the worker's whole process group and the sandbox's PID 1 (which takes every execution in it along). */
  kill(): void {
    const child = this.child;
    if (!child || child.pid === undefined) return;
    for (const target of [-child.pid, this.sandboxPid]) {
      if (target === null) continue;
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    this.fail(new SandboxInfraError('the sandbox worker was stopped'));
  }

  /** Resolves when the worker process and every process in its sandbox have exited (after `kill`). */
  async exited(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => child.once('exit', () => resolve()));
    }
    // bwrap's PID 1 exits only after the kernel has killed and reaped everything else in its namespace.
    const pid = this.sandboxPid;
    for (let waited = 0; pid !== null && processAlive(pid) && waited < 10_000; waited += 10) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  private armHead(): void {
    const head = this.pending[0];
    if (!head) return;
    head.timer = setTimeout(() => {
      this.fail(new SandboxInfraError(`the sandbox worker did not answer within ${head.deadlineMs} ms`));
      this.kill();
    }, head.deadlineMs);
  }

  private onData(chunk: string): void {
    // Look for the newline only in the new chunk: a large result arrives in many chunks, and searching the whole
    // accumulated text each time would be quadratic.
    let start = 0;
    let newline: number;
    while ((newline = chunk.indexOf('\n', start)) >= 0) {
      this.buffer.push(chunk.slice(start, newline));
      const line = this.buffer.join('');
      this.buffer = [];
      start = newline + 1;
      this.onLine(line);
    }
    if (start < chunk.length) this.buffer.push(chunk.slice(start));
  }

  private onLine(line: string): void {
    let message: RawExecution & { id?: number; type?: string; jobCgroupProblem?: string };
    try {
      message = JSON.parse(line) as RawExecution & { id?: number; type?: string; jobCgroupProblem?: string };
    } catch (error) {
      this.fail(
        new SandboxInfraError(`the sandbox worker sent a malformed line: ${line.slice(0, 200)}`, { cause: error }),
      );
      this.kill();
      return;
    }
    if (message.type === 'ready' && this.ready) {
      this.jobCgroupProblem = message.jobCgroupProblem ?? null;
      this.ready.resolve();
      this.ready = null;
      return;
    }
    const head = this.pending[0];
    if (message.type !== 'result' || !head || message.id !== head.id) {
      this.fail(
        new SandboxInfraError(`the sandbox worker sent ${line.slice(0, 200)} while job ${head?.id} was running`),
      );
      this.kill();
      return;
    }
    this.pending.shift();
    clearTimeout(head.timer);
    this.armHead();
    head.resolve(message);
  }

  private fail(error: Error): void {
    if (this.exitError) return;
    this.exitError = error;
    this.ready?.reject(error);
    this.ready = null;
    for (const pending of this.pending.splice(0)) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
  }
}

function processAlive(pid: number): boolean {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return !/^State:\s+Z/m.test(status);
  } catch {
    return false;
  }
}
