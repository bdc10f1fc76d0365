import { UsageError } from '../core/index.js';

/** One stdin/stdout unit test: the input, and the outputs any one of which is accepted. */
export interface IoTestCase {
  input: string;
  /** Accepted outputs (ExecEval's `output` list: a test passes when the program's output matches any of them). */
  outputs: string[];
}

/** The unit tests of a task with layout `io-tests`, and how long each run may take. */
export interface IoTestSuite {
  cases: IoTestCase[];
  /**
   * Wall-clock limit of one run of the program on one test, in ms, counted from its start to its exit. ExecEval: its
   * `cpu` limit (2 s) times the runtime's `timelimit_factor` (PyPy 3: 2, CPython "Python 3": 3); see
   * `SAFIM_TEST_TIMEOUT_MS`.
   */
  timeoutMs: number;
}

/**
 * What one test came to, named as ExecEval names it (`execution_engine/exec_outcome.py`). `COMPILATION_ERROR` is for
 * the whole program: it does not compile, and no test ran.
 */
export type IoTestOutcome =
  'PASSED' | 'WRONG_ANSWER' | 'TIME_LIMIT_EXCEEDED' | 'RUNTIME_ERROR' | 'MEMORY_LIMIT_EXCEEDED' | 'COMPILATION_ERROR';

/** The driver's machine-readable summary, one stdout line starting with `IO_TESTS_RESULT_PREFIX`. */
export interface IoTestsResult {
  /** `PASSED`, or the outcome of the test that failed (runs stop at the first failure, as ExecEval's do by default). */
  verdict: IoTestOutcome;
  /** Number of tests of the task. */
  tests: number;
  /** Outcome of each test that ran, in order; empty after a `COMPILATION_ERROR`. */
  outcomes: IoTestOutcome[];
}

/** Prefix of the driver's one summary line on stdout. Only the driver writes there: programs write to its pipes. */
export const IO_TESTS_RESULT_PREFIX = 'codeloop-io-tests: ';

/**
 * Prefix of the last line the driver writes on stderr when a test fails: `IoTestsError: WRONG_ANSWER on test 2 of 3`
 * (or `IoTestsError: COMPILATION_ERROR`). The sandbox quotes that line in the execution's `reason`.
 */
export const IO_TESTS_ERROR_PREFIX = 'IoTestsError: ';

/** Time the driver allows the compile check (ExecEval allows 60 s; SAFIM programs compile in milliseconds). */
const COMPILE_TIMEOUT_MS = 10_000;

/**
 * A wall-clock limit for the whole driver execution that leaves room for the compile check and every test at its
 * timeout plus a second of process start and teardown each. The driver enforces the per-test limits itself; this is
 * the sandbox's backstop, reached only if the driver hangs.
 */
export function ioTestsWallMs(suite: IoTestSuite): number {
  return COMPILE_TIMEOUT_MS + suite.cases.length * (suite.timeoutMs + 1_000) + 2_000;
}

/**
 * A self-contained Python program that judges `program` (a whole Python program, completion already filled in) on
 * `suite` the way ExecEval judges a "PyPy 3" submission for SAFIM (ntunlp/ExecEval `execution_engine/execution_engine.py`,
 * `config.yaml`, `resource_limit.py`), with CPython in place of PyPy:
 *
 * - `\r` is removed from the program, the inputs and the outputs (ExecEval `convert_crlf_to_lf`).
 * - The program is compiled first (`python3 -W ignore -m py_compile`); if that fails, the verdict is
 *   `COMPILATION_ERROR` and no test runs.
 * - Each test runs `/usr/bin/python3 -W ignore -OO -s -S solution.py` in a fresh process and a fresh folder, the input
 *   on stdin, with ExecEval's limits: address space 2 GiB, 1 process (no threads or forks), 4 open files, no file
 *   writes, no core dumps, unlimited stack; killed (with its process group) after `timeoutMs`. `-OO` drops `assert`
 *   statements, as ExecEval's flags do.
 * - Outcome, in ExecEval's order: over time → `TIME_LIMIT_EXCEEDED`; exit 0 → `PASSED` if stdout (UTF-8, undecodable
 *   bytes dropped, stripped) matches one accepted output, else `WRONG_ANSWER`; non-zero exit with something on
 *   stderr → `MEMORY_LIMIT_EXCEEDED` if stderr mentions "out of memory", "bad_alloc", "bad alloc" or "MemoryError",
 *   else `RUNTIME_ERROR`; non-zero exit with an empty stderr (a signal, say) → `MEMORY_LIMIT_EXCEEDED`.
 * - Output match (ExecEval `validate_outputs`): equal line by line after stripping the whole text and each line; else
 *   token by token (whitespace-split), where two tokens that both read as numbers match when they differ by at most
 *   1e-12, `yes`/`no`/`true`/`false` match in any case, and other tokens must be equal.
 * - Runs stop at the first failing test (ExecEval's `stop_on_first_fail` default, which SAFIM keeps).
 *
 * Deviations, all at the edges: more than 32 MiB of stdout is a `WRONG_ANSWER` (ExecEval has no cap); numbers are
 * read as decimal literals, `inf`/`infinity`/`nan` (gmpy2's `mpfr` also reads `0x…`, `0b…`, `1_000`, `1@2`) and
 * compared exactly rather than after rounding to 129 bits; inputs are sent as UTF-8 (ExecEval encodes them as ASCII
 * and fails on anything else; no SAFIM input has a non-ASCII character).
 *
 * The driver exits 0 only if every test passed. It prints one line `IO_TESTS_RESULT_PREFIX + JSON` (`IoTestsResult`)
 * on stdout, and on failure the details and an `IO_TESTS_ERROR_PREFIX` line on stderr. The program under test never
 * writes on the driver's stdout or stderr: its output goes to pipes the driver reads, and the driver makes itself
 * undumpable so the program (same uid) cannot open `/proc/<driver>/fd/1` or its memory. Nor can the program read the
 * expected outputs: the driver deletes its own file (which holds them) before the first run, and each run's folder
 * after it, so they are only in the driver's memory while the program runs.
 */
