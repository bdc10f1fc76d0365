# codeloop rewards: the TRUSTED side of a function-test row (src/rewards/function-tests.ts). Runs inside the sandbox,
# in an execution that holds no code of the candidate: the row's tests run here, and every call of the function under
# test is answered from a table of results that the candidate's own execution (call-solution.py) produced, rebuilt
# from builtin types (codeloop_values.py). The candidate never sees the tests, and nothing it does reaches this
# process except the values its function returned.
#
# Input: suite.json {"nonce", "prompt", "entryPoint", "proxyNames", "perTestMs", "sources": [{"origin", "idPrefix",
#   "form", "code"}], "results": {test id: [{"fn", "args", "kwargs", "outcome"}]}}.
# A call that is not in the table (the first run has an empty table) switches its test to recording: the test runs
# again with every assertion turned into a plain expression and the unknown calls answered by an absorbing
# placeholder, so that all of its calls (with their arguments) are listed for the candidate's next execution.
# Output: lines `nonce + JSON` on stdout: {"type": "plan", "tests": [...]}, then per test {"type": "test", "id",
#   "status", ...} where status is passed | failed | error | timed-out | not-run | needs-calls (with "calls"), then
#   {"type": "done"}.
import ast
import builtins
import importlib
import importlib.util
import json
import os
import random
import signal
import sys
import time
import traceback

import codeloop_values as values

_OUT = os.dup(1)
sys.stdout = open(os.devnull, "w")
with open("suite.json", encoding="utf-8") as _file:
    _SUITE = json.load(_file)
os.remove("suite.json")
_NONCE = _SUITE["nonce"]
_PER_TEST_S = _SUITE["perTestMs"] / 1000.0
_MAX_CALLS = 10_000
_TEXT = 300
_DECLARATIONS = (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Import, ast.ImportFrom, ast.FunctionDef,
                 ast.AsyncFunctionDef, ast.ClassDef, ast.Global, ast.Nonlocal, ast.Pass)
_SEED = 20240917


def _emit(record):
    values.write_all(_OUT, (_NONCE + json.dumps(record) + "\n").encode("utf-8", "replace"))


def _short(text):
    return text if len(text) <= _TEXT else text[:_TEXT] + "…"


def _repr(value):
    try:
        return _short(repr(value))
    except BaseException as error:
        return "<repr failed: %s>" % type(error).__name__


class _Timeout(BaseException):
    pass


class _NeedCalls(BaseException):
    """An unknown call in a judged run: the test is run again, recording."""


class _CallTimedOut(BaseException):
    pass


class _CallNotRun(BaseException):
    pass


class _Placeholder:
    """What an unknown call returns while recording: absorbs every operation, so the test goes on to its next calls."""

    def __getattr__(self, name):
        return _Placeholder()

    def __call__(self, *args, **kwargs):
        return _Placeholder()

    def __getitem__(self, key):
        return _Placeholder()

    def __iter__(self):
        return iter(())

    def __len__(self):
        return 0

    def __bool__(self):
        return True

    def __float__(self):
        return 0.0

    def __int__(self):
        return 0

    def __index__(self):
        return 0

    def __hash__(self):
        return 0

    def __contains__(self, item):
        return False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return True


def _absorb(name):
    def method(self, *args):
        return _Placeholder()
    return method


for _name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "neg", "pos", "abs", "round", "lt", "le", "gt",
              "ge", "eq", "ne", "and", "or", "xor", "lshift", "rshift", "invert", "matmul"):
    setattr(_Placeholder, "__%s__" % _name, _absorb(_name))
    if _name not in ("neg", "pos", "abs", "round", "lt", "le", "gt", "ge", "eq", "ne", "invert"):
        setattr(_Placeholder, "__r%s__" % _name, _absorb(_name))


def _exception_of(record):
    name = str(record.get("type", "Exception"))[:100]
    message = str(record.get("message", ""))
    kind = getattr(builtins, name, None)
    if not (isinstance(kind, type) and issubclass(kind, Exception)):
        kind = type(name if name.isidentifier() else "CandidateError", (Exception,), {})
    try:
        return kind(message)
    except BaseException:
        return Exception(message)


def _apply_mutation(argument, after):
    """The candidate changed a list/dict/set argument in place: change ours the same way."""
    try:
        value = values.decode(after)
    except BaseException:
        return
    if type(argument) is list and type(value) is list:
        argument[:] = value
    elif type(argument) is dict and type(value) is dict:
        argument.clear()
        argument.update(value)
    elif type(argument) is set and type(value) is set:
        argument.clear()
        argument.update(value)


