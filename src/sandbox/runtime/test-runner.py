# codeloop per-test runner for Python (src/sandbox/run-tests.ts). Runs INSIDE the sandbox, in the same process as the
# untrusted candidate: the sandbox is the security boundary, not this file. Its results are diagnostics for the loop
# (which test failed, expected vs actual); the final verdict of a solve comes from the task's own reference harness.
#
# Input: suite.json next to this file (read and deleted before the candidate runs):
#   {"nonce", "solution", "perTestMs", "entryPoint", "sources": [{"origin", "idPrefix", "form", "code"}]}
# form: "check-function" (HumanEval: `def check(candidate)`, each statement of its body that is not a declaration is a
# test; other top-level code is setup), "statements" (MBPP: each top-level statement that is not a declaration is a
# test), "single" (the whole code is one test, id = idPrefix).
# Output: lines on the original stdout, each `nonce + JSON`: one {"type": "plan", "tests": [...]} before anything runs,
# then one {"type": "solution", ...} and one {"type": "test", ...} per test, then {"type": "done"}.
import ast
import json
import os
import signal
import sys
import time
import traceback

_OUT = os.dup(1)
# The candidate's prints go nowhere: they would only crowd the result lines out of the kept output (stderr stays, for
# tracebacks).
sys.stdout = open(os.devnull, 'w')
with open('suite.json', encoding='utf-8') as _file:
    _SUITE = json.load(_file)
os.remove('suite.json')
_NONCE = _SUITE['nonce']
_PER_TEST_S = _SUITE['perTestMs'] / 1000.0
_TEXT_LIMIT = 300
_DECLARATIONS = (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Global, ast.Nonlocal, ast.Pass)


def _emit(record):
    os.write(_OUT, (_NONCE + json.dumps(record) + '\n').encode('utf-8', 'replace'))


def _short(text):
    return text if len(text) <= _TEXT_LIMIT else text[:_TEXT_LIMIT] + '…'


def _repr(value):
    try:
        return _short(repr(value))
    except BaseException as error:  # a repr that raises is the candidate's problem, not ours
        return '<repr failed: %s>' % type(error).__name__


class _TestTimeout(BaseException):
    """BaseException, so that a candidate's `except Exception` does not swallow the time limit."""


def _on_alarm(signum, frame):
    raise _TestTimeout()


signal.signal(signal.SIGALRM, _on_alarm)


def _limited(run):
    """Runs run() under the per-test time limit; returns (status, details)."""
    started = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, _PER_TEST_S)
    try:
        details = run() or {}
        status = details.pop('status', 'passed')
    except _TestTimeout:
        status, details = 'timed-out', {'exception': {'type': 'TimeoutError', 'message': 'exceeded the %d ms per-test limit' % _SUITE['perTestMs']}}
    except MemoryError:
        status, details = 'memory-exceeded', {'exception': {'type': 'MemoryError', 'message': ''}}
    except AssertionError as error:
        status, details = 'failed', {'exception': {'type': 'AssertionError', 'message': _short(str(error))}}
    except BaseException as error:
        status, details = 'error', {'exception': {'type': type(error).__name__, 'message': _short(str(error))}, 'traceback': _short(''.join(traceback.format_exception(type(error), error, error.__traceback__)[-3:]))}
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    details['durationMs'] = round((time.monotonic() - started) * 1000, 3)
    return status, details


def _statement_runner(node, source_name, namespace):
    """A function that runs one statement; for `assert L == R` it reports L as actual and R as expected."""
    test = node.test if isinstance(node, ast.Assert) else None
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq):
        left = compile(ast.fix_missing_locations(ast.Expression(test.left)), source_name, 'eval')
        right = compile(ast.fix_missing_locations(ast.Expression(test.comparators[0])), source_name, 'eval')
        message = compile(ast.fix_missing_locations(ast.Expression(node.msg)), source_name, 'eval') if node.msg is not None else None

        def run():
            actual = eval(left, namespace)
            expected = eval(right, namespace)
            if actual == expected:
                # The actual value of a passing equality too: MBR-exec compares candidates by their outputs.
                return {'actual': _repr(actual)}
            text = str(eval(message, namespace)) if message is not None else ''
            return {'status': 'failed', 'actual': _repr(actual), 'expected': _repr(expected), 'exception': {'type': 'AssertionError', 'message': _short(text)}}

        return run
    code = compile(ast.fix_missing_locations(ast.Module(body=[node], type_ignores=[])), source_name, 'exec')
    return lambda: exec(code, namespace)