export function ioTestsProgram(program: string, suite: IoTestSuite): string {
  if (suite.cases.length === 0)
    throw new UsageError('An io-tests suite needs at least one test case: give the task its unit tests.');
  if (!Number.isFinite(suite.timeoutMs) || suite.timeoutMs <= 0) {
    throw new UsageError(`An io-tests suite needs a positive timeoutMs, got ${suite.timeoutMs}: SAFIM tasks use 6000.`);
  }
  const config = {
    program,
    cases: suite.cases.map((testCase) => ({ input: testCase.input, outputs: testCase.outputs })),
    timeoutMs: suite.timeoutMs,
    compileTimeoutMs: COMPILE_TIMEOUT_MS,
  };
  // Base64 of the JSON keeps the embedded text out of Python's string-literal rules (JSON.stringify escapes lone
  // surrogates, so the bytes are valid UTF-8).
  const encoded = Buffer.from(JSON.stringify(config), 'utf8').toString('base64');
  return `${DRIVER_HEAD}CONFIG = json.loads(base64.b64decode("${encoded}"))\n${DRIVER_BODY}`;
}

/** The driver's summary from an execution's stdout (the last summary line), or undefined when there is none. */
export function parseIoTestsResult(stdout: string): IoTestsResult | undefined {
  const line = stdout.split('\n').findLast((candidate) => candidate.startsWith(IO_TESTS_RESULT_PREFIX));
  if (line === undefined) return undefined;
  try {
    const value = JSON.parse(line.slice(IO_TESTS_RESULT_PREFIX.length)) as IoTestsResult;
    return typeof value.verdict === 'string' && Array.isArray(value.outcomes) ? value : undefined;
  } catch {
    return undefined;
  }
}

const DRIVER_HEAD = String.raw`# codeloop io-tests driver (src/tasks/io-tests-program.ts): runs one Python program on stdin/stdout unit tests and
# judges each run as ExecEval judges a "PyPy 3" submission for SAFIM. Exit 0 only if every test passed.
import base64
import json
import os
import re
import resource
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from decimal import MAX_EMAX, MIN_EMIN, Decimal, InvalidOperation, localcontext

`;