class _Calls:
    """The calls of the test being run: answered from the table, or recorded."""

    def __init__(self):
        self.table = []
        self.recording = False
        self.made = []

    def start(self, table, recording):
        self.table = table
        self.recording = recording
        self.made = []

    def call(self, name, args, kwargs):
        index = len(self.made)
        if index >= _MAX_CALLS:
            raise RuntimeError("more than %d calls in one test" % _MAX_CALLS)
        encoded = {"fn": name, "args": values.encode(list(args)), "kwargs": values.encode(dict(kwargs))}
        self.made.append(encoded)
        known = self.table[index] if index < len(self.table) else None
        if known is None or known.get("fn") != name or known.get("args") != encoded["args"] or known.get("kwargs") != encoded["kwargs"]:
            if self.recording:
                return _Placeholder()
            raise _NeedCalls()
        outcome = known.get("outcome") or {}
        if "ok" in outcome:
            for argument, after in zip(args, outcome.get("argsAfter") or []):
                _apply_mutation(argument, after)
            try:
                return values.decode(outcome["ok"])
            except values.ValueError_ as error:
                raise TypeError("the solution returned a value that does not decode (%s)" % error)
        if "error" in outcome:
            raise _exception_of(outcome["error"])
        if outcome.get("timeout"):
            raise _CallTimedOut()
        raise _CallNotRun()


_CALLS = _Calls()


def _proxy(name):
    def call(*args, **kwargs):
        return _CALLS.call(name, args, kwargs)
    call.__name__ = name
    call.__qualname__ = name
    return call


def _on_alarm(signum, frame):
    raise _Timeout()


signal.signal(signal.SIGALRM, _on_alarm)


class _AssertToExpression(ast.NodeTransformer):
    """Recording: `assert X, M` becomes `X`, so a failed check does not stop the test before its later calls."""

    def visit_Assert(self, node):
        return ast.copy_location(ast.Expr(value=self.visit(node.test)), node)


def _compile(node, name, recording):
    tree = ast.Module(body=[node], type_ignores=[])
    if recording:
        tree = _AssertToExpression().visit(ast.parse(ast.unparse(tree)))
    return compile(ast.fix_missing_locations(tree), name, "exec")


def _equality(node):
    test = node.test if isinstance(node, ast.Assert) else None
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq):
        return (compile(ast.fix_missing_locations(ast.Expression(test.left)), "<test>", "eval"),
                compile(ast.fix_missing_locations(ast.Expression(test.comparators[0])), "<test>", "eval"))
    return None


def _segment(code, node):
    return ast.get_source_segment(code, node) or ast.unparse(node)


def _bound_names(tree):
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            for argument in node.args.args + node.args.kwonlyargs + node.args.posonlyargs if not isinstance(node, ast.ClassDef) else []:
                names.add(argument.arg)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
    return names


def _loaded_names(tree):
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}


def _plan():
    """[(kind, node, meta, source name, code)]: kind is setup | test | broken | bind."""
    steps = []
    trees = []
    for source in _SUITE["sources"]:
        origin, prefix, form, code = source["origin"], source["idPrefix"], source["form"], source["code"]
        name = "<%s tests>" % origin
        try:
            tree = ast.parse(code)
        except SyntaxError as error:
            meta = {"id": prefix if form == "single" else prefix + "0", "origin": origin, "assertion": _short(code.strip())}
            steps.append(("broken", None, dict(meta, error={"type": "SyntaxError", "message": _short(str(error))}), name, code))
            continue
        trees.append(tree)
        if form == "single":
            steps.append(("test", tree, {"id": prefix, "origin": origin, "assertion": _short(code.strip())}, name, code))
            continue
        check = None
        if form == "check-function":
            for node in tree.body:
                if isinstance(node, ast.FunctionDef) and node.name == "check":
                    check = node
        count = 0
        for node in tree.body:
            if node is check:
                continue
            if form == "statements" and not isinstance(node, _DECLARATIONS):
                steps.append(("test", node, {"id": "%s%d" % (prefix, count), "origin": origin, "assertion": _short(_segment(code, node))}, name, code))
                count += 1
            else:
                steps.append(("setup", node, None, name, code))
        if check is not None:
            if check.args.args:
                steps.append(("bind", check.args.args[0].arg, None, name, code))
            for node in check.body:
                if isinstance(node, _DECLARATIONS):
                    steps.append(("setup", node, None, name, code))
                else:
                    steps.append(("test", node, {"id": "%s%d" % (prefix, count), "origin": origin, "assertion": _short(_segment(code, node))}, name, code))
                    count += 1
    return steps, trees