def _segment(code, node):
    return ast.get_source_segment(code, node) or ast.unparse(node)


def _is_declaration(node):
    return isinstance(node, _DECLARATIONS)


def _plan(namespace):
    """Steps in order: ('setup', runner, None) or ('test', runner, meta)."""
    steps = []
    for source in _SUITE['sources']:
        origin, prefix, form, code = source['origin'], source['idPrefix'], source['form'], source['code']
        name = '<%s tests>' % origin
        try:
            tree = ast.parse(code)
        except SyntaxError as error:
            meta = {'id': prefix if form == 'single' else prefix + '0', 'origin': origin, 'assertion': _short(code.strip())}
            steps.append(('broken', None, dict(meta, error={'type': 'SyntaxError', 'message': _short(str(error))})))
            continue
        if form == 'single':
            compiled = compile(tree, name, 'exec')
            steps.append(('test', (lambda compiled=compiled: exec(compiled, namespace)) if len(tree.body) != 1 else _statement_runner(tree.body[0], name, namespace), {'id': prefix, 'origin': origin, 'assertion': _short(code.strip())}))
            continue
        body = tree.body
        check = None
        if form == 'check-function':
            for node in tree.body:
                if isinstance(node, ast.FunctionDef) and node.name == 'check':
                    check = node
            body = [node for node in tree.body if node is not check]
        count = 0
        for node in body:
            if form == 'statements' and not _is_declaration(node):
                steps.append(('test', _statement_runner(node, name, namespace), {'id': '%s%d' % (prefix, count), 'origin': origin, 'assertion': _short(_segment(code, node))}))
                count += 1
            else:
                steps.append(('setup', _statement_runner(node, name, namespace), None))
        if check is not None:
            parameter = check.args.args[0].arg if check.args.args else None
            if parameter is not None:
                steps.append(('bind', parameter, None))
            for node in check.body:
                if _is_declaration(node):
                    steps.append(('setup', _statement_runner(node, name, namespace), None))
                else:
                    steps.append(('test', _statement_runner(node, name, namespace), {'id': '%s%d' % (prefix, count), 'origin': origin, 'assertion': _short(_segment(code, node))}))
                    count += 1
    return steps


def _main():
    namespace = {'__name__': '__main__', '__builtins__': __builtins__}
    steps = _plan(namespace)
    _emit({'type': 'plan', 'tests': [meta for kind, _, meta in steps if kind in ('test', 'broken')]})
    solution = _SUITE['solution']
    try:
        solution_code = compile(solution, 'solution.py', 'exec')
    except SyntaxError as error:
        _emit({'type': 'solution', 'status': 'compile-error', 'exception': {'type': 'SyntaxError', 'message': _short(str(error))}, 'traceback': _short(''.join(traceback.format_exception_only(type(error), error)))})
        _emit({'type': 'done'})
        return
    status, details = _limited(lambda: exec(solution_code, namespace))
    _emit(dict(details, type='solution', status=status))
    if status != 'passed':
        _emit({'type': 'done'})
        return
    for kind, runner, meta in steps:
        if kind == 'broken':
            _emit(dict(id=meta['id'], type='test', status='error', exception=meta['error']))
        elif kind == 'bind':
            namespace[runner] = namespace.get(_SUITE['entryPoint'])
        elif kind == 'setup':
            _limited(runner)
        else:
            status, details = _limited(runner)
            _emit(dict(details, type='test', id=meta['id'], status=status))
    _emit({'type': 'done'})


_main()