const DRIVER_BODY = String.raw`
PYTHON = "/usr/bin/python3"
# ExecEval config.yaml, "PyPy 3": compile "-W ignore -m py_compile", execute "-W ignore -OO -s -S".
COMPILE_FLAGS = ["-W", "ignore", "-S", "-m", "py_compile"]
RUN_FLAGS = ["-W", "ignore", "-OO", "-s", "-S"]
ADDRESS_SPACE = 2 * 1024 ** 3  # ExecEval ResourceLimits._as
OUTPUT_CAP = 32 * 1024 * 1024  # bytes of stdout read before the run is stopped as a wrong answer
STDERR_KEPT = 16 * 1024  # the end of stderr, where tracebacks and out-of-memory messages are
OUT_OF_MEMORY = ("out of memory", "bad_alloc", "bad alloc", "memoryerror")
ANY_CASE_TOKENS = {"yes", "no", "true", "false"}
TOLERANCE = Decimal(1e-12)  # the double 1e-12, exactly, as gmpy2.mpfr(1e-12, 129) holds it
NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?(?:inf|infinity|nan)", re.IGNORECASE)
ENVIRONMENT = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
RESULT_PREFIX = "codeloop-io-tests: "
ERROR_PREFIX = "IoTestsError: "


def make_undumpable():
    # The program runs under our uid; an undumpable process's /proc/<pid>/fd and /proc/<pid>/mem are closed to it, so
    # it cannot write on our stdout or change our memory.
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(4, 0, 0, 0, 0) != 0:  # PR_SET_DUMPABLE, 0
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_DUMPABLE, 0) failed")


def limit_child():
    # Runs in the child between fork and exec: ExecEval's prlimit values, each capped at what we may set.
    def cap(kind, value):
        hard = resource.getrlimit(kind)[1]
        if hard != resource.RLIM_INFINITY and (value == resource.RLIM_INFINITY or value > hard):
            value = hard
        resource.setrlimit(kind, (value, value))

    cap(resource.RLIMIT_AS, ADDRESS_SPACE)
    cap(resource.RLIMIT_NPROC, 1)
    cap(resource.RLIMIT_NOFILE, 4)
    cap(resource.RLIMIT_FSIZE, 0)
    cap(resource.RLIMIT_CORE, 0)
    cap(resource.RLIMIT_STACK, resource.RLIM_INFINITY)


def as_number(token):
    if not NUMBER.fullmatch(token):
        return None
    try:
        return Decimal(token)
    except InvalidOperation:
        return None


def numbers_match(first, second):
    # gmpy2: abs(a - b) > 1e-12 fails; NaN never compares greater, and inf - inf is NaN.
    if first.is_nan() or second.is_nan():
        return True
    if first.is_infinite() or second.is_infinite():
        return first == second
    with localcontext() as context:
        context.prec = 100
        context.Emax = MAX_EMAX
        context.Emin = MIN_EMIN
        return abs(first - second) <= TOLERANCE


def outputs_match(expected, actual):
    # ExecEval validate_outputs: lines first, then tokens.
    expected_lines = expected.strip().split("\n")
    actual_lines = actual.strip().split("\n")
    if len(expected_lines) == len(actual_lines) and all(a.strip() == b.strip() for a, b in zip(expected_lines, actual_lines)):
        return True
    expected_tokens = expected.strip().split()
    actual_tokens = actual.strip().split()
    if len(expected_tokens) != len(actual_tokens):
        return False
    for first, second in zip(expected_tokens, actual_tokens):
        first_number, second_number = as_number(first), as_number(second)
        if first_number is not None and second_number is not None:
            if not numbers_match(first_number, second_number):
                return False
            continue
        if first.lower() in ANY_CASE_TOKENS:
            first = first.lower()
        if second.lower() in ANY_CASE_TOKENS:
            second = second.lower()
        if first != second:
            return False
    return True


def kill_group(child):
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    child.wait()


def exchange(child, data, deadline):
    """Writes data to the child's stdin and reads its stdout and stderr until they close, too much arrives or the deadline passes."""
    stdout = bytearray()
    stderr = bytearray()
    stderr_bytes = 0
    timed_out = overflow = False
    selector = selectors.DefaultSelector()
    if data:
        os.set_blocking(child.stdin.fileno(), False)
        selector.register(child.stdin, selectors.EVENT_WRITE)
    else:
        child.stdin.close()
    selector.register(child.stdout, selectors.EVENT_READ)
    selector.register(child.stderr, selectors.EVENT_READ)
    written = 0
    with selector:
        while selector.get_map() and not overflow:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            for key, _ in selector.select(remaining):
                stream = key.fileobj
                if stream is child.stdin:
                    try:
                        written += os.write(stream.fileno(), data[written:written + 65536])
                    except BlockingIOError:
                        continue
                    except BrokenPipeError:
                        written = len(data)
                    if written >= len(data):
                        selector.unregister(stream)
                        stream.close()
                    continue
                chunk = os.read(stream.fileno(), 65536)
                if not chunk:
                    selector.unregister(stream)
                    stream.close()
                elif stream is child.stdout:
                    stdout += chunk
                    overflow = len(stdout) > OUTPUT_CAP
                else:
                    stderr_bytes += len(chunk)
                    stderr += chunk
                    del stderr[:-STDERR_KEPT]
    if not timed_out and not overflow:
        try:
            child.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            timed_out = True
    if timed_out or overflow:
        kill_group(child)
    for stream in (child.stdin, child.stdout, child.stderr):
        if not stream.closed:
            stream.close()
    return bytes(stdout), bytes(stderr), stderr_bytes, timed_out, overflow


def fresh_copy(source):
    # A new folder per run: nothing a run does to its files reaches the next one.
    folder = tempfile.mkdtemp(prefix="io-test-")
    path = os.path.join(folder, "solution.py")
    with open(path, "w", encoding="utf-8", errors="surrogatepass") as handle:
        handle.write(source)
    return folder, path


def compile_check(source, timeout):
    folder, path = fresh_copy(source)
    try:
        result = subprocess.run([PYTHON, *COMPILE_FLAGS, path], stdin=subprocess.DEVNULL, capture_output=True, cwd=folder,
                                env=ENVIRONMENT, timeout=timeout)
    except subprocess.TimeoutExpired:
        return False, "the compile check took longer than %d s" % timeout
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return result.returncode == 0, result.stderr.decode("utf-8", errors="replace")[-2000:]


def run_test(source, test, timeout):
    folder, path = fresh_copy(source)
    started = time.monotonic()
    child = subprocess.Popen([PYTHON, *RUN_FLAGS, path], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, cwd=folder, env=ENVIRONMENT, preexec_fn=limit_child,
                             start_new_session=True, close_fds=True)
    stdout, stderr, stderr_bytes, timed_out, overflow = exchange(child, test["input"].encode("utf-8"), started + timeout)
    shutil.rmtree(folder, ignore_errors=True)  # the next run sees no trace of this one (not even how many came before)
    error_text = stderr.decode("utf-8", errors="ignore")
    if timed_out:
        return "TIME_LIMIT_EXCEEDED", "killed after %d ms" % (timeout * 1000), error_text
    if overflow:
        return "WRONG_ANSWER", "wrote more than %d MiB on stdout" % (OUTPUT_CAP // 2 ** 20), error_text
    if child.returncode == 0:
        actual = stdout.decode("utf-8", errors="ignore").strip()
        if any(outputs_match(expected, actual) for expected in test["outputs"]):
            return "PASSED", "", error_text
        return "WRONG_ANSWER", "expected %s, got %s" % (excerpt(test["outputs"][0] if test["outputs"] else ""), excerpt(actual)), error_text
    how = "exited with code %d" % child.returncode if child.returncode > 0 else "killed by signal %d" % -child.returncode
    if stderr_bytes > 0:
        if any(marker in error_text.lower() for marker in OUT_OF_MEMORY):
            return "MEMORY_LIMIT_EXCEEDED", how + ", out of memory", error_text
        return "RUNTIME_ERROR", how, error_text
    return "MEMORY_LIMIT_EXCEEDED", how + " with nothing on stderr", error_text


def excerpt(text, size=200):
    return repr(text if len(text) <= size else text[:size] + "...")


def finish(verdict, outcomes, tests, details):
    print(RESULT_PREFIX + json.dumps({"verdict": verdict, "tests": tests, "outcomes": outcomes}), flush=True)
    if verdict == "PASSED":
        sys.exit(0)
    for line in details:
        print(line, file=sys.stderr)
    where = "" if verdict == "COMPILATION_ERROR" else " on test %d of %d" % (len(outcomes), tests)
    print(ERROR_PREFIX + verdict + where, file=sys.stderr, flush=True)
    sys.exit(1)


def forget_program_file():
    # This file holds every test's expected output, and the program under test runs under our uid: delete it (and
    # anything else in the execution's folder, such as a stdin file) before the first run. CONFIG stays in this
    # process's memory only, which make_undumpable() closes to the program.
    here = globals().get("__file__")
    if not here:
        raise RuntimeError("the io-tests driver must run from a file it can delete (harness exit-code)")
    folder = os.path.dirname(os.path.abspath(here))
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        if not os.path.isdir(path) or os.path.islink(path):
            os.unlink(path)
    if os.path.exists(here):
        raise RuntimeError("the io-tests driver could not delete its own file")


def main():
    make_undumpable()
    forget_program_file()
    source = CONFIG["program"].replace("\r", "")
    tests = [{"input": case["input"].replace("\r", ""), "outputs": [output.replace("\r", "") for output in case["outputs"]]}
             for case in CONFIG["cases"]]
    compiled, message = compile_check(source, CONFIG["compileTimeoutMs"] / 1000)
    if not compiled:
        finish("COMPILATION_ERROR", [], len(tests), [message.rstrip()])
    outcomes = []
    for number, test in enumerate(tests, 1):
        outcome, detail, error_text = run_test(source, test, CONFIG["timeoutMs"] / 1000)
        outcomes.append(outcome)
        if outcome != "PASSED":
            lines = ["test %d of %d: %s: %s" % (number, len(tests), outcome, detail), "input: " + excerpt(test["input"])]
            if error_text.strip():
                lines.append("stderr of the program (end):")
                lines.extend("  " + line for line in error_text.strip().splitlines()[-20:])
            finish(outcome, outcomes, len(tests), lines)
    finish("PASSED", outcomes, len(tests), [])


main()
`;