def _run_limited(function):
    random.seed(_SEED)
    started = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, _PER_TEST_S)
    try:
        return function(), None, time.monotonic() - started
    except BaseException as error:
        return None, error, time.monotonic() - started
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _judge(node, code, name, namespace):
    """Runs one test statement against the table; returns the result record (without id/type)."""
    equality = _equality(node)
    compiled = _compile(node, name, False)
    details = {}

    def run():
        if equality is not None:
            actual = eval(equality[0], namespace)
            expected = eval(equality[1], namespace)
            details["actual"] = _repr(actual)
            if not actual == expected:
                details["expected"] = _repr(expected)
                raise AssertionError("%s != %s" % (details["actual"], details["expected"]))
            return
        exec(compiled, namespace)

    _, error, seconds = _run_limited(run)
    details["durationMs"] = round(seconds * 1000, 3)
    if error is None:
        return dict(details, status="passed")
    if isinstance(error, _NeedCalls):
        return None
    if isinstance(error, (_Timeout, _CallTimedOut)):
        return dict(details, status="timed-out", exception={"type": "TimeoutError", "message": "exceeded the %d ms per-test limit" % _SUITE["perTestMs"]})
    if isinstance(error, _CallNotRun):
        return dict(details, status="not-run", exception={"type": "ProcessEnded", "message": "the solution's process ended before this call returned"})
    if isinstance(error, AssertionError):
        return dict(details, status="failed", exception={"type": "AssertionError", "message": _short(str(error))})
    if isinstance(error, MemoryError):
        return dict(details, status="memory-exceeded", exception={"type": "MemoryError", "message": ""})
    trace = "".join(traceback.format_exception(type(error), error, error.__traceback__)[-3:])
    return dict(details, status="error", exception={"type": type(error).__name__, "message": _short(str(error))}, traceback=_short(trace))


def _main():
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    prompt = _SUITE.get("prompt") or ""
    if prompt:
        try:
            exec(compile(prompt, "<prompt>", "exec"), namespace)
        except BaseException:
            pass  # a prompt that does not run alone only loses its helpers
    steps, trees = _plan()
    bound = set()
    loaded = set()
    for tree in trees:
        bound |= _bound_names(tree)
        loaded |= _loaded_names(tree)
    entry = _SUITE.get("entryPoint") or ""
    names = set(_SUITE.get("proxyNames") or [])
    for name in sorted(loaded - bound - names):
        if name in namespace or hasattr(builtins, name):
            continue
        # A module the tests use without importing it (the solution imported it, e.g. MBPP's `sys.getsizeof`).
        try:
            namespace[name] = importlib.import_module(name) if importlib.util.find_spec(name) else None
        except BaseException:
            namespace[name] = None
        if namespace[name] is None:
            del namespace[name]
            names.add(name)
    if entry:
        names.add(entry)
    for name in names:
        namespace[name] = _proxy(name)
    _emit({"type": "plan", "tests": [meta for kind, _, meta, _, _ in steps if kind in ("test", "broken")],
           "proxies": sorted(names)})
    results = _SUITE.get("results") or {}
    pending = []  # setup steps since the last test: their calls belong to the next test
    for kind, node, meta, name, code in steps:
        if kind == "broken":
            _emit(dict(type="test", id=meta["id"], status="error", exception=meta["error"]))
        elif kind == "bind":
            namespace[node] = namespace.get(entry) if entry else None
        elif kind == "setup":
            pending.append((node, name))
        else:
            table = results.get(meta["id"]) or []
            _CALLS.start(table, False)
            record = None
            needs = False
            for setup, setup_name in pending:
                _, error, _ = _run_limited(lambda: exec(_compile(setup, setup_name, False), namespace))
                needs = needs or isinstance(error, _NeedCalls)
            if not needs:
                record = _judge(node, code, name, namespace)
            if record is None:
                # Record every call of this test (setup included) with the table's answers where they fit.
                _CALLS.start(table, True)
                for setup, setup_name in pending:
                    _run_limited(lambda: exec(_compile(setup, setup_name, True), namespace))
                compiled = _compile(node, name, True)
                _run_limited(lambda: exec(compiled, namespace))
                record = {"status": "needs-calls", "calls": _CALLS.made}
            pending = []
            _emit(dict(record, type="test", id=meta["id"]))
    _emit({"type": "done"})


_main()
sys.stdout.flush()
os._exit(0)
